"""folder: dubbed releases kept in their own folder tree, one per language.

    [library]
    roots = ["/media/movies", "/media/tv", "/media/dubs"]   # dub roots must lie inside

    [counterparts]
    dub_roots = { de = "/media/dubs/de", en = "/media/dubs/en" }
    min_score = 0.6
    ambiguity_margin = 0.1

A library file is matched to files under each dub root by name alone: provider ids
(``{imdb-tt0133093}``, ``[tmdbid-603]``), else the normalised title and year for films,
series and SxxEyy (or anime absolute numbers) for episodes, with edition and part
tokens. The candidate's language is the dub root's. It also answers the reverse
question: a file arriving in a dub root is matched to its original in the library.
"""
from __future__ import annotations

import logging

from syncdub_companion import hookimpl
from syncdub_companion.counterparts import dub_roots, index_cache, library_index, parsed_item
from syncdub_companion.media import Candidate
from syncdub_companion.naming import parse_path
from syncdub_companion.paths import is_inside

log = logging.getLogger(__name__)

# The dry-run scan may call this plugin: it reads names and folders, never media or servers.
SYNCDUB_NAMES_ONLY = True


def _usable_roots(services) -> dict[str, str]:
    """Dub roots inside library.roots; others are skipped with a warning (nothing outside may be read)."""
    return index_cache(services).memo("folder.usable_roots", lambda: _check_roots(services))


def _check_roots(services) -> dict[str, str]:
    library = services.config.library_roots
    usable = {}
    for language, root in dub_roots(services).items():
        if is_inside(root, library):
            usable[language] = root
        else:
            log.warning("counterparts.dub_roots.%s = %s lies outside library.roots and is ignored", language, root)
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
            for entry, found in index.lookup(parsed)]


@hookimpl
def syncdub_find_originals(item, services):
    """When ``item`` lies in a dub root: the library files it is the dub of."""
    roots = _usable_roots(services)
    language = next((lang for lang, root in roots.items() if is_inside(item.path, [root])), None)
    if language is None:
        return []
    parsed = parse_path(item.path, [roots[language], *map(str, services.config.library_roots)])
    return [Candidate(entry.path, language, found.score, "folder", found.reason)
            for entry, found in library_index(services).lookup(parsed)]
