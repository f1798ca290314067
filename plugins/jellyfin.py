"""Jellyfin: resolve ``jellyfin`` webhook events and tell Jellyfin which files changed.

Config::

    [jellyfin]
    url = "http://jellyfin:8096"   # empty: this plugin does nothing
    api_key = "$env:JELLYFIN_API_KEY"   # Dashboard > API Keys
    verify_ssl = true
    timeout = 10

Lookups are ``GET /Items?ids=...&fields=Path,ProviderIds,MediaSources``. A season or
series announced alone (the webhook plugin drops children whose parent is in the same
batch) is expanded into its episodes with ``GET /Items?parentId=...&includeItemTypes=Episode&recursive=true``. Rescans post the
changed paths to ``/Library/Media/Updated``; if that fails, the item is refreshed with
``POST /Items/{id}/Refresh``.
"""
from __future__ import annotations

from syncdub_companion import hookimpl
from syncdub_companion.servers import jellyfin_client
from syncdub_companion.settings import Setting

from ._mediabrowser import changed, check, expand, resolve


@hookimpl
def syncdub_register_settings():
    return [
        Setting("jellyfin.url", "", "Jellyfin URL, e.g. http://jellyfin:8096; empty disables the Jellyfin plugin.", "url"),
        Setting("jellyfin.api_key", "", "API key from Dashboard > API Keys.", secret=True),
        Setting("jellyfin.verify_ssl", True, "Check the server's TLS certificate.", "bool"),
        Setting("jellyfin.timeout", 10, "Seconds to wait for Jellyfin to answer.", "int", minimum=1),
    ]


@hookimpl
def syncdub_resolve_item(event, services):
    """The item behind a Jellyfin webhook, with the local path; None for other sources or no jellyfin.url."""
    return resolve("jellyfin", jellyfin_client, event, services)


@hookimpl
def syncdub_expand_item(event, services):
    """The episodes of a Jellyfin season or series, one event each; None for other sources or no jellyfin.url."""
    return expand("jellyfin", jellyfin_client, event, services)


@hookimpl
def syncdub_library_changed(paths, item, services):
    changed("jellyfin", jellyfin_client, paths, item, services)


@hookimpl
def syncdub_check(services):
    return check("jellyfin", jellyfin_client, services)
