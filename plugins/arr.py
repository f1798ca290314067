"""Sonarr and Radarr: their webhooks carry the file path and ids, so no server lookup is needed.

No config of its own. The path in the payload is Sonarr's/Radarr's view of the file;
the ``[paths]`` table maps it to this machine, as for the media servers.
"""
from __future__ import annotations

from syncdub_companion import hookimpl
from syncdub_companion.servers import item_from_event

SOURCES = ("sonarr", "radarr")


@hookimpl
def syncdub_resolve_item(event, services):
    """The item from the payload: ``series.path`` + ``episodeFile.relativePath`` (or the
    movie's folder + file), provider ids and ``mediaInfo.audioLanguages``."""
    if event.source not in SOURCES:
        return None
    return item_from_event(event, services.config.path_map)
