"""Counterparts from the media servers: the same film or episode, by provider id, in another language.

No config of its own: it asks every configured server (``[plex]``, ``[jellyfin]``,
``[emby]``). An item matches when it shares an imdb/tmdb/tvdb id with the original and
none of their common ids disagree; an episode also matches through its show's ids plus
the same season and episode numbers. Each audio language the match has and the original
lacks (only those in ``library.languages``, when that is set) becomes one candidate.
"""
from __future__ import annotations

import logging
import os

from syncdub_companion import hookimpl
from syncdub_companion.errors import ServerError
from syncdub_companion.media import Candidate, MediaItem
from syncdub_companion.servers import emby_client, jellyfin_client, localise, plex_client
from syncdub_companion.languages import bibliographic_codes

log = logging.getLogger(__name__)

FINDER = "media_server"
SCORE = 0.95  # a provider-id match is near-certain; the aligner still verifies the content
_ID_KEYS = ("imdb", "tmdb", "tvdb")
_FACTORIES = (("plex", plex_client), ("jellyfin", jellyfin_client), ("emby", emby_client))


@hookimpl
def syncdub_find_counterparts(item, services):
    """Candidates from every configured server; a server that fails is logged and skipped."""
    if not item.provider_ids or item.kind not in ("movie", "episode"):
        return []
    found: list[tuple[str, MediaItem]] = []
    for name, factory in _FACTORIES:
        client = factory(services.config)
        if client is None:
            continue
        try:
            with client:
                found += [(name, m) for m in _search(client, item)]
        except ServerError as exc:
            log.warning("%s: counterpart search failed, skipping this server: %s", name, exc)
    wanted = bibliographic_codes(services.config.get("library.languages") or [])
    return candidates(item, found, wanted, services.config.path_map)


def _search(client, item: MediaItem) -> list[MediaItem]:
    if client.name == "plex":
        matches = client.find_by_ids(item)
    else:
        matches = client.find_videos(item.kind, year=item.year, season=item.season, episode=item.episode)
    return [m for m in matches if same_content(item, m)]


def _ids(provider_ids: dict[str, str], prefix: str = "") -> dict[str, str]:
    return {k: str(provider_ids[prefix + k]).lower() for k in _ID_KEYS if provider_ids.get(prefix + k)}


def _agree(a: dict[str, str], b: dict[str, str]) -> bool:
    common = a.keys() & b.keys()
    return bool(common) and all(a[k] == b[k] for k in common)


def same_content(item: MediaItem, other: MediaItem) -> bool:
    """True when ``other`` is the same film or episode as ``item`` by provider ids."""
    if item.kind != other.kind:
        return False
    if _agree(_ids(item.provider_ids), _ids(other.provider_ids)):
        return True
    return (item.kind == "episode" and item.season is not None and item.episode is not None
            and (item.season, item.episode) == (other.season, other.episode)
            and _agree(_ids(item.provider_ids, "series_"), _ids(other.provider_ids, "series_")))


def candidates(item: MediaItem, found: list[tuple[str, MediaItem]], wanted: list[str],
               path_map: list[tuple[str, str]]) -> list[Candidate]:
    """One Candidate per (file, new language); the original file itself is never a candidate."""
    have = set(bibliographic_codes(item.audio_languages))
    own = os.path.normpath(item.path)
    out: dict[tuple[str, str], Candidate] = {}
    for server, match in found:
        local = localise(match, path_map).path
        if os.path.normpath(local) == own:
            continue
        langs = [lang for lang in bibliographic_codes(match.audio_languages) if lang not in have]
        if wanted:
            langs = [lang for lang in langs if lang in wanted]
        for lang in langs:
            key = (os.path.normpath(local), lang)
            # Plex and Jellyfin often index the same files; one candidate per file is enough.
            out.setdefault(key, Candidate(path=local, language=lang, score=SCORE, finder=FINDER,
                                          reason=_reason(item, match, server, lang)))
    return list(out.values())


def _reason(item: MediaItem, match: MediaItem, server: str, lang: str) -> str:
    shared = _ids(item.provider_ids).items() & _ids(match.provider_ids).items()
    how = ", ".join(f"{k} {v}" for k, v in sorted(shared)) or "same show, season and episode"
    return f"{server}: '{match.title}' has {lang} audio; {how}"
