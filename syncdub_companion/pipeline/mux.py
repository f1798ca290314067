"""The mux stage: write the stored maps' dubs into a temp file, verify it, swap it into place.

Several languages go into one write (one temp file, one verify, one swap, and later one
rescan): :func:`~syncdub_companion.merge.multi.resync_many`. An injected single-language
merge (``run_job(merge=...)`` without ``merge_many``) is called once per language instead.

The swap (the rename over the library file) is a step of its own on the job (its
``stage`` reads ``swap`` from just before the rename), but it runs inside the same
:func:`~syncdub_companion.merge.resync` call as the temp file and the verify: the temp
file and the file's merge lock live in that call's ``with`` blocks, which remove the temp
and free the lock on every way out. Carrying them across a stage boundary would need a
second clean-up path for the user's file; keeping one call keeps one. See docs/jobs.md.

Nothing here aligns: every map comes from the align stage (:mod:`.align`).
"""
from __future__ import annotations

import dataclasses

from .. import jobs
from ..errors import AlignmentRejected, FileBusyError, SyncDubError, ToolError, VerificationError
from . import policy
from .align import mergeable
from .context import Busy, JobContext

# Seconds a worker waits for another process's merge of the same file before it gives the
# job back to the queue (for LOCK_RETRY seconds, no attempt used): a short wait keeps the
# worker free for other files while a long `syncdub resync` holds this one.
LOCK_WAIT = 5.0
LOCK_RETRY = 15.0


def mux(ctx: JobContext) -> None:
    """Merge every language whose map may be merged (several in one write), and record
    what each merge did."""
    todo = [lang for lang in sorted(ctx.job.plan or {}) if lang not in (ctx.job.merged or {})]
    for language in todo:
        entry = (ctx.job.maps or {}).get(language) or {}
        if entry.get("status") == "skipped":
            _record(ctx, {language: _own_earlier(ctx, language, dict(entry["result"]))})
    ready = [lang for lang in todo if mergeable(ctx.job, lang)]
    if len(ready) > 1 and ctx.merge_many is not None:
        try:
            _record(ctx, _merge_all(ctx, ready))
            return
        except (ToolError, VerificationError) as exc:
            # one dub's track may be what broke the write: each on its own, so it sinks only itself
            ctx.note(f"writing {', '.join(ready)} at once failed ({exc}); now each language on its own")
    for language in ready:
        _record(ctx, {language: _merge_alone(ctx, language, several=len(ready) > 1)})


def _merge_alone(ctx: JobContext, language: str, several: bool) -> dict:
    """One language's merge; among several, a permanent failure is recorded for it alone."""
    try:
        return _merge_one(ctx, language, ctx.job.maps[language])
    except SyncDubError as exc:
        if not several or policy.is_transient(exc) or isinstance(exc, AlignmentRejected):
            raise
        return {"status": "failed", "output_path": None, "message": policy.describe(exc)}


def _record(ctx: JobContext, results: dict[str, dict]) -> None:
    merged, maps = dict(ctx.job.merged or {}), dict(ctx.job.maps or {})
    for language, result in results.items():
        merged[language] = result
        maps[language] = {**maps.get(language, {}), "merged": result.get("status")}  # kept past the end: approve re-runs
        if result.get("status") == "failed":  # finish reports it with the languages not added
            maps[language].update(status="failed", reason=result.get("message"))
    ctx.save(merged=merged, maps=maps)
    for language, result in results.items():
        ctx.note(f"{language}: {result.get('status')} {result.get('output_path') or ''}".rstrip())


def _merge_all(ctx: JobContext, languages: list[str]) -> dict[str, dict]:
    """Several languages: one temp file, one verify, one swap (merge.multi.resync_many)."""
    from ..merge.multi import Dub

    ctx.checkpoint()
    ctx.save(state="muxing", stage="mux")
    ctx.note(f"merging {', '.join(languages)} in one write with the stored maps")
    dubs = {lang: Dub(ctx.job.maps[lang]["dubbed"], None if lang == "und" else lang, _map_for(ctx, lang))
            for lang in languages}
    try:
        results = ctx.merge_many(ctx.services, ctx.job.item["path"], dubs, mode=ctx.job.mode,
                                 force=bool(ctx.job.force), progress=ctx.progress_callback(0, 1),
                                 lock_wait=LOCK_WAIT, before_swap=lambda: _swapping(ctx, *languages))
    except FileBusyError as exc:
        raise Busy(message=str(exc), delay=LOCK_RETRY) from None
    return {lang: _own_earlier(ctx, lang, results[lang].to_dict()) for lang in languages}


def _map_for(ctx: JobContext, language: str):
    timemap = ctx.job.timemap(language)
    if timemap.verdict == "review":  # a user approved it after listening
        timemap = dataclasses.replace(timemap, verdict="aligned", details={**timemap.details, "approved": True})
    return timemap


def _merge_one(ctx: JobContext, language: str, entry: dict) -> dict:
    ctx.checkpoint()
    timemap = _map_for(ctx, language)
    ctx.save(state="muxing", stage="mux")
    ctx.note(f"merging {language} from {entry['dubbed']} with the stored map")
    original = ctx.job.item["path"]
    try:
        result = ctx.merge(ctx.services, original, entry["dubbed"], language=None if language == "und" else language,
                           mode=ctx.job.mode, force=bool(ctx.job.force), timemap=timemap,
                           progress=ctx.progress_callback(0, 1), lock_wait=LOCK_WAIT,
                           before_swap=lambda: _swapping(ctx, language))
    except FileBusyError as exc:
        raise Busy(message=str(exc), delay=LOCK_RETRY) from None
    except AlignmentRejected as exc:
        # a merge that refuses the map is an aligner's verdict too: remembered like one
        jobs.block(ctx.store, original, entry["dubbed"], None if language == "und" else language, ctx.job_id,
                   exc.reason, exc.confidence)
        raise
    return _own_earlier(ctx, language, result.to_dict() if hasattr(result, "to_dict") else dict(result))


def _swapping(ctx: JobContext, *languages: str) -> None:
    """Saved just before the rename: if the process dies after the merged file is renamed
    into place but before the result is saved, the retry finds the track there and must
    count it as this job's own work (done, and rescanned), not as skipped."""
    ctx.save(stage="swap", merges_started=sorted({*ctx.job.merges_started, *languages}))


def _own_earlier(ctx: JobContext, language: str, result: dict) -> dict:
    if language in ctx.job.merges_started and result.get("status") == "skipped" and result.get("same_source"):
        result.update(status="done", message=f"{result.get('output_path')} already holds this dub's synced track, "
                      "written by an earlier attempt of this job")
    return result
