"""Plex client over plexapi, with our session factory and typed errors.

Plex webhooks never carry the file path, so every Plex event is resolved here with
``fetchItem(ratingKey)``; rescans are ``section.update(path=folder)`` for the changed
folder only, never a whole-library scan.
"""
from __future__ import annotations

import contextlib
import logging
from typing import Iterator

import requests
from plexapi import exceptions as plex_errors
from plexapi.server import PlexServer

from ..errors import ServerError
from ..http import make_session, redact_url
from ..media import MediaItem
from ..languages import bibliographic_codes

log = logging.getLogger(__name__)

_KINDS = {"movie": "movie", "episode": "episode"}


@contextlib.contextmanager
def plex_errors_as_server_errors(url: str) -> Iterator[None]:
    """Translate plexapi and requests failures into ServerError with the fix in the message."""
    try:
        yield
    except plex_errors.Unauthorized:
        raise ServerError("plex", "the token was refused (401); set plex.token to a valid X-Plex-Token "
                                  "(Plex Web > any item > Get Info > View XML shows one in the URL)") from None
    except plex_errors.NotFound as exc:
        raise ServerError("plex", f"not found: {_short(exc)}") from None
    except plex_errors.BadRequest as exc:
        text = _short(exc)
        raise ServerError("plex", f"request failed: {text}", transient=text.startswith("(5")) from None
    except (requests.ConnectionError, requests.Timeout):
        raise ServerError("plex", f"cannot reach {url}; check plex.url and that Plex is running",
                          transient=True) from None


def _short(exc: Exception) -> str:
    return redact_url(" ".join(str(exc).split()))[:200]


class PlexClient:
    """One Plex Media Server. Connects lazily: constructing it makes no request."""

    name = "plex"

    def __init__(self, url: str, token: str, *, verify: bool = True, timeout: float = 10.0,
                 retries: int = 3, session: requests.Session | None = None):
        if not url:
            raise ServerError("plex", "no URL configured; set plex.url")
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.session = session or make_session(timeout=(min(timeout, 5.0), timeout), retries=retries,
                                               verify=verify)
        self._server: PlexServer | None = None

    @property
    def server(self) -> PlexServer:
        if self._server is None:
            with plex_errors_as_server_errors(self.url):
                self._server = PlexServer(self.url, self.token, session=self.session, timeout=self.timeout)
        return self._server

    def close(self) -> None:
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def identity(self) -> dict:
        """``GET /identity`` without the token: proves the URL points at a Plex server."""
        with plex_errors_as_server_errors(self.url):
            response = self.session.get(self.url + "/identity", headers={"Accept": "application/xml"})
        if response.status_code != 200 or "machineIdentifier" not in response.text:
            raise ServerError("plex", f"{self.url}/identity answered HTTP {response.status_code}; "
                                      "is plex.url a Plex Media Server (usually port 32400)?")
        from plexapi.utils import parseXMLString

        root = parseXMLString(response.text)
        return {"machineIdentifier": root.attrib.get("machineIdentifier"), "version": root.attrib.get("version")}

    def describe(self) -> str:
        """Name and version after an authenticated call (the server root needs the token)."""
        server = self.server
        with plex_errors_as_server_errors(self.url):
            count = len(server.library.sections())
        return f"{server.friendlyName} (Plex {server.version}), {count} libraries"

    def check(self) -> tuple[bool, str]:
        """(ok, one line): /identity answers and an authenticated call works; the fix when not."""
        try:
            ident = self.identity()
        except ServerError as exc:
            return False, str(exc).removeprefix("plex: ")
        try:
            summary = self.describe()
        except ServerError as exc:
            return False, f"Plex {ident.get('version') or ''} answers at {self.url}, but {str(exc).removeprefix('plex: ')}"
        return True, f"{summary} at {self.url}: reachable, token accepted"

    def item(self, rating_key: str | int) -> MediaItem:
        """The item with its first part's file path (server view), guids and audio languages."""
        try:
            key = int(rating_key)
        except (TypeError, ValueError):
            raise ServerError("plex", f"{rating_key!r} is not a Plex ratingKey") from None
        with plex_errors_as_server_errors(self.url):
            video = self.server.fetchItem(key)
            return self._to_media_item(video)

    def _to_media_item(self, video) -> MediaItem:
        parts = [part for media in getattr(video, "media", []) or [] for part in media.parts]
        if not parts:
            raise ServerError("plex", f"item {video.ratingKey} ({video.title}) has no media file")
        streams = [s for part in parts for s in part.audioStreams()]
        kind = _KINDS.get(video.type, "other")
        episode = kind == "episode"
        ids = guid_ids(g.id for g in getattr(video, "guids", []) or [])
        if episode and video.grandparentRatingKey:
            ids.update({f"series_{k}": v for k, v in self._show_ids(video.grandparentRatingKey).items()})
        return MediaItem(
            path=parts[0].file, kind=kind, title=video.title, year=getattr(video, "year", None),
            series=video.grandparentTitle if episode else None,
            season=video.parentIndex if episode else None,
            episode=video.index if episode else None,
            provider_ids=ids,
            audio_languages=bibliographic_codes(s.languageCode or s.languageTag for s in streams),
            server="plex", item_id=str(video.ratingKey),
        )

    def _show_ids(self, show_key) -> dict[str, str]:
        # The show's ids let an episode from Sonarr (show ids only) match this one.
        try:
            show = self.server.fetchItem(int(show_key))
        except (plex_errors.PlexApiException, requests.RequestException, ValueError) as exc:
            log.debug("plex: show %s of an episode not readable: %s", show_key, _short(exc))
            return {}
        return guid_ids(g.id for g in getattr(show, "guids", []) or [])

    def sections(self) -> list:
        with plex_errors_as_server_errors(self.url):
            return self.server.library.sections()

    def refresh_folder(self, folder: str) -> str | None:
        """Scan only ``folder`` (server path) in the library that holds it; returns that library's title."""
        for section in self.sections():
            if any(_under(folder, location) for location in section.locations):
                with plex_errors_as_server_errors(self.url):
                    section.update(path=folder)
                log.info("plex: scanning %s in library %r", folder, section.title)
                return section.title
        return None

    def analyze_file(self, path: str, rating_key: str | int | None = None) -> str | None:
        """Ask Plex to analyse the item whose file is ``path`` (server view) again; returns its
        ratingKey, or None when no item has that file (a new file: the scan adds and analyses it).

        Plex does not re-read the streams of a file rewritten in place, so without this a
        merged track may not show. ``rating_key`` (from the webhook) saves the search through
        the library listing; its file must still be ``path``.
        """
        with plex_errors_as_server_errors(self.url):
            video = None
            if rating_key is not None:
                video = self.server.fetchItem(int(rating_key))
                video = video if path in _files(video) else None
            video = video or self._video_at(path)
            if video is None:
                return None
            video.analyze()  # PUT /library/metadata/{ratingKey}/analyze
        log.info("plex: analysing %s (item %s)", path, video.ratingKey)
        return str(video.ratingKey)

    def _video_at(self, path: str):
        # Plex has no lookup by file: list the movies or episodes of the library holding it
        for section in self.sections():
            if section.type in ("movie", "show") and any(_under(path, loc) for loc in section.locations):
                kind = 1 if section.type == "movie" else 4
                for video in self.server.fetchItems(f"/library/sections/{section.key}/all?type={kind}"):
                    if path in _files(video):
                        return video
        return None

    def find_by_ids(self, item: MediaItem) -> list[MediaItem]:
        """Items in any library sharing a provider id with ``item`` (a movie or an episode).

        Movies and episodes match on their own imdb/tmdb/tvdb guids through
        ``/library/sections/{id}/all?includeGuids=1`` (movies narrowed by year). Episodes
        also match through their show's ids plus season and episode numbers, which is all
        Sonarr knows. Each match is fetched in full for its streams.
        """
        keys: set[str] = set()
        own = _id_pairs(item.provider_ids, "")
        shows = _id_pairs(item.provider_ids, "series_")
        for section in self.sections():
            if item.kind == "movie" and section.type == "movie":
                keys |= self._scan(section, 1, own, f"&year={int(item.year)}" if item.year else "")
            elif item.kind == "episode" and section.type == "show":
                keys |= self._scan(section, 4, own)
                if shows and item.season is not None and item.episode is not None:
                    for show_key in self._scan(section, 2, shows):
                        keys |= self._episode_keys(show_key, item.season, item.episode)
        return [self.item(key) for key in sorted(keys)]

    def _scan(self, section, search_type: int, wanted: set, extra: str = "") -> set[str]:
        if not wanted:
            return set()
        key = f"/library/sections/{section.key}/all?type={search_type}&includeGuids=1{extra}"
        with plex_errors_as_server_errors(self.url):
            found = self.server.fetchItems(key)
        return {str(v.ratingKey) for v in found if wanted & set(guid_ids(g.id for g in v.guids).items())}

    def _episode_keys(self, show_key: str, season: int, episode: int) -> set[str]:
        with plex_errors_as_server_errors(self.url):
            found = self.server.fetchItems(f"/library/metadata/{show_key}/allLeaves")
        return {str(e.ratingKey) for e in found if e.parentIndex == season and e.index == episode}


def _id_pairs(provider_ids: dict[str, str], prefix: str) -> set[tuple[str, str]]:
    return {(k[len(prefix):], str(v)) for k, v in provider_ids.items()
            if k.startswith(prefix) and k[len(prefix):] in ("imdb", "tmdb", "tvdb") and v}


def _files(video) -> set[str]:
    """The server paths of a video's parts."""
    return {part.file for media in getattr(video, "media", []) or [] for part in media.parts}


def _under(path: str, folder: str) -> bool:
    """True when ``path`` is ``folder`` or below it, comparing server paths textually
    (Plex may run on Windows, so backslashes count as separators)."""
    path, folder = path.replace("\\", "/").rstrip("/"), folder.replace("\\", "/").rstrip("/")
    return bool(folder) and (path == folder or path.startswith(folder + "/"))


def guid_ids(guids) -> dict[str, str]:
    """``["imdb://tt1", "tmdb://2"]`` -> ``{"imdb": "tt1", "tmdb": "2"}`` (plex:// guids dropped)."""
    out = {}
    for guid in guids:
        scheme, sep, value = str(guid).partition("://")
        if sep and scheme in ("imdb", "tmdb", "tvdb") and value:
            out[scheme] = value
    return out
