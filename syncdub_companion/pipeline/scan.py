"""Backfill: walk the library, find originals lacking a wanted dub, plan and queue jobs.

Planning reads names and the folder tree only (the finders marked ``SYNCDUB_NAMES_ONLY``),
never a media file or a server, so ``syncdub scan --dry-run`` is cheap and safe. Each
queued job runs every finder again, the media-server one included.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable

from .. import jobs
from ..counterparts import dub_roots, find_for, index_cache, walk_media, wanted_languages
from ..media import VIDEO_EXTS, Candidate, MediaItem
from ..naming import split_extension, split_sidecar
from ..paths import ensure_inside

BESIDE_SUFFIX = ".multi"  # the default output_paths plugin's name for output_mode = beside


@dataclass
class Planned:
    """One job the scan would queue: an original, its dub, the language and the match score."""

    original: str
    dubbed: str
    language: str
    score: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ScanReport:
    """What a scan found: planned pairs, ambiguous originals, and counts.

    ``status`` (filled by :func:`classify`) says per planned pair, in order, whether it is
    ``new``, ``done`` (a done or skipped job, pruned ones included), ``open`` (a job is
    queued or running) or ``rejected`` (on the blocklist).
    """

    planned: list[Planned] = field(default_factory=list)
    ambiguous: list[dict] = field(default_factory=list)
    originals: int = 0
    queued: list[int] = field(default_factory=list)
    status: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How many planned pairs are new, done, open and rejected."""
        return {name: self.status.count(name) for name in ("new", "done", "open", "rejected")}

    def summary(self) -> str:
        """``1 new, 3 done, 0 rejected`` (and ``, 2 open`` when jobs are still open)."""
        counts = self.counts()
        text = f"{counts['new']} new, {counts['done']} done, {counts['rejected']} rejected"
        return text + (f", {counts['open']} open" if counts["open"] else "")


def names_only_hook(services):
    """``syncdub_find_counterparts`` limited to the plugins that read names only."""
    pm = services.pm
    others = [p for p in pm.get_plugins() if not getattr(p, "SYNCDUB_NAMES_ONLY", False)]
    return pm.subset_hook_caller("syncdub_find_counterparts", remove_plugins=others)


def scan_roots(services, root: str | None) -> list[str]:
    """``root`` (which must lie inside the library) or every library root."""
    library = services.config.library_roots
    if root:
        return [str(ensure_inside(root, library, "scan root"))]
    if not library:
        ensure_inside(".", library, "scan root")  # raises: no library.roots configured
    return [str(r) for r in library]


def find_originals(services, roots: Iterable[str]) -> list[str]:
    """Video files under ``roots``, leaving out the dub roots, sidecar dubs and ``.multi`` outputs of other files."""
    skip = list(dub_roots(services).values())
    found = []
    for root in roots:
        paths = list(walk_media(root, VIDEO_EXTS, skip))
        stems = {(os.path.dirname(p), split_extension(os.path.basename(p))[0]) for p in paths}
        for path in paths:
            folder, stem = os.path.dirname(path), split_extension(os.path.basename(path))[0]
            side = split_sidecar(os.path.basename(path))
            if side and (folder, side[0]) in stems:
                continue
            if stem.endswith(BESIDE_SUFFIX) and (folder, stem[:-len(BESIDE_SUFFIX)]) in stems:
                continue  # output_mode = beside wrote it; its original is scanned instead
            found.append(path)
    return found


def plan(services, root: str | None = None, languages: Iterable[str] | None = None,
         progress: Callable[[int], None] | None = None, total: Callable[[int], None] | None = None) -> ScanReport:
    """Plan the backfill: one :class:`Planned` per original and wanted language with a clear dub.

    ``total`` is told how many originals there are, ``progress`` is called after each.
    """
    languages = list(languages or []) or wanted_languages(services)
    originals = find_originals(services, scan_roots(services, root))
    if total:
        total(len(originals))
    index_cache(services).invalidate()
    hook = names_only_hook(services)
    report = ScanReport(originals=len(originals))
    for path in originals:
        # The finders parse the path themselves; the dry run has no server metadata to add.
        _plan_one(services, MediaItem(path), languages, hook, report)
        if progress:
            progress(1)
    return report


def _plan_one(services, item: MediaItem, languages: list[str], hook, report: ScanReport) -> None:
    _, decision = find_for(services, item, languages, hook)
    for language, cand in sorted(decision.chosen.items()):
        report.planned.append(Planned(item.path, cand.path, language, round(cand.score, 3)))
    for language, cands in sorted(decision.ambiguous.items()):
        report.ambiguous.append({"original": item.path, "language": language,
                                 "candidates": [_short(c) for c in cands]})


def _short(cand: Candidate) -> dict:
    return {"dubbed": cand.path, "score": round(cand.score, 3), "finder": cand.finder}


def classify(services, report: ScanReport) -> ScanReport:
    """Fill ``report.status``: whether each planned pair is new, done, open or rejected.

    Done counts pruned jobs too (their outcome stays in the store's compact finished
    table); rejected is the blocklist, which pruning never touches.
    """
    store = services.store
    done = jobs.known_pairs(store, {"done", "skipped"})
    open_ = jobs.known_pairs(store, jobs.ACTIVE_STATES)
    blocked = jobs.blocked_pairs(store)
    report.status = []
    for pair in report.planned:
        keys = {(pair.original, pair.language), (pair.original, None)}
        if keys & open_:
            report.status.append("open")
        elif keys & done:
            report.status.append("done")
        elif jobs.is_blocked(blocked, pair.original, pair.dubbed):
            report.status.append("rejected")
        else:
            report.status.append("new")
            open_.add((pair.original, pair.language))  # the same pair twice in one plan: once
    return report


def queue(services, report: ScanReport, force: bool = False) -> list[int]:
    """Queue one job per new planned pair: none for a pair with an open job, one done or
    skipped before, or one the aligner rejected (``force`` queues them all)."""
    with services.store.transaction():
        classify(services, report)
        batch = [{"original": pair.original, "language": pair.language, "source": "scan", "force": force}
                 for pair, status in zip(report.planned, report.status) if force or status == "new"]
        report.queued = jobs.create_many(services.store, batch) if batch else []
    return report.queued
