"""Radarr webhooks: ``Download`` with ``movie.folderPath`` and ``movieFile``; ``Test`` gets a 2xx."""
from __future__ import annotations

from syncdub_companion.media import LibraryEvent

from .arr import audio_languages, file_path, require_download
from .common import Receiver, ids_from, integer, obj, text

SOURCE = "radarr"


def to_events(payload: dict) -> list[LibraryEvent]:
    """One event for the imported movie file; Ignored for Test and non-Download events."""
    event = require_download(payload, SOURCE)
    movie = obj(payload, "movie", SOURCE, required=True)
    file = obj(payload, "movieFile", SOURCE, required=True)
    path = file_path(file, text(movie, "folderPath", SOURCE), SOURCE, "movieFile")
    return [LibraryEvent(
        source=SOURCE, kind="movie", path=path, title=text(movie, "title", SOURCE),
        year=integer(movie.get("year")),
        provider_ids=ids_from({"imdb": movie.get("imdbId"), "tmdb": movie.get("tmdbId")}),
        audio_languages=audio_languages(file, SOURCE), raw_event=event,
    )]


RECEIVER = Receiver(SOURCE, None, to_events)
