"""CSRF protection for the pages: one random token per session, checked on every unsafe request.

Forms carry it as a hidden ``csrf_token`` field (templates call ``csrf_token()``); the
little JavaScript on the pages sends it as the ``X-CSRF-Token`` header. Webhooks are
exempt: they carry their own token and never use the session.
"""
from __future__ import annotations

import hmac
import secrets

from flask import Flask, abort, request, session

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
EXEMPT_PREFIXES = ("/webhooks/",)


def csrf_token() -> str:
    """This session's token, created on first use."""
    token = session.get(FIELD)
    if not token:
        token = session[FIELD] = secrets.token_urlsafe(32)
    return token


def check_request() -> None:
    """Abort with 400 when an unsafe request lacks this session's token."""
    if request.method not in UNSAFE_METHODS or request.path.startswith(EXEMPT_PREFIXES):
        return
    sent = request.headers.get(HEADER) or request.form.get(FIELD) or ""
    expected = session.get(FIELD) or ""
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, description="The form's security token is missing or out of date; reload the page and try again.")


def init_app(app: Flask) -> None:
    """Check tokens before every request and expose ``csrf_token()`` to templates."""
    app.before_request(check_request)
    app.jinja_env.globals["csrf_token"] = csrf_token
