"""Plex: resolve ``plex`` webhook events through plexapi and rescan changed folders.

Config::

    [plex]
    url = "http://plex:32400"     # empty: this plugin does nothing
    token = "$env:PLEX_TOKEN"     # X-Plex-Token
    verify_ssl = true
    timeout = 10

The webhook carries only the ratingKey; the file path, guids and audio languages come
from ``/library/metadata/{ratingKey}``. After a merge only the changed folder is scanned
(``section.update(path=folder)``), never the whole library, and each changed file that Plex
already knows is analysed again (``PUT /library/metadata/{ratingKey}/analyze``): Plex does
not re-read a file rewritten in place, so the new track would not show. When Plex cannot be reached
or answers 5xx, the rescan raises, and the job retries it with backoff; a refused scan
(401, 404) is logged and skipped.
"""
from __future__ import annotations

import logging

from syncdub_companion import hookimpl
from syncdub_companion.errors import ServerError
from syncdub_companion.paths import local_to_server, parent_folder
from syncdub_companion.servers import localise, plex_client
from syncdub_companion.settings import Setting

log = logging.getLogger(__name__)


@hookimpl
def syncdub_register_settings():
    return [
        Setting("plex.url", "", "Plex Media Server URL, e.g. http://plex:32400; empty disables the Plex plugin.", "url"),
        Setting("plex.token", "", "X-Plex-Token of an account that can see the libraries.", secret=True),
        Setting("plex.verify_ssl", True, "Check the server's TLS certificate (turn off for self-signed https).", "bool"),
        Setting("plex.timeout", 10, "Seconds to wait for Plex to answer.", "int", minimum=1),
    ]


@hookimpl
def syncdub_resolve_item(event, services):
    """The item behind a Plex webhook, with the local path; None for other sources or no plex.url."""
    if event.source != "plex" or not event.item_id:
        return None
    client = plex_client(services.config)
    if client is None:
        return None
    with client:
        return localise(client.item(event.item_id), services.config.path_map)


@hookimpl
def syncdub_library_changed(paths, item, services):
    """Scan each changed folder (mapped to Plex's view) in the library that holds it, then
    have Plex analyse each changed file it already knows."""
    client = plex_client(services.config)
    if client is None or not paths:
        return
    path_map = services.config.path_map
    files = sorted({local_to_server(p, path_map) for p in paths})
    folders = sorted({parent_folder(f) for f in files})
    # the webhook's own item: its ratingKey spares a search of the library listing
    known = str(item.item_id) if item is not None and item.server == "plex" and item.item_id else None
    retry = None
    with client:
        for folder in folders:
            retry = _try(f"scan {folder}", lambda: _scan(client, folder)) or retry
        for file in files:
            retry = _try(f"analyse {file}", lambda: client.analyze_file(file, known)) or retry
    if retry is not None:
        raise retry


def _scan(client, folder: str) -> None:
    if client.refresh_folder(folder) is None:
        log.warning("plex: no library contains %s; check the [paths] mapping", folder)


def _try(what: str, call) -> ServerError | None:
    """Run ``call``; a refusal is logged, a transient failure is logged and returned for the retry."""
    try:
        call()
    except ServerError as exc:
        if not exc.transient:
            log.warning("plex: could not %s: %s", what, exc)
            return None
        # Plex is down or answered 5xx: the job's publish stage retries with backoff.
        log.warning("plex: could not %s, will retry: %s", what, exc)
        return exc
    return None


@hookimpl
def syncdub_check(services):
    client = plex_client(services.config)
    if client is None:
        return []
    with client:
        ok, message = client.check()
    return [("plex", ok, message)]
