"""Media-server clients: one small class per server, each raising ServerError.

Clients speak the server's view of paths; the plugins in ``plugins/`` apply the
``[paths]`` mapping on the way in and out. The helpers here build a client from the
plugin's config section, or None when the server is not configured (plugin inert).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..media import LibraryEvent, MediaItem
from ..paths import server_to_local

if TYPE_CHECKING:
    from ..config import Config
    from .emby import EmbyClient
    from .jellyfin import JellyfinClient
    from .plex import PlexClient


def _options(config: "Config", name: str) -> dict:
    return {"verify": bool(config.get(f"{name}.verify_ssl", True)),
            "timeout": float(config.get(f"{name}.timeout", 10) or 10)}


def plex_client(config: "Config") -> "PlexClient | None":
    """A PlexClient from ``[plex]``, or None when plex.url is empty."""
    if not config.get("plex.url"):
        return None
    from .plex import PlexClient

    return PlexClient(config.get("plex.url"), config.get("plex.token") or "", **_options(config, "plex"))


def jellyfin_client(config: "Config") -> "JellyfinClient | None":
    """A JellyfinClient from ``[jellyfin]``, or None when jellyfin.url is empty."""
    if not config.get("jellyfin.url"):
        return None
    from .jellyfin import JellyfinClient

    return JellyfinClient(config.get("jellyfin.url"), config.get("jellyfin.api_key") or "",
                          **_options(config, "jellyfin"))


def emby_client(config: "Config") -> "EmbyClient | None":
    """An EmbyClient from ``[emby]``, or None when emby.url is empty."""
    if not config.get("emby.url"):
        return None
    from .emby import EmbyClient

    return EmbyClient(config.get("emby.url"), config.get("emby.api_key") or "", **_options(config, "emby"))


def localise(item: MediaItem, path_map: list[tuple[str, str]]) -> MediaItem:
    """``item`` with its server path mapped to this machine's path (in place; returned for chaining)."""
    item.path = server_to_local(item.path, path_map)
    return item


def item_from_event(event: LibraryEvent, path_map: list[tuple[str, str]]) -> MediaItem | None:
    """A MediaItem straight from a payload that carried the path (Emby, Sonarr, Radarr)."""
    if not event.path:
        return None
    return MediaItem(
        path=server_to_local(event.path, path_map), kind=event.kind, title=event.title, year=event.year,
        series=event.series, season=event.season, episode=event.episode,
        provider_ids=dict(event.provider_ids), audio_languages=list(event.audio_languages),
        server=event.source, item_id=event.item_id,
    )
