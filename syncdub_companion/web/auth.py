"""Login for the pages: one user from ``[auth]``, a first-run setup link, an optional proxy header.

* ``auth.username`` + ``auth.password_hash`` (written by ``syncdub user set`` or the
  setup page) log in through ``/login``; the session cookie is signed, HttpOnly and
  SameSite=Lax, and names a server-side session id (web/sessions.py) that logout deletes.
  Changing the password ends every existing session.
* With no user yet, ``syncdub serve`` prints a one-time ``/setup/<token>`` link; the token
  lives in ``data_dir/setup_token`` and is deleted once used.
* ``auth.proxy_header`` (e.g. ``Remote-User``) trusts an authenticating reverse proxy.
  Only use it when the proxy is the only way to reach this service.
* Failed logins are rate-limited per client address and per username.

Webhooks and /healthz need no login; JSON endpoints answer 401 and audio clips 403 instead of redirecting.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from werkzeug.security import check_password_hash

from ..configfile import SETUP_TOKEN_FILE, user_changes
from ..errors import UsageError
from . import settings_form
from .ratelimit import LoginRateLimiter
from .sessions import SESSIONS_FILE, SessionRegistry

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)
PUBLIC_PREFIXES = ("/login", "/setup/", "/static/", "/healthz", "/webhooks/", "/favicon.ico")
MEDIA_SUFFIXES = (".m4a",)  # the job page's listening clips
SECRET_KEY_FILE = "secret_key"
SESSION_DAYS = 14
PERMANENT_LIFETIME = timedelta(days=SESSION_DAYS)


def _services():
    return current_app.extensions["syncdub"]


def needs_setup(config) -> bool:
    """True while no login exists and no proxy header is trusted."""
    return not (config.get("auth.username") and config.get("auth.password_hash")) and not config.get("auth.proxy_header")


def password_fingerprint(password_hash: str, key: bytes | str) -> str:
    """A short keyed digest of the hash; stored in the session so a new password ends old sessions."""
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, (password_hash or "").encode(), hashlib.sha256).hexdigest()[:24]


def current_user() -> str | None:
    """The logged-in user's name, or None."""
    config = _services().config
    header = config.get("auth.proxy_header")
    if header and request.headers.get(header):
        return request.headers[header]
    user = session.get("user")
    if not user or user != config.get("auth.username") or not _sessions().valid(session.get("sid")):
        return None
    expected = password_fingerprint(config.get("auth.password_hash"), current_app.secret_key)
    return user if hmac.compare_digest(session.get("pw", ""), expected) else None


def _sessions() -> SessionRegistry:
    return current_app.extensions["syncdub_sessions"]


def verify_password(config, username: str, password: str) -> bool:
    stored_user, stored_hash = config.get("auth.username") or "", config.get("auth.password_hash") or ""
    try:
        ok = check_password_hash(stored_hash, password) if stored_hash else False
    except (ValueError, TypeError):  # a hand-edited hash that werkzeug cannot read
        ok = False
    return ok and bool(stored_user) and hmac.compare_digest(username.encode(), stored_user.encode())


def _log_in(username: str) -> None:
    """A fresh session (no fixation), remembered for SESSION_DAYS."""
    config = _services().config
    _sessions().end(session.get("sid"))
    session.clear()
    session["sid"] = _sessions().start()
    session["user"] = username
    session["pw"] = password_fingerprint(config.get("auth.password_hash"), current_app.secret_key)
    session.permanent = True


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def require_login():
    """before_request: every page except the public ones needs a user."""
    if request.path == "/" or request.path.startswith(PUBLIC_PREFIXES) or current_user():
        return None
    if wants_json():
        return jsonify({"error": "login required"}), 401
    if request.path.endswith(MEDIA_SUFFIXES):  # an <audio> element cannot follow a redirect to a form
        return "login required", 403
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def safe_next(target: str | None) -> str:
    """Only a path on this site: an attacker's ?next=https://evil must not turn login into a redirector.

    Browsers drop tabs and newlines inside a URL and read a backslash as a slash, so
    ``/%09/evil.example`` (a tab) is followed as ``//evil.example``; a newline would also break the
    Location header. Any such character sends the user to the jobs list instead.
    """
    if target and target.startswith("/") and not target.startswith("//") and all(map(_plain, target)):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("jobs.list_page")


def _plain(char: str) -> bool:
    return char.isprintable() and not char.isspace() and char != "\\"


@bp.get("/")
def index():
    return redirect(url_for("jobs.list_page") if current_user() else url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    config = _services().config
    if request.method == "GET":
        if current_user():
            return redirect(safe_next(request.args.get("next")))
        return render_template("login.html", needs_setup=needs_setup(config), next=request.args.get("next", ""))
    username = request.form.get("username", "").strip()
    limiter: LoginRateLimiter = current_app.extensions["syncdub_login_limiter"]
    client = request.remote_addr or "?"
    wait = limiter.wait_seconds(client, username)
    if wait:
        return _login_error(f"Too many failed logins. Try again in {wait} seconds.", 429, username)
    if not verify_password(config, username, request.form.get("password", "")):
        limiter.failed(client, username)
        log.warning("failed login for %r from %s", username[:64], client)
        return _login_error("Wrong username or password.", 401, username)
    limiter.succeeded(client)
    _log_in(username)
    return redirect(safe_next(request.form.get("next")))


def _login_error(message: str, status: int, username: str):
    page = render_template("login.html", error=message, username=username, next=request.form.get("next", ""),
                           needs_setup=needs_setup(_services().config))
    return page, status


@bp.post("/logout")
def logout():
    _sessions().end(session.get("sid"))  # a copy of the cookie must not outlive the logout
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/setup/<token>", methods=["GET", "POST"])
def setup(token: str):
    """The one-time first-run page: choose the username and password."""
    services = _services()
    if not needs_setup(services.config) or not setup_token_matches(services.config, token):
        return render_template("error.html", status=404, message="This setup link is unknown or already used."), 404
    if request.method == "GET":
        return render_template("setup.html", token=token)
    username, password = request.form.get("username", ""), request.form.get("password", "")
    try:
        if password != request.form.get("password2", ""):
            raise UsageError("the two passwords differ")
        changes = user_changes(username, password)
    except UsageError as exc:
        return render_template("setup.html", token=token, error=str(exc), username=username), 400
    problems = settings_form.apply(services, changes)
    if problems:
        return render_template("setup.html", token=token, error="; ".join(problems.values()), username=username), 400
    setup_token_path(services.config).unlink(missing_ok=True)
    log.info("first-run setup: login %r created", changes["auth.username"])
    _log_in(changes["auth.username"])
    return redirect(url_for("jobs.list_page"))


@bp.post("/settings/password")
def change_password():
    """Change the logged-in user's password; the current one must be given."""
    services = _services()
    form = request.form
    user = services.config.get("auth.username")
    try:
        if not verify_password(services.config, user or "", form.get("current", "")):
            raise UsageError("the current password is wrong")
        if form.get("password", "") != form.get("password2", ""):
            raise UsageError("the two new passwords differ")
        problems = settings_form.apply(services, user_changes(user, form.get("password", "")))
        if problems:
            raise UsageError("; ".join(problems.values()))
    except UsageError as exc:
        flash(f"Password not changed: {exc}", "error")
        return redirect(url_for("settings.page") + "#auth")
    _log_in(user)
    flash("Password changed; other sessions are logged out.", "ok")
    return redirect(url_for("settings.page") + "#auth")


def setup_token_path(config) -> Path:
    return config.data_dir / SETUP_TOKEN_FILE


def setup_token_matches(config, token: str) -> bool:
    path = setup_token_path(config)
    try:
        stored = path.read_text().strip()
    except OSError:
        return False
    return bool(stored) and hmac.compare_digest(stored.encode(), token.encode())


def ensure_setup_token(config) -> str | None:
    """The setup token (made once, kept across restarts), or None when a user exists."""
    if not needs_setup(config):
        return None
    path = setup_token_path(config)
    if path.is_file() and path.read_text().strip():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    _write_private(path, token)
    return token


def setup_link(config) -> str | None:
    """The full first-run link to print, or None when a login exists."""
    token = ensure_setup_token(config)
    if token is None:
        return None
    base = config.get("server.public_url")
    if not base:
        host = config.get("server.host")
        host = "localhost" if host in ("0.0.0.0", "::", "") else host
        base = f"http://{host}:{config.get('server.port')}"
    return f"{base.rstrip('/')}/setup/{token}"


def announce_setup(services) -> None:
    """Called by ``syncdub serve``: print the setup link on stdout (never into the log file)."""
    link = setup_link(services.config)
    if link:
        print(f"\nNo login is set up yet. Open this one-time link to create one:\n  {link}\n"
              f"(or run: syncdub user set USERNAME)\n", flush=True)
        log.warning("no login is set up yet; the one-time setup link was printed on stdout")


def secret_key(config) -> bytes:
    """auth.secret_key, else a random key made once in data_dir (so restarts keep sessions)."""
    configured = config.get("auth.secret_key")
    if configured:
        return configured.encode()
    path = config.data_dir / SECRET_KEY_FILE
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_private(path, secrets.token_hex(32))
    return path.read_text().strip().encode()


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)


def init_app(app: Flask, services) -> None:
    """Session cookie settings, the login guard and the auth routes."""
    app.secret_key = secret_key(services.config)
    app.config.update(SESSION_COOKIE_NAME="syncdub_session", SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax", PERMANENT_SESSION_LIFETIME=PERMANENT_LIFETIME)
    app.extensions["syncdub_login_limiter"] = LoginRateLimiter()
    app.extensions["syncdub_sessions"] = SessionRegistry(services.config.data_dir / SESSIONS_FILE,
                                                         PERMANENT_LIFETIME.total_seconds())
    app.before_request(require_login)
    app.context_processor(lambda: {"current_user": current_user()})
    app.register_blueprint(bp)
