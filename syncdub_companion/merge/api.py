"""resync: align a dub to a library file, merge it in, verify, publish. One call, one file.

The job runner and ``syncdub resync`` both call :func:`resync`. It does not tell the media
servers (``syncdub_library_changed``); its callers do, once per batch.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from ..align.timemap import TimeMap
from ..errors import AlignmentRejected, DiskFullError, FileChangedError
from .cleanup import TempSet, cleanup_leftovers, journal_dir
from .lock import file_lock
from .mkv import source_fingerprint, write_merged
from .plan import MergePlan, finalize, gib, prepare
from .publish import apply_ownership, backup_path, fsync_path, make_folders, publish
from .render import prepare_dub
from .space import check_space, is_enospc
from .verify import StreamCheck, verify
from ..timing import LapClock

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
# Share of the whole run each stage covers, in percent: (start, end).
SPANS = {"aligning": (0, 40), "dub": (40, 65), "mux": (65, 92), "publishing": (92, 100)}


@dataclass
class MergeResult:
    """What a resync did: ``status`` is done, skipped or planned (a dry run)."""

    status: str
    output_path: str | None
    timemap: TimeMap | None
    plan: MergePlan
    message: str = ""
    verification: dict = field(default_factory=dict)
    same_source: bool = False  # skipped: the synced track there came from this very dub

    def to_dict(self) -> dict:
        return {"status": self.status, "output_path": self.output_path, "message": self.message,
                "same_source": self.same_source,
                "timemap": self.timemap.to_dict(with_anchors=True) if self.timemap else None,
                "plan": self.plan.to_dict(), "verification": self.verification}


def resync(services, original: str, dubbed: str, *, language: str | None, mode: str | None = None,
           force: bool = False, timemap: TimeMap | None = None, progress: Progress | None = None,
           dry_run: bool = False, lock_wait: float | None = None,
           on_wait: Callable[[str], None] | None = None, before_swap: Callable[[], None] | None = None) -> MergeResult:
    """Merge ``dubbed``'s audio, synced, into ``original`` (or beside it, per ``mode``).

    ``progress(percent, stage)`` reports stages aligning, muxing and publishing. A file
    that already holds a synced track for the language is skipped unless ``force``, which
    replaces that track; the result's ``same_source`` then says whether that track came
    from this very dub. Raises AlignmentRejected when the map is rejected, DiskFullError,
    PathNotAllowedError, VerificationError; the original is untouched whenever it raises.

    Everything from reading the file's tracks to renaming the result is done under the
    file's merge lock (:mod:`.lock`), so a concurrent merge of the same file (another
    language, another process) is never lost: this one waits ``lock_wait`` seconds (None:
    as long as it takes; ``on_wait`` hears once that it waits), then FileBusyError; and it
    raises FileChangedError instead of publishing when the file changed under it anyway.
    A dry run writes nothing and takes no lock.

    Given ``timemap`` (the job's align stage stored it), nothing is aligned. ``before_swap``
    runs after the temp file is verified, just before it is renamed into place (the job
    marks its swap there).
    """
    report = _Reporter(progress)
    cleanup_leftovers(journal_dir(services))
    if dry_run:
        return _resync(services, original, dubbed, language, mode, force, timemap, report, dry_run=True)
    with file_lock(services, original, lock_wait, on_wait):
        return _resync(services, original, dubbed, language, mode, force, timemap, report, dry_run=False,
                       before_swap=before_swap)


def _resync(services, original: str, dubbed: str, language: str | None, mode: str | None, force: bool,
            timemap: TimeMap | None, report: "_Reporter", dry_run: bool,
            before_swap: Callable[[], None] | None = None) -> MergeResult:
    plan = prepare(services, original, dubbed, language=language, mode=mode, force=force)
    if plan.action == "skip":
        return skipped_result(plan, timemap)
    report("aligning", 0.0)
    timemap = timemap or align(services, plan, report)
    if not timemap.aligned:
        raise AlignmentRejected(timemap.reason or "the aligner rejected the pair", timemap.confidence)
    plan = finalize(plan, timemap, services.config)
    report("aligning", 1.0)
    if dry_run:
        return MergeResult("planned", str(plan.output), timemap, plan, "dry run: nothing written")
    return _merge(services, plan, report, before_swap)


def align(services, plan: MergePlan, report: "_Reporter | None" = None) -> TimeMap:
    """The time map of the plan's tracks, through the aligner's one front door
    (:func:`~syncdub_companion.alignment.align_files`); the built-in aligner reports its
    sub-steps through ``report`` (and a cancelled job's progress callback stops it there)."""
    from ..alignment import align_files

    progress = None if report is None else (lambda fraction, doing: report("aligning", fraction, doing))
    return align_files(services, str(plan.original), str(plan.dubbed), orig_track=plan.orig_track.index,
                       dub_track=plan.dub_track.index, progress=progress)


def align_pair(services, original: str, dubbed: str, *, language: str | None, mode: str | None = None,
               force: bool = False, progress: Progress | None = None) -> tuple[MergePlan, TimeMap | None]:
    """What the job's align stage needs: the merge's plan and the pair's time map, or None
    for the map when the merge would skip (the file already holds a synced track), which
    then costs no alignment. Any verdict is returned; only :func:`resync` refuses one."""
    plan = prepare(services, original, dubbed, language=language, mode=mode, force=force)
    if plan.action == "skip":
        return plan, None
    report = _Reporter(progress)
    report("aligning", 0.0)
    timemap = align(services, plan, report)
    report("aligning", 1.0)
    return plan, timemap


def skipped_result(plan: MergePlan, timemap: TimeMap | None = None) -> "MergeResult":
    """The result of a merge that has nothing to do: a synced track of the language is there."""
    same = source_fingerprint(plan.dubbed) in plan.existing_sources
    whose = "this dub's" if same else "a"
    return MergeResult("skipped", str(plan.output), timemap, plan,
                       f"{plan.output.name} already has {whose} synced {plan.language.bibliographic} track "
                       "(use --force to replace it)", same_source=same)


def _merge(services, plan: MergePlan, report: "_Reporter", before_swap: Callable[[], None] | None = None) -> MergeResult:
    reference_stat = plan.original.stat()
    if plan.mode == "replace" and services.config.get("library.backup_dir"):
        backup_path(services, plan)  # refuse a backup folder outside the roots before any work
    make_folders(plan.output.parent, reference_stat, services.config)
    check_space(plan.output.parent, plan.space_needed,
                f"{gib(plan.base_size)} for the merged file + {gib(2 * plan.dub_bytes)} for the dub track "
                f"+ {services.config.get('library.space_margin_mb')} MiB margin")
    with disk_full_while_writing(plan.output.parent), TempSet(plan.output, journal_dir(services)) as temps:
        clock = LapClock()
        dub = prepare_dub(services, plan, temps, lambda f: report("dub", f))
        clock.lap("dub")
        # a copied track decodes (CPU) through the mux and the fsync (disk); verify then
        # compares the merged file's packets with it
        reference = StreamCheck(services, dub.path, 0) if plan.stream_copy else None
        try:
            temp = temps.path()
            muxer = write_merged(services, plan, dub, temp, temps.path("tags"), lambda f: report("mux", f))
            clock.lap("mux")
            report("publishing", 0.0)
            plan.notes += apply_ownership(temp, reference_stat, services.config)
            # fsync (disk-bound) runs while ffmpeg reads the new track; all end before the rename
            checked = verify(services, plan, temp, dub, while_checking=lambda: fsync_path(temp),
                             reference=reference)
            temps.path("dub").unlink(missing_ok=True)  # free its space before publishing
        finally:
            if reference:
                reference.stop()
        clock.lap("fsync_verify")
        report("publishing", 0.6)
        output = swap(services, [plan], temp, before_swap)
        clock.lap("publish")
        checked["timings"] = clock.laps
        checked["muxer"] = muxer
    report("publishing", 1.0)
    log.info("merged %s track into %s (%s)", plan.language.bibliographic, output, plan.codec)
    return MergeResult("done", str(output), plan.timemap, plan, f"added \"{plan.track_name}\" to {output.name}",
                       checked)


def swap(services, plans: list[MergePlan], temp: Path, before_swap: Callable[[], None] | None) -> Path:
    """The verified ``temp`` renamed into place (the first plan's output), unless a file a
    plan read changed meanwhile; ``before_swap`` runs just before the rename."""
    for plan in plans:
        _check_unchanged(plan)
    if before_swap is not None:
        before_swap()
    return publish(services, plans[0], temp)


@contextmanager
def disk_full_while_writing(folder: Path) -> Iterator[None]:
    """Around the temp files' block (so that they are gone first): a full disk becomes a
    DiskFullError that says the original is untouched."""
    try:
        yield
    except OSError as exc:
        if is_enospc(exc):
            raise DiskFullError(f"the disk holding {folder} filled up while writing; "
                                "the temp file was removed and the original is untouched") from None
        raise


def _check_unchanged(plan: MergePlan) -> None:
    """FileChangedError when something that ignores the merge lock wrote the file meanwhile:
    renaming now would throw its change away."""
    changed = plan.changed_files()
    if changed:
        raise FileChangedError(f"{', '.join(changed)} changed while the merge ran (another program wrote it); "
                               "nothing was published, the file keeps that program's version; trying again later")


class _Reporter:
    """Maps per-step fractions onto the whole run's percent and the public stage names."""

    STAGE = {"aligning": "aligning", "dub": "muxing", "mux": "muxing", "publishing": "publishing"}

    def __init__(self, progress: Progress | None):
        self.progress = progress
        self.last: tuple[float, str] = (-1.0, "")

    def __call__(self, step: str, fraction: float, doing: str | None = None) -> None:
        """``doing`` names a sub-step ("decoding 40%"): the stage reads "aligning: decoding 40%"."""
        if self.progress is None:
            return
        lo, hi = SPANS[step]
        percent = round(lo + (hi - lo) * max(0.0, min(fraction, 1.0)), 1)
        stage = f"{self.STAGE[step]}: {doing}" if doing else self.STAGE[step]
        if (percent, stage) != self.last:
            self.last = (percent, stage)
            self.progress(percent, stage)


__all__ = ["resync", "MergeResult", "align", "align_pair", "skipped_result"]
