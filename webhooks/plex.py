"""Plex webhooks: multipart/form-data with the JSON in the ``payload`` part (and a JPEG ``thumb``).

Only ``library.new`` for a movie or an episode makes a job. The payload never holds the
file path; the plex plugin fetches it by ``ratingKey`` when the job starts.
"""
from __future__ import annotations

from syncdub_companion.media import LibraryEvent
from syncdub_companion.languages import bibliographic_codes

from .common import MAX_INT_DIGITS, Ignored, MalformedWebhookError, Receiver, ascii_digits, integer, obj, text

SOURCE = "plex"
_KINDS = {"movie": "movie", "episode": "episode"}


def to_events(payload: dict) -> list[LibraryEvent]:
    """One event for a new movie or episode; Ignored for every other event or item type."""
    event = text(payload, "event", SOURCE, required=True)
    if event != "library.new":
        raise Ignored(f"plex event {event} is not library.new")
    meta = obj(payload, "Metadata", SOURCE, required=True)
    item_type = text(meta, "type", SOURCE)
    if item_type not in _KINDS:
        raise Ignored(f"plex library.new for a {item_type or 'item without type'}, not a movie or episode")
    rating_key = rating_key_of(text(meta, "ratingKey", SOURCE, required=True))
    episode = item_type == "episode"
    return [LibraryEvent(
        source=SOURCE, kind=_KINDS[item_type], item_id=rating_key,
        title=text(meta, "title", SOURCE), year=integer(meta.get("year")),
        series=text(meta, "grandparentTitle", SOURCE) if episode else None,
        season=integer(meta.get("parentIndex")) if episode else None,
        episode=integer(meta.get("index")) if episode else None,
        provider_ids=guid_list(meta.get("Guid")),
        audio_languages=bibliographic_codes(_audio_languages(meta)),
        server=text(obj(payload, "Server", SOURCE), "uuid", SOURCE), raw_event=event,
    )]


def rating_key_of(raw: str) -> str:
    """The ratingKey as Plex's API writes it: 012345 and 12345 are one item, for the dedup window too."""
    key = raw.strip()
    if not ascii_digits(key) or len(key) > MAX_INT_DIGITS:
        raise MalformedWebhookError(f"plex webhook: ratingKey {raw[:40]!r} is not a number")
    return str(int(key))


def guid_list(guids) -> dict[str, str]:
    """``[{"id": "imdb://tt1"}, ...]`` -> ``{"imdb": "tt1"}``; plex:// and malformed entries skipped."""
    out = {}
    for entry in guids if isinstance(guids, list) else []:
        guid = entry.get("id") if isinstance(entry, dict) else None
        scheme, sep, value = str(guid or "").partition("://")
        if sep and scheme in ("imdb", "tmdb", "tvdb") and value:
            out[scheme] = value
    return out


def _audio_languages(meta: dict) -> list[str]:
    # Webhooks usually omit Media, but a payload that has it saves nothing; read it anyway.
    codes = []
    for media in meta.get("Media") or []:
        for part in (media.get("Part") or []) if isinstance(media, dict) else []:
            for stream in (part.get("Stream") or []) if isinstance(part, dict) else []:
                if isinstance(stream, dict) and integer(stream.get("streamType")) == 2:
                    codes.append(stream.get("languageCode"))
    return codes


RECEIVER = Receiver(SOURCE, "payload", to_events)
