"""The one factory for HTTP sessions: default timeouts, retries on connection errors, a User-Agent.

Every media-server client (our own and plexapi's) gets its session here, so no request
can hang forever and no URL is logged with its token in it.
"""
from __future__ import annotations

import logging
import re
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from . import __version__

log = logging.getLogger(__name__)

USER_AGENT = f"SyncDub-Companion/{__version__}"
DEFAULT_TIMEOUT = (5.0, 30.0)  # (connect, read) seconds
_SECRET_PARAM = re.compile(r"(?i)([?&](?:token|api_key|apikey|x-plex-token|x-emby-token)=)[^&#]*")


class TimeoutSession(requests.Session):
    """A Session that applies a default timeout to every request that does not set one."""

    def __init__(self, timeout: float | tuple[float, float] = DEFAULT_TIMEOUT):
        super().__init__()
        self.default_timeout = timeout

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().request(method, url, *args, **kwargs)


def redact_url(url: str) -> str:
    """``url`` with token-like query parameters replaced by ********."""
    return _SECRET_PARAM.sub(r"\1********", url)


def _log_response(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    # Only method, redacted URL and status: headers carry the tokens and are never logged.
    log.debug("%s %s -> %s", response.request.method, redact_url(response.url), response.status_code)


def make_session(*, timeout: float | tuple[float, float] = DEFAULT_TIMEOUT, retries: int = 3,
                 backoff: float = 0.5, verify: bool = True, headers: dict[str, str] | None = None) -> TimeoutSession:
    """A requests Session for one server.

    Connection failures (refused, DNS, connect timeout) are retried ``retries`` times with
    exponential backoff starting at ``backoff`` seconds. Read errors and HTTP status codes
    are not retried here: a POST that reached the server must not be sent twice, and the
    caller decides what a 5xx means.
    """
    session = TimeoutSession(timeout)
    # read=False re-raises read errors as they are (a ReadTimeout stays a ReadTimeout).
    retry = Retry(total=retries, connect=retries, read=False, status=0, other=0, redirect=5,
                  backoff_factor=backoff, allowed_methods=None, raise_on_status=False)
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.verify = verify
    session.headers["User-Agent"] = USER_AGENT
    session.headers.update(headers or {})
    session.hooks["response"].append(_log_response)
    return session
