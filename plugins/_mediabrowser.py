"""Hook bodies shared by the Jellyfin and Emby plugins (not a plugin itself: the leading
underscore keeps it out of the built-in list)."""
from __future__ import annotations

import logging

from syncdub_companion.errors import ServerError
from syncdub_companion.media import LibraryEvent
from syncdub_companion.paths import local_to_server
from syncdub_companion.servers import localise

log = logging.getLogger(__name__)


def resolve(name: str, factory, event, services):
    """The event's item looked up by id, with the local path; None when not ours or not configured."""
    if event.source != name or not event.item_id:
        return None
    client = factory(services.config)
    if client is None:
        return None
    with client:
        return localise(client.item(event.item_id), services.config.path_map)


def expand(name: str, factory, event, services) -> list[LibraryEvent] | None:
    """One episode event per file under the event's season or series; None when not ours."""
    if event.source != name or event.kind not in ("season", "series") or not event.item_id:
        return None
    client = factory(services.config)
    if client is None:
        return None
    with client:
        episodes = client.episodes(event.item_id)
    # The path comes along (server view, as webhooks carry it): an episode the server has
    # no provider ids for is still found by its file and its name.
    return [LibraryEvent(source=name, kind="episode", item_id=e.item_id, path=e.path, title=e.title, year=e.year,
                         series=e.series, season=e.season, episode=e.episode, provider_ids=dict(e.provider_ids),
                         audio_languages=list(e.audio_languages), server=event.server,
                         raw_event=f"{event.raw_event or 'ItemAdded'} ({event.kind} {event.item_id})")
            for e in episodes]


def changed(name: str, factory, paths, item, services) -> None:
    """Report the changed files (server paths); refresh the item by id when that is refused.

    A transient failure (server down, 5xx) that the item refresh cannot make up for is
    raised, so the job's publish stage retries; a refused request is logged and skipped.
    """
    client = factory(services.config)
    if client is None or not paths:
        return
    server_paths = [local_to_server(p, services.config.path_map) for p in paths]
    with client:
        try:
            client.media_updated(server_paths)
            log.info("%s: reported %d changed file(s)", name, len(server_paths))
            return
        except ServerError as exc:
            if not (item is not None and item.server == name and item.item_id):
                if exc.transient:
                    raise
                log.warning("%s: could not report changed files: %s", name, exc)
                return
            log.info("%s: /Library/Media/Updated failed (%s); refreshing item %s", name, exc, item.item_id)
        try:
            client.refresh_item(item.item_id)
        except ServerError as exc:
            if exc.transient:
                raise
            log.warning("%s: could not refresh item %s: %s", name, item.item_id, exc)


def check(name: str, factory, services) -> list[tuple[str, bool, str]]:
    client = factory(services.config)
    if client is None:
        return []
    with client:
        ok, message = client.check()
    return [(name, ok, message)]
