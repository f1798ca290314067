"""sidecar: a dub kept next to the original, named after it with a language suffix.

    Movies/Title (2010)/Title (2010).mkv        <- the original
    Movies/Title (2010)/Title (2010).de.mka     <- a German dub
    Movies/Title (2010)/Title (2010).ger.mkv    <- also German (ISO 639-2, or "German")

No settings. The language comes from the suffix (``de``, ``ger``, ``deu``, ``German``,
optionally followed by ``dub``/``forced``/``default``). Subtitles and
``Title.multi.mkv`` are not dubs. A sidecar that arrives after its original queues the
original's job. A sidecar that is a symlink counts where it points: outside
``library.roots`` and ``counterparts.dub_roots`` it is ignored with a warning.
"""
from __future__ import annotations

import logging
import os

from syncdub_companion import hookimpl
from syncdub_companion.media import VIDEO_EXTS, Candidate
from syncdub_companion.naming import split_extension, split_sidecar
from syncdub_companion.paths import is_inside
from syncdub_companion.roots import is_readable

log = logging.getLogger(__name__)

SYNCDUB_NAMES_ONLY = True
SCORE = 0.95


def _listing(folder: str) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as entries:
            return [e for e in entries if e.is_file()]
    except OSError:
        return []


@hookimpl
def syncdub_find_counterparts(item, services):
    """Files beside ``item`` named ``<its stem>.<language>.<ext>``."""
    folder, name = os.path.split(item.path)
    stem, _ = split_extension(name)
    found = []
    for entry in _listing(folder or "."):
        if entry.name == name or not entry.name.startswith(stem + "."):
            continue
        side = split_sidecar(entry.name)
        if side and side[0] == stem:
            # A sidecar may be a symlink; what it points at must lie in a library or dub root.
            if not is_readable(entry.path, services.config):
                log.warning("sidecar %s points outside library.roots and counterparts.dub_roots (%s); ignored",
                            entry.path, os.path.realpath(entry.path))
                continue
            found.append(Candidate(entry.path, side[1], SCORE, "sidecar", f"named beside the original ({side[1]})"))
    return found


@hookimpl
def syncdub_find_originals(item, services):
    """When ``item`` is named like a sidecar: the video beside it with the bare stem."""
    folder, name = os.path.split(item.path)
    side = split_sidecar(name)
    if side is None:
        return []
    base, language, _ = side
    found = []
    for entry in _listing(folder or "."):
        stem, ext = split_extension(entry.name)
        if stem == base and ext in VIDEO_EXTS and entry.name != name:
            if not is_inside(entry.path, services.config.library_roots):
                log.warning("original %s lies outside library.roots (%s); ignored",
                            entry.path, os.path.realpath(entry.path))
                continue
            found.append(Candidate(entry.path, language, SCORE, "sidecar", f"{name} is its {language} sidecar"))
    return found
