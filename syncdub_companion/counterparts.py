"""Finding the dubbed counterpart of a library item, and deciding which one to use.

Every plugin's ``syncdub_find_counterparts`` answers are collected, deduplicated and
decided per wanted language: one clear best candidate, or an ambiguous set that sends the
job to needs_review. :class:`NameIndex` and :func:`walk_media` are the name-only tools the
folder plugin and the backfill scan share; nothing here opens a media file.
"""
from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from . import langid
from .languages import alpha2_code
from .media import MEDIA_EXTS, VIDEO_EXTS, Candidate, MediaItem
from .naming import EXTRAS_FOLDERS, Match, ParsedName, key_similarity, match, parse_path, split_extension, title_key
from .paths import is_inside
from .plugins import call_each
from .roots import read_roots

log = logging.getLogger(__name__)


# --- walking and indexing -------------------------------------------------------


def walk_media(root: str | os.PathLike, extensions: frozenset[str] = MEDIA_EXTS,
               skip: Iterable[str | os.PathLike] = ()) -> Iterator[str]:
    """Every media file under ``root``, skipping hidden folders, extras folders and ``skip`` trees."""
    skipped = {os.path.realpath(s) for s in skip}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d.lower() not in EXTRAS_FOLDERS
                         and os.path.realpath(os.path.join(folder, d)) not in skipped)
        for name in sorted(files):
            if name.startswith("."):
                continue
            stem, ext = split_extension(name)
            if ext in extensions and not _is_sample(stem):
                yield os.path.join(folder, name)


def _is_sample(stem: str) -> bool:
    lowered = stem.lower()
    return lowered == "sample" or lowered.endswith(("-sample", ".sample", " sample", "-trailer"))


@dataclass
class Entry:
    """One indexed file: its path, what its name says, and the language of its root."""

    path: str
    parsed: ParsedName
    language: str | None = None


@dataclass
class NameIndex:
    """Files looked up by provider id and normalised title, so a lookup costs microseconds.

    ``keys_by_year`` groups title keys by (year, or "series", and key length) for the
    near-title search, which only compares keys of about the same length and year.
    """

    entries: list[Entry] = field(default_factory=list)
    by_id: dict[str, list[Entry]] = field(default_factory=dict)
    by_key: dict[str, list[Entry]] = field(default_factory=dict)
    keys_by_year: dict[tuple, set[str]] = field(default_factory=dict)

    def add(self, entry: Entry) -> None:
        self.entries.append(entry)
        for provider, value in entry.parsed.provider_ids.items():
            self.by_id.setdefault(f"{provider}:{value}", []).append(entry)
        if entry.parsed.key:
            self.by_key.setdefault(entry.parsed.key, []).append(entry)
            bucket = entry.parsed.year if not entry.parsed.is_episode else "series"
            self.keys_by_year.setdefault((bucket, len(entry.parsed.key)), set()).add(entry.parsed.key)

    def lookup(self, parsed: ParsedName) -> list[tuple[Entry, Match]]:
        """Entries that :func:`naming.match` accepts, best first."""
        pool: dict[int, Entry] = {}
        for provider, value in parsed.provider_ids.items():
            pool.update((id(e), e) for e in self.by_id.get(f"{provider}:{value}", ()))
        pool.update((id(e), e) for e in self.by_key.get(parsed.key, ()))
        if not pool and parsed.key:
            for key in self._near_keys(parsed):
                pool.update((id(e), e) for e in self.by_key[key])
        found = [(e, m) for e in pool.values() if (m := match(parsed, e.parsed)) is not None]
        return sorted(found, key=lambda pair: (-pair[1].score, pair[0].path))

    def _near_keys(self, parsed: ParsedName) -> list[str]:
        # Near matches only within the same year (or among series), and of similar length;
        # naming.match then applies the real similarity test.
        bucket = "series" if parsed.is_episode else parsed.year
        if bucket is None:
            return []
        size = len(parsed.key)
        slack = max(2, size // 10)
        return [k for length in range(size - slack, size + slack + 1)
                for k in self.keys_by_year.get((bucket, length), ()) if key_similarity(parsed.key, k)]


def build_index(roots: Iterable[tuple[str | None, str]], stop_at: Iterable[str] = (),
                extensions: frozenset[str] = MEDIA_EXTS, skip: Iterable[str] = ()) -> NameIndex:
    """Index every media file under each ``(language, root)`` pair (language may be None)."""
    index = NameIndex()
    stop_at, skip = list(stop_at), list(skip)
    for language, root in roots:
        stops = [root, *stop_at]
        for path in walk_media(root, extensions, skip):
            index.add(Entry(path, parse_path(path, stops), language))
    return index


class IndexCache:
    """Indexes shared by the threads of one process; :func:`invalidate` before fresh work.

    Rebuilding costs a walk of the dub roots (about 0.1 s per 10,000 files), so the job
    runner invalidates once per job and the scan once per run.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._indexes: dict[tuple, NameIndex] = {}
        self._memo: dict[str, object] = {}

    def get(self, name: str, roots: list[tuple[str | None, str]], **kwargs) -> NameIndex:
        signature = (name, tuple(roots))
        with self._lock:
            if signature not in self._indexes:
                self._indexes[signature] = build_index(roots, **kwargs)
            return self._indexes[signature]

    def memo(self, name: str, build):
        """A value kept until the next :meth:`invalidate` (e.g. the usable dub roots)."""
        with self._lock:
            if name not in self._memo:
                self._memo[name] = build()
            return self._memo[name]

    def invalidate(self) -> None:
        with self._lock:
            self._indexes.clear()
            self._memo.clear()


def index_cache(services) -> IndexCache:
    """The process's index cache, kept on ``services.extras``."""
    return services.extras.setdefault("counterparts.index_cache", IndexCache())


def dub_roots(services) -> dict[str, str]:
    """``counterparts.dub_roots`` with languages normalised to two-letter codes."""
    return {alpha2_code(lang): str(Path(root).expanduser())
            for lang, root in (services.config.get("counterparts.dub_roots") or {}).items()}


def dub_root_of(services, path: str) -> str | None:
    """The language of the dub root ``path`` lies in, or None."""
    for language, root in dub_roots(services).items():
        if is_inside(path, [root]):
            return language
    return None


def library_index(services) -> NameIndex:
    """Video files in the library roots, dub roots excluded: where a late dub finds its original."""
    roots = [str(r) for r in services.config.library_roots]
    return index_cache(services).get("library", [(None, r) for r in roots], stop_at=roots,
                                     extensions=VIDEO_EXTS, skip=list(dub_roots(services).values()))


# --- deciding -----------------------------------------------------------------


@dataclass
class Decision:
    """Per wanted language: the chosen candidate, or the ambiguous set, or nothing found."""

    chosen: dict[str, Candidate] = field(default_factory=dict)
    ambiguous: dict[str, list[Candidate]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)


def collect(services, item: MediaItem, hook=None, roots: Iterable[str | os.PathLike] | None = None) -> list[Candidate]:
    """Every plugin's candidates for ``item``, deduplicated by real path, best score kept.

    ``hook`` defaults to ``services.hook.syncdub_find_counterparts``; the dry-run scan
    passes a subset caller that leaves out plugins which would read media or servers.
    Each plugin is called on its own (:func:`plugins.call_each`): one that fails is
    skipped, or, when its error is transient, the whole call is retried later.
    A candidate that resolves outside ``roots`` (default: the library and dub roots,
    :func:`roots.read_roots`) is dropped with a warning, whichever plugin offered it.
    """
    hook = hook or services.hook.syncdub_find_counterparts
    allowed = list(read_roots(services.config) if roots is None else roots)
    own = os.path.realpath(item.path)
    best: dict[str, Candidate] = {}
    for batch in call_each(hook, item=item, services=services):
        for cand in batch or ():
            real = os.path.realpath(cand.path)
            if real == own:
                continue
            if not is_inside(real, allowed):
                log.warning("%s offered %s, which resolves to %s outside the allowed roots; ignored",
                            cand.finder, cand.path, real)
                continue
            cand.language = alpha2_code(cand.language)
            kept = best.get(real)
            if kept is None or cand.score > kept.score:
                if kept is not None:
                    cand.reason = f"{cand.reason}; also {kept.finder}"
                best[real] = cand
            else:
                kept.reason = f"{kept.reason}; also {cand.finder}"
    return sorted(best.values(), key=lambda c: (-c.score, c.path))


def decide(candidates: list[Candidate], wanted: Iterable[str], min_score: float, margin: float) -> Decision:
    """Pick one candidate per wanted language, or flag the language as ambiguous.

    Candidates below ``min_score`` are dropped. Two candidates closer than ``margin`` in
    score are ambiguous (no merge; the job goes to needs_review). With no ``wanted``
    languages every candidate language is wanted. A candidate of unknown language counts
    only when exactly one language is wanted.
    """
    wanted = [alpha2_code(w) for w in wanted] or sorted({c.language for c in candidates if c.language})
    decision = Decision()
    for language in wanted:
        pool = [c for c in candidates if c.score >= min_score
                and (c.language == language or (c.language is None and len(wanted) == 1))]
        pool.sort(key=lambda c: (-c.score, c.path))
        if not pool:
            decision.missing.append(language)
        elif len(pool) > 1 and _close(pool[0].score, pool[1].score, margin):
            decision.ambiguous[language] = [c for c in pool if _close(pool[0].score, c.score, margin)]
        else:
            decision.chosen[language] = pool[0]
    return decision


def _close(best: float, other: float, margin: float) -> bool:
    return round(best - other, 6) < margin  # 0.9 - 0.8 must count as a full 0.1


def find_for(services, item: MediaItem, languages: Iterable[str] | None = None, hook=None) -> tuple[list[Candidate], Decision]:
    """:func:`collect` then :func:`decide` with the configured thresholds and languages."""
    config = services.config
    candidates = collect(services, item, hook)
    # a name that says no language: the track's tag, else its speech (worth it only for a real candidate)
    candidates = [langid.name_candidate(services, c) if c.language is None and c.score >= config.get(
        "counterparts.min_score") else c for c in candidates]
    wanted = list(languages) if languages else wanted_languages(services)
    decision = decide(candidates, wanted, config.get("counterparts.min_score"),
                      config.get("counterparts.ambiguity_margin"))
    return candidates, decision


def choose_dubs(services, item: MediaItem, languages: Iterable[str] | None = None, *, force: bool = False,
                hook=None) -> tuple[list[Candidate], Decision, dict[str, tuple[Candidate, dict]]]:
    """The dubs to merge into ``item``, as the job's counterparts stage and ``syncdub resync
    ORIGINAL`` both choose them: :func:`find_for` (a nameless candidate's language from its
    tag or speech, the wanted languages, ambiguity judged within a language), then the
    blocklist: a chosen pair the aligner rejected before is taken out of ``decision.chosen``
    unless ``force``. Returns (candidates, decision, blocked: language -> (candidate, row))."""
    from . import jobs

    found, decision = find_for(services, item, languages, hook)
    if force or not decision.chosen:
        return found, decision, {}
    rows = jobs.blocked_dubs(services.store, item.path, {lang: c.path for lang, c in decision.chosen.items()})
    blocked = {lang: (decision.chosen.pop(lang), row) for lang, row in rows.items()}
    return found, decision, blocked


def wanted_languages(services) -> list[str]:
    """``library.languages``, else the languages of the dub roots, else [] (any language)."""
    configured = [alpha2_code(x) for x in services.config.get("library.languages") or []]
    return configured or sorted(dub_roots(services))


def parsed_item(item: MediaItem, stop_at: Iterable[str] = ()) -> ParsedName:
    """What the item's path says, completed from the resolver's metadata.

    A movie's imdb/tmdb ids from the server are used; an episode's are not, because
    servers give the episode's own ids while dub folders carry the series' ids.
    """
    parsed = parse_path(item.path, stop_at)
    if item.kind == "episode" and not parsed.is_episode and item.season is not None and item.episode is not None:
        parsed.kind, parsed.season, parsed.episodes = "episode", item.season, (item.episode,)
    if not parsed.is_episode:
        for provider, value in (item.provider_ids or {}).items():
            if provider.lower() in ("imdb", "tmdb") and value:
                parsed.provider_ids.setdefault(provider.lower(), str(value).lower())
        parsed.year = parsed.year or item.year
    if not parsed.key:
        parsed.title = (item.series if parsed.is_episode else item.title) or ""
        parsed.key = title_key(parsed.title)
    return parsed
