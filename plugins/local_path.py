"""local_path: the last-resort resolver for events that carry a file path.

No settings of its own: ``[paths]`` maps the event's path to this machine's view and
``library.roots`` confines it. Server plugins answer first for their own events; this
one handles ``syncdub scan``, the CLI, Sonarr/Radarr and dubs queued for their original.
"""
from __future__ import annotations

from syncdub_companion import hookimpl
from syncdub_companion.media import MediaItem
from syncdub_companion.naming import parse_path
from syncdub_companion.paths import ensure_inside, server_to_local


@hookimpl(trylast=True)
def syncdub_resolve_item(event, services):
    """A MediaItem for ``event.path`` (mapped, inside the library roots), or None without a path."""
    if not event.path:
        return None
    config = services.config
    local = ensure_inside(server_to_local(event.path, config.path_map), config.library_roots, "file")
    parsed = parse_path(str(local), [str(r) for r in config.library_roots])
    episode = event.kind == "episode" or parsed.is_episode
    return MediaItem(
        path=str(local),
        kind="episode" if episode else (event.kind or "movie"),
        title=event.title or parsed.title or None,
        year=event.year or parsed.year,
        series=event.series or (parsed.title if episode else None),
        season=event.season if event.season is not None else parsed.season,
        episode=event.episode if event.episode is not None else (parsed.episodes[0] if parsed.episodes else None),
        provider_ids=dict(event.provider_ids or {}),
        audio_languages=list(event.audio_languages or []),
        server=event.server,
        item_id=event.item_id,
    )
