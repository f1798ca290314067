"""The Flask application factory. Views stay thin: parse, call a service, render."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from ..errors import SyncDubError

log = logging.getLogger(__name__)

# The pages load only their own app.js and style.css and hold no inline script or style;
# the favicon is a data: URL. Nothing may frame them.
PAGE_POLICY = ("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
               "form-action 'self'; frame-ancestors 'none'")
# matplotlib's SVG styles itself inline; opened on its own it must still run nothing.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


def create_app(services) -> Flask:
    """A Flask app over ``services`` (see :func:`syncdub_companion.services.build_services`)."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = services.config.get("webhooks.max_body_bytes")
    app.extensions["syncdub"] = services

    @app.get("/healthz")
    def healthz():
        return jsonify(services.health())

    _register_blueprints(app, services)
    for rule, view in (r for batch in services.hook.syncdub_register_routes() for r in (batch or [])):
        app.add_url_rule(rule, view_func=view, endpoint=f"plugin:{rule}")
    _register_error_handlers(app)
    app.after_request(_security_headers)
    return app


def _security_headers(response):
    """On every answer, errors and webhooks included; a view that sets its own keeps it."""
    policy = SVG_POLICY if response.mimetype == "image/svg+xml" else PAGE_POLICY
    response.headers.setdefault("Content-Security-Policy", policy)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def _register_blueprints(app: Flask, services) -> None:
    """Webhook receivers and UI pages register here as they exist."""
    from . import blueprints

    for register in blueprints.REGISTRARS:
        register(app, services)


def _wants_json() -> bool:
    return request.path.startswith(("/webhooks", "/api", "/healthz")) or request.accept_mimetypes.best == "application/json"


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(SyncDubError)
    def handle_ours(exc: SyncDubError):
        status = getattr(exc, "status", 500)
        if not _wants_json():
            return _error_page(str(exc), status)
        return jsonify({"error": str(exc)}), status

    @app.errorhandler(HTTPException)
    def handle_http(exc: HTTPException):
        if _wants_json():
            return jsonify({"error": exc.description or exc.name}), exc.code
        if exc.code and exc.code >= 400:
            return _error_page(exc.description or exc.name, exc.code)
        return exc

    @app.errorhandler(Exception)
    def handle_bug(exc: Exception):
        log.exception("bug: unhandled error on %s %s", request.method, request.path)
        if not _wants_json():
            return _error_page("internal error; see the service log", 500)
        return jsonify({"error": "internal error; see the service log"}), 500


def _error_page(message: str, status: int):
    """Browsers get the error inside the site's layout (templates/error.html)."""
    from flask import render_template

    return render_template("error.html", message=message, status=status), status
