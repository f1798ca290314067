"""A webhook's file path, checked and normalised before its job is queued.

The path is the sender's view (Sonarr's, Radarr's, Emby's). It is normalised as text, so
``/m//Film.mkv``, ``/m/./Film.mkv`` and ``/m/x/../Film.mkv`` are one item for the dedup
window; then it is mapped through ``[paths]`` and checked against ``library.roots``, so a
path the worker would refuse anyway is refused now, with the reason, to the sender that
can fix it, instead of becoming a job that fails later.
"""
from __future__ import annotations

import logging
import os

from syncdub_companion.paths import is_inside, is_windows_path, normalise, path_problem, server_to_local

from .common import MalformedWebhookError, WebhookPathError

log = logging.getLogger(__name__)

MAPPING_HINT = ('if {source} (in Docker, or on another machine) sees the library under another path, '
                'map its prefix in [paths], e.g. "/data/movies" = "/mnt/movies"')


def checked_path(path: str, config, source: str) -> str:
    """``path`` normalised (still the sender's view), or a 4xx naming what is wrong with it.

    400 when it can never name a file (NUL, too long, relative even after [paths]); 403 when
    it maps to a place outside ``library.roots``. With no roots configured, nothing is
    checked against them here: every job then fails with that message, which names the fix.
    """
    shown = _shown(path)
    problem = path_problem(path)
    if problem:
        raise MalformedWebhookError(f"{source} webhook: file path {shown} {problem}")
    server_path = normalise(path)
    local = server_to_local(server_path, config.path_map)
    if is_windows_path(local) or not os.path.isabs(local):
        raise MalformedWebhookError(f"{source} webhook: file path {shown} is not an absolute path on this machine; "
                                    + MAPPING_HINT.format(source=source))
    problem = path_problem(local)
    if problem:
        raise MalformedWebhookError(f"{source} webhook: file path {shown} maps to {_shown(local)}, which {problem}")
    roots = config.library_roots
    if roots and not is_inside(local, roots):
        where = f" (here {_shown(local)})" if local != server_path else ""
        log.warning("%s webhook refused: %s%s is outside library.roots", source, server_path, where)
        raise WebhookPathError(f"{source} webhook: file {_shown(server_path)}{where} is outside library.roots "
                               f"({', '.join(map(str, roots))}); " + MAPPING_HINT.format(source=source))
    return server_path


def _shown(path: str) -> str:
    return repr(path if len(path) <= 120 else path[:117] + "...")
