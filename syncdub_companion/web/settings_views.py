"""/settings: the config sections as forms, connection tests, and the webhook URLs to paste."""
from __future__ import annotations

import logging
from urllib.parse import quote

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for
from werkzeug.exceptions import NotFound

from ..logs import SecretFilter
from ..settings import FREE_TABLE_SECTIONS, WEBHOOK_SOURCES
from . import settings_form

log = logging.getLogger(__name__)
bp = Blueprint("settings", __name__)

WHERE_TO_PASTE = {
    "plex": "Plex Web → Settings → Webhooks → Add Webhook (needs Plex Pass).",
    "jellyfin": "Jellyfin Dashboard → Plugins → Webhook → Add Generic Destination; tick “Item Added” and “Send All Properties”.",
    "emby": "Emby Server → Settings → Notifications → Add Notification → Webhooks; event “New Media Added”, JSON.",
    "sonarr": "Sonarr → Settings → Connect → + → Webhook, method POST; triggers On Import and On Upgrade.",
    "radarr": "Radarr → Settings → Connect → + → Webhook, method POST; triggers On Import and On Upgrade.",
}
CHECKABLE = ("plex", "jellyfin", "emby", "sonarr", "radarr")


def _services():
    return current_app.extensions["syncdub"]


def webhook_urls(config, host_url: str) -> list[dict]:
    """Per source: the exact URL (with its token) and where to paste it.

    Only rendered for a logged-in user; the token is the one place a secret appears.
    """
    base = (config.get("server.public_url") or host_url).rstrip("/")
    rows = []
    for source in WEBHOOK_SOURCES:
        token = config.get(f"webhooks.{source}.token") or config.get("webhooks.token") or ""
        url = f"{base}/webhooks/{source}" + (f"?token={quote(token, safe='')}" if token else "")
        rows.append({"source": source, "url": url, "has_token": bool(token), "where": WHERE_TO_PASTE[source]})
    return rows


def _render(status: int = 200, posted=None, errors=None, section=None, checks=None):
    services = _services()
    config = services.config
    page = render_template(
        "settings.html",
        sections=settings_form.sections(config, posted, errors, section),
        webhooks=webhook_urls(config, request.host_url),
        checkable=[s for s in CHECKABLE if any(p.startswith(s + ".") for p in config.settings)],
        checks=checks,
        config_file=config.source,
        username=config.get("auth.username"),
        saved=request.args.get("saved"),
        changed=request.args.get("changed") == "1",
        proxy_header=config.get("auth.proxy_header"),
    )
    return page, status


@bp.get("/settings")
def page():
    return _render()


@bp.post("/settings/<section>")
def save(section: str):
    config = _services().config
    known = {p.split(".", 1)[0] for p in config.settings} | set(FREE_TABLE_SECTIONS)
    if section not in known:
        raise NotFound(f"no settings section {section!r}")
    before = config
    errors = settings_form.save(_services(), section, request.form)
    if errors:
        return _render(400, request.form, errors, section)
    # the note shows inside the saved section, which is where the browser lands (#section)
    changed = "1" if _services().config is not before else "0"
    return redirect(url_for("settings.page", saved=section, changed=changed) + f"#{section}")


@bp.post("/settings/check")
def check():
    """Run every plugin's connection test; JSON for the page's buttons, HTML otherwise."""
    services = _services()
    results = run_checks(services)
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"results": results})
    return _render(checks=results)


def run_checks(services) -> list[dict]:
    """``syncdub_check`` results as dicts, with any secret scrubbed from the messages."""
    scrub = SecretFilter(services.config.secrets()).scrub
    try:
        batches = services.hook.syncdub_check(services=services)
    except Exception as exc:  # a plugin's check must not take the settings page down
        log.exception("syncdub_check failed")
        return [{"name": "check", "ok": False, "message": scrub(f"the check itself failed: {exc}")}]
    rows = []
    for batch in batches:
        for name, ok, message in batch or []:
            rows.append({"name": str(name), "ok": bool(ok), "message": scrub(str(message))})
    return rows
