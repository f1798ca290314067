"""What Jellyfin and Emby share: the REST calls both inherited from Media Browser.

:class:`MediaBrowserClient` holds the requests, the error mapping and the item parsing;
the Jellyfin and Emby subclasses differ in the auth header and the id format.
"""
from __future__ import annotations

import logging
from typing import Any, Iterable

import requests

from ..errors import ServerError
from ..http import make_session
from ..media import MediaItem
from ..languages import bibliographic_codes

log = logging.getLogger(__name__)

ITEM_FIELDS = "Path,ProviderIds,MediaSources"
_KINDS = {"Movie": "movie", "Episode": "episode"}


class MediaBrowserClient:
    """A REST client for one Jellyfin/Emby server. Subclasses set ``name`` and the auth header."""

    name = "mediabrowser"

    def __init__(self, url: str, api_key: str, *, verify: bool = True, timeout: float = 10.0,
                 retries: int = 3, session: requests.Session | None = None):
        if not url:
            raise ServerError(self.name, f"no URL configured; set {self.name}.url")
        self.url = url.rstrip("/")
        self.session = session or make_session(timeout=(min(timeout, 5.0), timeout), retries=retries,
                                               verify=verify)
        self.session.headers.update(self.auth_headers(api_key))

    def auth_headers(self, api_key: str) -> dict[str, str]:
        raise NotImplementedError

    def format_id(self, item_id: str) -> str:
        """The id as this server wants it in a URL or query."""
        return str(item_id)

    def plain_id(self, item_id: str) -> str:
        """The id as stored in events and jobs."""
        return str(item_id)

    def close(self) -> None:
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- transport ------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One call; every failure becomes a ServerError (transient for network trouble and 5xx)."""
        url = self.url + path
        try:
            response = self.session.request(method, url, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise ServerError(self.name, f"cannot reach {self.url}: {_reason(exc)}; check {self.name}.url "
                                         "and that the server is running", transient=True) from None
        except requests.RequestException as exc:
            raise ServerError(self.name, f"request to {self.url} failed: {_reason(exc)}", transient=True) from None
        if response.status_code >= 400:
            raise self._status_error(method, path, response)
        return response

    def _status_error(self, method: str, path: str, response: requests.Response) -> ServerError:
        status = response.status_code
        if status in (401, 403):
            return ServerError(self.name, f"{method} {path}: {status}, the API key was refused; create one "
                                          f"under Dashboard > API Keys and set {self.name}.api_key")
        body = " ".join(response.text.split())[:160]
        return ServerError(self.name, f"{method} {path}: HTTP {status} {body}".rstrip(), transient=status >= 500)

    def get_json(self, path: str, params: dict | None = None) -> Any:
        response = self.request("GET", path, params=params)
        try:
            return response.json()
        except ValueError:
            raise ServerError(self.name, f"GET {path}: the answer is not JSON; is {self.url} really "
                                         f"a {self.name} server?") from None

    # --- operations -----------------------------------------------------------

    def public_info(self) -> dict:
        """``GET /System/Info/Public``: name and version, no authentication needed."""
        return self.get_json("/System/Info/Public")

    def system_info(self) -> dict:
        """``GET /System/Info``: needs a valid API key, so it proves the key works."""
        return self.get_json("/System/Info")

    def check(self) -> tuple[bool, str]:
        """(ok, one line): the public info answers and the API key is accepted; the fix when not."""
        try:
            info = self.public_info()
        except ServerError as exc:
            return False, _bare(exc, self.name)
        label = f"{info.get('ServerName') or self.url} ({info.get('ProductName') or self.name} {info.get('Version', '?')})"
        try:
            self.system_info()
        except ServerError as exc:
            return False, f"{label} answers, but {_bare(exc, self.name)}"
        return True, f"{label} at {self.url}: reachable, API key accepted"

    def items(self, ids: Iterable[str]) -> list[MediaItem]:
        """The items with these ids, each with its path (server view), provider ids and audio languages."""
        ids = [self.format_id(i) for i in ids]
        if not ids:
            return []
        return self._parse_all(self.get_json("/Items", {"ids": ",".join(ids), "fields": ITEM_FIELDS}))

    def item(self, item_id: str) -> MediaItem:
        """One item; ServerError when the server does not know it."""
        found = self.items([item_id])
        if not found:
            raise ServerError(self.name, f"item {item_id} not found (or it has no file path)")
        return found[0]

    def episodes(self, parent_id: str) -> list[MediaItem]:
        """Every episode under a season or series (``parent_id``), each with its file path.

        ``GET /Items?parentId=...&includeItemTypes=Episode&recursive=true``; episodes
        without a file (missing or unaired ones) are left out.
        """
        params = {"parentId": self.format_id(parent_id), "includeItemTypes": "Episode", "recursive": "true",
                  "fields": ITEM_FIELDS}
        return self._parse_all(self.get_json("/Items", params))

    def find_videos(self, kind: str, *, year: int | None = None, season: int | None = None,
                    episode: int | None = None, limit: int = 500) -> list[MediaItem]:
        """Movies of ``year`` or episodes numbered ``season``/``episode`` across all libraries.

        The API cannot filter by provider id, so callers narrow with these numbers and
        compare provider ids themselves.
        """
        params: dict[str, Any] = {"recursive": "true", "fields": ITEM_FIELDS, "limit": limit}
        params["includeItemTypes"] = "Episode" if kind == "episode" else "Movie"
        if kind == "episode":
            if season is not None:
                params["parentIndexNumber"] = season
            if episode is not None:
                params["indexNumber"] = episode
        elif year:
            params["years"] = year
        return self._parse_all(self.get_json("/Items", params))

    def _parse_all(self, data: Any) -> list[MediaItem]:
        dtos = [dto for dto in _results(data) if dto.get("Path")]
        series = self._series_provider_ids(dto.get("SeriesId") for dto in dtos if dto.get("Type") == "Episode")
        items = []
        for dto in dtos:
            item = parse_item(dto, self.name, self.plain_id)
            # Episodes carry their show's ids too, so an episode from Sonarr (show ids
            # only) can be matched against one from a server (episode ids).
            for key, value in series.get(self.plain_id(dto.get("SeriesId") or ""), {}).items():
                item.provider_ids.setdefault(f"series_{key}", value)
            items.append(item)
        return items

    def _series_provider_ids(self, series_ids: Iterable[str | None]) -> dict[str, dict[str, str]]:
        ids = sorted({self.format_id(i) for i in series_ids if i})
        if not ids:
            return {}
        data = self.get_json("/Items", {"ids": ",".join(ids), "fields": "ProviderIds"})
        return {self.plain_id(dto.get("Id", "")): provider_ids(dto.get("ProviderIds")) for dto in _results(data)}

    def media_updated(self, paths: Iterable[str]) -> None:
        """``POST /Library/Media/Updated``: tell the server these files changed (server paths)."""
        updates = [{"Path": p, "UpdateType": "Modified"} for p in paths]
        self.request("POST", "/Library/Media/Updated", json={"Updates": updates})

    def refresh_item(self, item_id: str) -> None:
        """``POST /Items/{id}/Refresh``: re-probe one item's files, keeping metadata and images."""
        self.request("POST", f"/Items/{self.format_id(item_id)}/Refresh",
                     params={"metadataRefreshMode": "Default", "imageRefreshMode": "None"})


def _bare(exc: ServerError, name: str) -> str:
    return str(exc).removeprefix(f"{name}: ")


def _results(data: Any) -> list[dict]:
    items = data.get("Items") if isinstance(data, dict) else None
    return [i for i in items or [] if isinstance(i, dict)]


def _reason(exc: Exception) -> str:
    text = str(exc.args[0] if exc.args else exc)
    # urllib3 wraps the cause several levels deep; its last clause is the readable one.
    return text.rsplit(": ", 1)[-1].strip("')\" ") or type(exc).__name__


def provider_ids(raw: Any) -> dict[str, str]:
    """``{"Imdb": "tt1", "Tmdb": "2"}`` -> ``{"imdb": "tt1", "tmdb": "2"}`` (empty values dropped)."""
    if not isinstance(raw, dict):
        return {}
    return {str(k).lower(): str(v) for k, v in raw.items() if v not in (None, "")}


def audio_languages(dto: dict) -> list[str]:
    """Audio languages from MediaSources[].MediaStreams (or top-level MediaStreams)."""
    streams = list(dto.get("MediaStreams") or [])
    for source in dto.get("MediaSources") or []:
        streams += source.get("MediaStreams") or []
    return bibliographic_codes(s.get("Language") for s in streams
                               if isinstance(s, dict) and s.get("Type") == "Audio")


def parse_item(dto: dict, server: str, plain_id=str) -> MediaItem:
    """A BaseItemDto as a MediaItem; ``path`` is the server's view of the file."""
    kind = _KINDS.get(dto.get("Type"), "other")
    episode = kind == "episode"
    return MediaItem(
        path=dto.get("Path") or "",
        kind=kind,
        title=dto.get("Name"),
        year=dto.get("ProductionYear"),
        series=dto.get("SeriesName") if episode else None,
        season=dto.get("ParentIndexNumber") if episode else None,
        episode=dto.get("IndexNumber") if episode else None,
        provider_ids=provider_ids(dto.get("ProviderIds")),
        audio_languages=audio_languages(dto),
        server=server,
        item_id=plain_id(dto["Id"]) if dto.get("Id") else None,
    )
