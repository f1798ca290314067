"""What every receiver shares: the secret check, payload decoding, typed errors, small parsers.

Nothing here knows Flask: the web layer hands over plain values (query args, headers,
form fields, raw body), so receivers are testable with bytes alone.
"""
from __future__ import annotations

import base64
import binascii
import hmac
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from syncdub_companion.errors import UsageError
from syncdub_companion.media import LibraryEvent


class WebhookError(UsageError):
    """A webhook that cannot be accepted; ``status`` is the HTTP answer (400 unless a subclass says)."""


class WebhookAuthError(WebhookError):
    """The secret is missing or wrong: 401, nothing queued."""

    status = 401


class WebhookTooLargeError(WebhookError):
    """The body exceeds ``webhooks.max_body_bytes``: 413."""

    status = 413


class MalformedWebhookError(WebhookError):
    """The body is not the shape this source sends: 400 with a one-line reason."""

    status = 400


class WebhookPathError(WebhookError):
    """The file path maps to a place outside ``library.roots``: 403, nothing queued."""

    status = 403


class Ignored(Exception):
    """A well-formed event this service has nothing to do with (a Test, a pause): answered 200."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


@dataclass
class WebhookRequest:
    """The parts of an HTTP request a receiver may look at."""

    body: bytes = b""
    content_type: str = ""
    args: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Receiver:
    """One source: its name, the multipart field its JSON may come in, and its normaliser."""

    source: str
    form_field: str | None
    to_events: Callable[[dict], list[LibraryEvent]]


# --- authentication -------------------------------------------------------------


def expected_token(get: Callable[[str], Any], source: str) -> str:
    """The per-source token when set, else the shared ``webhooks.token``."""
    return str(get(f"webhooks.{source}.token") or get("webhooks.token") or "")


def presented_tokens(req: WebhookRequest) -> list[str]:
    """Every secret the request carries: ?token=, X-SyncDub-Token, HTTP Basic password."""
    found = [req.args.get("token"), req.headers.get("X-SyncDub-Token")]
    auth = req.headers.get("Authorization") or ""
    if auth[:6].lower() == "basic ":
        try:
            _, _, password = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8").partition(":")
            found.append(password)
        except (binascii.Error, UnicodeDecodeError):
            pass
    return [t for t in found if t]


def check_token(expected: str, req: WebhookRequest, source: str) -> None:
    """Raise WebhookAuthError unless one presented secret equals ``expected`` (constant time)."""
    if not expected:
        raise WebhookAuthError(f"webhooks refused: set webhooks.token (or webhooks.{source}.token) first")
    want = expected.encode("utf-8")
    # Compare every candidate, so timing does not reveal which carrier was checked.
    ok = False
    for token in presented_tokens(req):
        ok |= hmac.compare_digest(token.encode("utf-8"), want)
    if not ok:
        raise WebhookAuthError(f"{source} webhook: missing or wrong token")


# --- decoding -------------------------------------------------------------------


def decode_payload(req: WebhookRequest, form_field: str | None, source: str) -> dict:
    """The JSON object of a webhook: from the multipart/form field when present, else the raw body.

    Jellyfin's plugin may label JSON ``text/plain`` and Emby may send either form, so the
    body is parsed as JSON whatever the declared content type.
    """
    if form_field and form_field in req.form:
        return load_json_object(req.form[form_field], source, f"form field '{form_field}'")
    if "multipart/form-data" in req.content_type or "x-www-form-urlencoded" in req.content_type:
        if form_field:
            raise MalformedWebhookError(f"{source} webhook: no '{form_field}' field in the form")
        raise MalformedWebhookError(f"{source} webhook: expected a JSON body, got a form")
    try:
        text = req.body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MalformedWebhookError(f"{source} webhook: body is not UTF-8 text") from None
    return load_json_object(text, source, "body")


MAX_INT_DIGITS = 30  # ids, years and numbers; Python refuses past 4,300 digits with a bare ValueError


class _NumberTooLong(ValueError):
    pass


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise _NumberTooLong(f"an integer of {len(digits)} digits")
    return int(digits)


def load_json_object(text: str, source: str, where: str) -> dict:
    if not text.strip():
        raise MalformedWebhookError(f"{source} webhook: empty {where}")
    try:
        data = json.loads(text, parse_int=_bounded_int)
    except json.JSONDecodeError as exc:
        raise MalformedWebhookError(f"{source} webhook: {where} is not JSON ({exc.msg} at line {exc.lineno} "
                                    f"column {exc.colno})") from None
    except _NumberTooLong as exc:
        raise MalformedWebhookError(f"{source} webhook: {where} holds {exc}") from None
    except RecursionError:  # thousands of nested [ or {: no webhook nests more than a few levels
        raise MalformedWebhookError(f"{source} webhook: {where} is nested too deeply") from None
    if not isinstance(data, dict):
        raise MalformedWebhookError(f"{source} webhook: {where} is JSON but not an object")
    return data


# --- small typed readers --------------------------------------------------------


def obj(data: Any, key: str, source: str, required: bool = False) -> dict:
    """``data[key]`` when it is an object; {} when absent; a 400 when required or the wrong type."""
    value = data.get(key) if isinstance(data, dict) else None
    if value is None:
        if required:
            raise MalformedWebhookError(f"{source} webhook: '{key}' is missing")
        return {}
    if not isinstance(value, dict):
        raise MalformedWebhookError(f"{source} webhook: '{key}' must be an object")
    return value


def text(data: dict, key: str, source: str, required: bool = False) -> str | None:
    """``data[key]`` as a non-empty string (numbers allowed), else None or a 400 when required."""
    value = data.get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if value is not None and not isinstance(value, str):
        raise MalformedWebhookError(f"{source} webhook: '{key}' must be a string")
    if required and not value:
        raise MalformedWebhookError(f"{source} webhook: '{key}' is missing")
    return value or None


def ascii_digits(value: str) -> bool:
    """``0``-``9`` only: str.isdigit() also takes "²" (which int() refuses) and "٣٤" (which it reads as 34)."""
    return value.isascii() and value.isdigit()


def integer(value: Any) -> int | None:
    """An int from an int or an ASCII digit string of sane length; anything else is None (these fields are optional)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if len(str(abs(value))) <= MAX_INT_DIGITS else None
    if isinstance(value, str) and ascii_digits(value.strip()) and len(value.strip()) <= MAX_INT_DIGITS:
        return int(value.strip())
    return None


def ids_from(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Provider ids with lowercased keys (``Imdb`` -> ``imdb``), empty or zero values dropped."""
    out = {}
    for key, value in mapping.items():
        if value in (None, "", 0, "0") or isinstance(value, (dict, list, bool)):
            continue
        out[f"{prefix}{str(key).lower()}"] = str(value)
    return out
