"""Jellyfin webhooks (jellyfin-plugin-webhook, Generic destination with "Send All Properties").

The plugin sends JSON, often labelled ``text/plain``. ``ItemId`` comes as 32 hex digits,
or hyphenated when a template formats it; both are stored without hyphens. The payload
has no file path: the jellyfin plugin looks it up when the job starts. When a whole season
arrives, the plugin may announce only the Season or the Series (it drops a child whose parent
is in the same batch); that event becomes a job that the jellyfin plugin expands into one
job per episode.
"""
from __future__ import annotations

import re

from syncdub_companion.media import LibraryEvent
from syncdub_companion.languages import bibliographic_codes

from .common import Ignored, MalformedWebhookError, Receiver, integer, text

SOURCE = "jellyfin"
_KINDS = {"Movie": "movie", "Episode": "episode", "Season": "season", "Series": "series"}
_ITEM_ID = re.compile(r"^[0-9a-f]{32}$")
_AUDIO_LANGUAGE = re.compile(r"^Audio_[0-9]+_Language$")


def to_events(payload: dict) -> list[LibraryEvent]:
    """One event for an added movie, episode, season or series; Ignored for other notifications and item types."""
    kind_of_event = text(payload, "NotificationType", SOURCE, required=True)
    if kind_of_event != "ItemAdded":
        raise Ignored(f"jellyfin notification {kind_of_event} is not ItemAdded")
    item_type = text(payload, "ItemType", SOURCE)
    if item_type not in _KINDS:
        raise Ignored(f"jellyfin ItemAdded for a {item_type or 'item without type'}, "
                      "not a movie, episode, season or series")
    item_id = plain_id(text(payload, "ItemId", SOURCE, required=True))
    episode = item_type in ("Episode", "Season")
    return [LibraryEvent(
        source=SOURCE, kind=_KINDS[item_type], item_id=item_id,
        title=text(payload, "Name", SOURCE), year=integer(payload.get("Year")),
        series=text(payload, "SeriesName", SOURCE) if episode else None,
        season=_number(payload, "SeasonNumber") if episode else None,
        episode=_number(payload, "EpisodeNumber") if item_type == "Episode" else None,
        provider_ids=_provider_ids(payload),
        audio_languages=bibliographic_codes(v for k, v in sorted(payload.items()) if _AUDIO_LANGUAGE.match(k)),
        server=text(payload, "ServerId", SOURCE), raw_event=kind_of_event,
    )]


def plain_id(item_id: str) -> str:
    """``F8FA7A60-8E0A-...`` or ``f8fa7a608e0a...`` -> 32 lowercase hex digits, else a 400."""
    plain = item_id.replace("-", "").strip().lower()
    if not _ITEM_ID.match(plain):
        raise MalformedWebhookError(f"jellyfin webhook: ItemId {item_id!r} is not a Jellyfin id (32 hex digits)")
    return plain


def _number(payload: dict, key: str) -> int | None:
    # Templates may only expose the zero-padded SeasonNumber00 / EpisodeNumber00 forms.
    for variant in (key, f"{key}00", f"{key}000"):
        value = integer(payload.get(variant))
        if value is not None:
            return value
    return None


def _provider_ids(payload: dict) -> dict[str, str]:
    # "Send All Properties" flattens ProviderIds into Provider_<name> keys.
    out = {}
    for key, value in payload.items():
        if key.startswith("Provider_") and isinstance(value, (str, int)) and str(value):
            out[key[len("Provider_"):].lower()] = str(value)
    return out


RECEIVER = Receiver(SOURCE, None, to_events)
