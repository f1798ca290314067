"""folder: dubbed releases kept in their own folder tree, one per language.

    [library]
    roots = ["/media/movies", "/media/tv"]    # written to; the dub roots are only read

    [counterparts]
    dub_roots = { de = "/media/dubs/de", en = "/media/dubs/en" }
    min_score = 0.6
    ambiguity_margin = 0.1

A library file is matched to files under each dub root by name alone: provider ids
(``{imdb-tt0133093}``, ``[tmdbid-603]``), else the normalised title and year for films,
series and SxxEyy (or anime absolute numbers) for episodes, with edition and part
tokens. The candidate's language is the dub root's. It also answers the reverse
question: a file arriving in a dub root is matched to its original in the library.

Dub roots may lie outside ``library.roots``: they are read, never written. A file in a
dub root that is a symlink counts where it points, and is ignored when that is outside
the library and dub roots.
"""
from __future__ import annotations

import logging
import os

from syncdub_companion import hookimpl
from syncdub_companion.counterparts import dub_roots, index_cache, library_index, parsed_item
from syncdub_companion.media import Candidate
from syncdub_companion.naming import parse_path
from syncdub_companion.paths import is_inside
from syncdub_companion.roots import is_readable

log = logging.getLogger(__name__)

# The dry-run scan may call this plugin: it reads names and folders, never media or servers.
SYNCDUB_NAMES_ONLY = True


def _usable_roots(services) -> dict[str, str]:
    """The dub roots (read roots, wherever they lie); a missing one is skipped with a warning."""
    return index_cache(services).memo("folder.usable_roots", lambda: _check_roots(services))


def _check_roots(services) -> dict[str, str]:
    usable = {}
    for language, root in dub_roots(services).items():
        if os.path.isdir(root):
            usable[language] = root
        else:
            log.warning("counterparts.dub_roots.%s = %s is not a folder and is ignored", language, root)
    return usable


@hookimpl
def syncdub_find_counterparts(item, services):
    """Files in the dub roots whose names match ``item``'s, with the root's language."""
    roots = _usable_roots(services)
    if not roots:
        return []
    library = [str(r) for r in services.config.library_roots]
    parsed = parsed_item(item, library + list(roots.values()))
    index = index_cache(services).get("dubs", sorted(roots.items()), stop_at=library)
    return [Candidate(entry.path, entry.language, found.score, "folder", found.reason)
            for entry, found in index.lookup(parsed) if _allowed(entry.path, is_readable(entry.path, services.config))]


@hookimpl
def syncdub_find_originals(item, services):
    """When ``item`` lies in a dub root: the library files it is the dub of."""
    roots = _usable_roots(services)
    language = next((lang for lang, root in roots.items() if is_inside(item.path, [root])), None)
    if language is None:
        return []
    parsed = parse_path(item.path, [roots[language], *map(str, services.config.library_roots)])
    library = services.config.library_roots
    return [Candidate(entry.path, language, found.score, "folder", found.reason)
            for entry, found in library_index(services).lookup(parsed)
            if _allowed(entry.path, is_inside(entry.path, library))]


def _allowed(path: str, inside: bool) -> bool:
    # The walk lists names; a symlink among them may point anywhere, so each match is
    # checked where it resolves (dubs: library or dub roots; originals: library roots).
    if not inside:
        log.warning("folder: %s resolves to %s, outside the allowed roots; ignored", path, os.path.realpath(path))
    return inside
