"""Logging to stderr and a rotating file, with secrets scrubbed and control characters escaped in every record."""
from __future__ import annotations

import logging
import logging.handlers
import re
import traceback
from pathlib import Path
from typing import Iterable
from urllib.parse import urlparse

_SECRET_NAME = r"[\w.-]*?(?:token|api[_-]?key|password|passwd|secret|signature|auth)"
# Only where the syntax says "a value follows": prose such as "file /etc/passwd: outside the
# library roots" or "webhooks.token: must be a string" must survive whole.
_TOKEN_PATTERNS = [
    # URL query parameters: ?X-Plex-Token=..., &api_key=..., &access_token=...
    re.compile(rf"(?i)([?&;]{_SECRET_NAME}=)[^&\s\"'#]+"),
    # key=value pairs: password=..., token = "..."
    re.compile(rf"(?i)(\b{_SECRET_NAME}[\"']?\s*=\s*[\"']?)[^\s\"',}}&]+"),
    # a quoted key: "token": "..." (JSON), 'X-Emby-Token': '...' (a Python dict)
    re.compile(rf"(?i)([\"']{_SECRET_NAME}[\"']\s*:\s*[\"']?)[^\s\"',}}&]+"),
    # an HTTP header, whose name has a hyphen: X-Plex-Token: ..., X-Api-Key: ...
    re.compile(rf"(?i)((?<![\w/\\.-])[a-z][a-z0-9]*-{_SECRET_NAME}\s*:\s*)[^\s\"',}}&]+"),
    # Authorization: Basic/Bearer credentials, and Emby's MediaBrowser Token="..."
    re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?(?:basic|bearer)\s+)[^\s\"',}]+"),
    re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9+/=._~-]{16,}"),
    re.compile(r'(?i)(token=")[^"]+'),
    # user:password@ in URLs, the user too: a notification URL's "user" is often a key
    re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://)[^/\s:@]+:[^@\s/]+(?=@)"),
]
MASK = "********"


# A plain word: "syncdub", "movies", "Topic". Masking one would mask it in every line.
_PLAIN_WORD = re.compile(r"[A-Za-z][a-z]*")


def looks_like_a_token(piece: str) -> bool:
    """Whether a piece of a secret URL is worth masking wherever it appears: an id or a
    token ("123456789012", "webhookTOKENabc", "my-private-topic"), not an ordinary word
    or anything shorter than 6 characters."""
    return len(piece) >= 6 and not (len(piece) < 16 and _PLAIN_WORD.fullmatch(piece))


def url_secret_pieces(url: str) -> list[str]:
    """The pieces of a secret URL (an Apprise notification URL) that a library may log on
    their own: its user and password, its path segments and query values, its host where
    the "host" is an id (discord://WEBHOOK_ID/TOKEN). Only those that look like tokens: the
    URL as a whole is masked anyway, and the patterns catch a password or a token
    parameter in any URL."""
    parts = urlparse(url)
    try:
        password, username, hostname = parts.password, parts.username, parts.hostname
    except ValueError:  # a malformed port or netloc: the whole URL is still masked
        return []
    pieces = [password, username, *parts.path.split("/"),
              *(v for pair in parts.query.split("&") for v in pair.split("=", 1)[1:])]
    if hostname and "." not in hostname and hostname != "localhost":
        pieces.append(hostname)
    return [piece for piece in pieces if piece and looks_like_a_token(piece)]


class SecretFilter(logging.Filter):
    """Replaces known secret values and token-looking parameters with ********.

    It scrubs the rendered message and any traceback text, because exceptions from HTTP
    libraries often quote the full URL, token included.
    """

    def __init__(self, secrets: Iterable[str] = ()):
        super().__init__()
        # Longest first, so a secret that contains a shorter one is masked whole.
        self.secrets = sorted({s for s in secrets if isinstance(s, str) and len(s) >= 4}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        """``text`` with every secret value and token-looking parameter masked."""
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        for pattern in _TOKEN_PATTERNS:
            text = pattern.sub(rf"\g<1>{MASK}", text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.scrub(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = self.scrub(record.stack_info)
        return True


# C0 and C1 controls and DEL, plus the Unicode line and paragraph separators some viewers break on.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_controls(text: str, keep_newlines: bool = False) -> str:
    """``text`` with every control character written as an escape (``\\n``, ``\\x00``, ``\\u2028``)."""
    def escape(match: re.Match) -> str:
        char = match.group()
        if keep_newlines and char == "\n":
            return char
        return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")

    return _CONTROL.sub(escape, text)


def format_exception(exc_info) -> str:
    """The traceback as logging writes it, but each exception's message kept to its own line(s).

    A traceback is many lines by nature; only the messages (``OSError: /x<newline>FAKE``)
    carry outside text, so only their line breaks are escaped, chained exceptions included.
    """
    te = traceback.TracebackException(*exc_info)
    text = "".join(te.format()).rstrip("\n")
    seen: set[int] = set()
    while te is not None and id(te) not in seen:
        seen.add(id(te))
        for line in te.format_exception_only():
            body = line.rstrip("\n")
            if "\n" in body:
                text = text.replace(body, escape_controls(body))
        te = te.__cause__ or (None if te.__suppress_context__ else te.__context__)
    return escape_controls(text, keep_newlines=True)


class ControlCharFilter(logging.Filter):
    """One record, one line: a newline in a logged path must not forge a line of its own.

    The message is escaped whole, a traceback everywhere but its own line breaks; NUL and
    every other control character become visible escapes.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = escape_controls(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info:  # even when set: another handler's formatter may have cached it raw
            record.exc_text = format_exception(record.exc_info)
        elif record.exc_text:
            record.exc_text = escape_controls(record.exc_text, keep_newlines=True)
        if record.stack_info:
            record.stack_info = escape_controls(record.stack_info, keep_newlines=True)
        return True


def setup_logging(level: str = "info", data_dir: Path | None = None, secrets: Iterable[str] = ()) -> None:
    """Log to stderr and ``data_dir/logs/syncdub.log`` (rotating), secrets scrubbed, controls escaped.

    Configures the root logger; later calls replace the handlers this function added.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_syncdub", False):
            root.removeHandler(handler)
    secret_filter, control_filter = SecretFilter(secrets), ControlCharFilter()
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if data_dir is not None:
        log_dir = Path(data_dir) / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.handlers.RotatingFileHandler(
            log_dir / "syncdub.log", maxBytes=5 << 20, backupCount=5, encoding="utf-8"))
    for handler in handlers:
        handler._syncdub = True
        handler.setFormatter(fmt)
        # Escape first: the secret filter then scrubs the traceback text this one wrote.
        handler.addFilter(control_filter)
        handler.addFilter(secret_filter)
        root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    for noisy in ("urllib3", "waitress.queue", "faster_whisper", "sentence_transformers", "httpx", "matplotlib"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
