"""The web pages' registrar: session and login, CSRF, the page blueprints, template helpers.

Listed in :data:`syncdub_companion.web.blueprints.REGISTRARS`; ``create_app`` calls
:func:`register` once per app.
"""
from __future__ import annotations

import time
from pathlib import PurePath

from flask import Blueprint, Flask, current_app, render_template

from .. import health
from ..logs import SecretFilter
from ..plugins import describe_plugins
from . import auth, csrf, jobs_views, library, listen, resync, settings_views

bp = Blueprint("plugins_page", __name__)


@bp.get("/plugins")
def plugins():
    services = current_app.extensions["syncdub"]
    return render_template("plugins.html", plugins=describe_plugins(services.pm))


def _scrub(text) -> str:
    """Template filter: job logs and errors may quote a URL; never let a secret through."""
    services = current_app.extensions["syncdub"]
    return SecretFilter(services.config.secrets()).scrub("" if text is None else str(text))


def _when(stamp) -> str:
    if not stamp:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(stamp)))


def _percent(value) -> str:
    return f"{float(value or 0):.0f}%"  # jobs store progress in percent


def _basename(path) -> str:
    return PurePath(str(path)).name if path else ""


def _health_problems() -> list:
    """For the banner on every page, once logged in: the paths in it are not for strangers."""
    if not auth.current_user():
        return []
    try:
        return health.problems(current_app.extensions["syncdub"])
    except Exception:  # noqa: BLE001 - a broken check must not take every page down
        current_app.logger.exception("health checks failed")
        return []


def register(app: Flask, services) -> None:
    """Attach login, CSRF and every page to ``app``."""
    auth.init_app(app, services)  # the login guard runs before the CSRF check
    csrf.init_app(app)
    for blueprint in (settings_views.bp, jobs_views.bp, resync.bp, bp):
        app.register_blueprint(blueprint)
    library.init_app(app)
    listen.init_app(app)
    app.jinja_env.filters.update(scrub=_scrub, when=_when, percent=_percent, basename=_basename)
    app.context_processor(lambda: {"health_problems": _health_problems})
    app.jinja_env.globals["nav"] = (("jobs.list_page", "Jobs"), ("resync.page", "Re-sync"),
                                    ("library.page", "Library"), ("library.wanted_page", "Wanted"),
                                    ("settings.page", "Settings"),
                                    ("plugins_page.plugins", "Plugins"))
