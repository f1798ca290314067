"""Emby: resolve ``emby`` webhook events and tell Emby which files changed.

Config::

    [emby]
    url = "http://emby:8096"   # empty: this plugin does nothing
    api_key = "$env:EMBY_API_KEY"
    verify_ssl = true
    timeout = 10

Emby's webhook carries the path and provider ids, so resolving needs no request unless
a payload lacks them. Rescans work like Jellyfin's: ``/Library/Media/Updated``, then
``/Items/{id}/Refresh`` as the fallback.
"""
from __future__ import annotations

from syncdub_companion import hookimpl
from syncdub_companion.servers import emby_client, item_from_event
from syncdub_companion.settings import Setting

from ._mediabrowser import changed, check, resolve


@hookimpl
def syncdub_register_settings():
    return [
        Setting("emby.url", "", "Emby URL, e.g. http://emby:8096; empty disables the Emby plugin.", "url"),
        Setting("emby.api_key", "", "API key from Emby's Settings > Advanced > API Keys.", secret=True),
        Setting("emby.verify_ssl", True, "Check the server's TLS certificate.", "bool"),
        Setting("emby.timeout", 10, "Seconds to wait for Emby to answer.", "int", minimum=1),
    ]


@hookimpl
def syncdub_resolve_item(event, services):
    """The item from the payload itself when it has a path, else from the API."""
    if event.source != "emby" or not services.config.get("emby.url"):
        return None
    return item_from_event(event, services.config.path_map) or resolve("emby", emby_client, event, services)


@hookimpl
def syncdub_library_changed(paths, item, services):
    changed("emby", emby_client, paths, item, services)


@hookimpl
def syncdub_check(services):
    return check("emby", emby_client, services)
