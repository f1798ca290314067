"""Sonarr webhooks: ``Download`` per file (``episodeFile``) or ImportComplete (``episodeFiles``).

An ImportComplete for a season pack names several files: each becomes its own event, so
each file gets its own job. Paths are Sonarr's view; the arr plugin maps them.
"""
from __future__ import annotations

import re

from syncdub_companion.media import LibraryEvent

from .arr import audio_languages, file_path, require_download
from .common import MalformedWebhookError, Receiver, ids_from, integer, obj, text

SOURCE = "sonarr"
_SXXEYY = re.compile(r"[Ss]([0-9]{1,3})[ ._-]?[Ee]([0-9]{1,4})")  # ASCII digits: \d also takes "٣"


def to_events(payload: dict) -> list[LibraryEvent]:
    """One event per imported episode file; Ignored for Test and non-Download events."""
    event = require_download(payload, SOURCE)
    series = obj(payload, "series", SOURCE, required=True)
    folder = text(series, "path", SOURCE)
    files = _episode_files(payload)
    episodes = [e for e in payload.get("episodes") or [] if isinstance(e, dict)]
    series_ids = ids_from({k[:-2]: series.get(k) for k in ("tvdbId", "imdbId", "tmdbId")}, "series_")
    out = []
    for file in files:
        path = file_path(file, folder, SOURCE, "episodeFile")
        match = _episode_for(path, episodes, single=len(files) == 1)
        ids = dict(series_ids)
        if match and integer(match.get("tvdbId")):
            ids["tvdb"] = str(match["tvdbId"])
        season, number = _numbers(path, match)
        out.append(LibraryEvent(
            source=SOURCE, kind="episode", path=path, title=text(match or {}, "title", SOURCE),
            year=integer(series.get("year")), series=text(series, "title", SOURCE),
            season=season, episode=number, provider_ids=ids,
            audio_languages=audio_languages(file, SOURCE), raw_event=event,
        ))
    return out


def _episode_files(payload: dict) -> list[dict]:
    if "episodeFiles" in payload:
        files = payload["episodeFiles"]
        if not isinstance(files, list) or not files or not all(isinstance(f, dict) for f in files):
            raise MalformedWebhookError("sonarr webhook: 'episodeFiles' must be a non-empty list of objects")
        return files
    return [obj(payload, "episodeFile", SOURCE, required=True)]


def _episode_for(path: str, episodes: list[dict], single: bool) -> dict | None:
    """The episode record this file holds: by SxxEyy in the name, or the only one there is."""
    found = _SXXEYY.search(path.replace("\\", "/").rsplit("/", 1)[-1])
    if found:
        season, number = int(found.group(1)), int(found.group(2))
        for episode in episodes:
            if integer(episode.get("seasonNumber")) == season and integer(episode.get("episodeNumber")) == number:
                return episode
    return episodes[0] if single and episodes else None


def _numbers(path: str, episode: dict | None) -> tuple[int | None, int | None]:
    if episode:
        return integer(episode.get("seasonNumber")), integer(episode.get("episodeNumber"))
    found = _SXXEYY.search(path.replace("\\", "/").rsplit("/", 1)[-1])
    return (int(found.group(1)), int(found.group(2))) if found else (None, None)


RECEIVER = Receiver(SOURCE, None, to_events)
