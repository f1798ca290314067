"""Emby webhooks: the JSON in a multipart ``data`` field (Emby before 4.9) or as the raw body.

Only ``library.new`` for a movie or an episode makes a job. Unlike Jellyfin, Emby's
payload carries ``Item.Path`` and ``Item.ProviderIds``, so the event holds the path.
"""
from __future__ import annotations

from syncdub_companion.media import LibraryEvent
from syncdub_companion.languages import bibliographic_codes

from .common import Ignored, Receiver, ids_from, integer, obj, text

SOURCE = "emby"
_KINDS = {"Movie": "movie", "Episode": "episode"}


def to_events(payload: dict) -> list[LibraryEvent]:
    """One event for a new movie or episode; Ignored for other events and item types."""
    event = text(payload, "Event", SOURCE, required=True)
    if event != "library.new":
        raise Ignored(f"emby event {event} is not library.new")
    item = obj(payload, "Item", SOURCE, required=True)
    item_type = text(item, "Type", SOURCE)
    if item_type not in _KINDS:
        raise Ignored(f"emby library.new for a {item_type or 'item without type'}, not a movie or episode")
    item_id = text(item, "Id", SOURCE, required=True)
    episode = item_type == "Episode"
    return [LibraryEvent(
        source=SOURCE, kind=_KINDS[item_type], item_id=item_id, path=text(item, "Path", SOURCE),
        title=text(item, "Name", SOURCE), year=integer(item.get("ProductionYear")),
        series=text(item, "SeriesName", SOURCE) if episode else None,
        season=integer(item.get("ParentIndexNumber")) if episode else None,
        episode=integer(item.get("IndexNumber")) if episode else None,
        provider_ids=ids_from(obj(item, "ProviderIds", SOURCE)),
        audio_languages=bibliographic_codes(_audio_languages(item)),
        server=text(item, "ServerId", SOURCE) or text(obj(payload, "Server", SOURCE), "Id", SOURCE),
        raw_event=event,
    )]


def _audio_languages(item: dict) -> list:
    streams = list(item.get("MediaStreams") or [])
    for source in item.get("MediaSources") or []:
        if isinstance(source, dict):
            streams += source.get("MediaStreams") or []
    return [s.get("Language") for s in streams if isinstance(s, dict) and s.get("Type") == "Audio"]


RECEIVER = Receiver(SOURCE, "data", to_events)
