"""Runs one claimed job through the stages and turns every outcome into a job state.

Policy (after FlexGet's task runner): our transient errors are retried with backoff up to
``jobs.max_attempts``; our permanent errors end the job (rejected or failed) with their
message; anything else is logged as a bug with its traceback, fails the job, and the
service keeps running. The job's record is persisted after every stage.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

from .. import jobs
from ..errors import AlignmentRejected, SyncDubError
from ..job import Job
from . import policy
from .context import Busy, Cancelled, Finish, Interrupted, JobContext, Wait
from .stages import STAGES

log = logging.getLogger(__name__)

BUSY_DELAY = 5.0
# merges_started is kept past the end on purpose: a retry of this job must still know
# that a track it finds may be its own (see .mux); so are the maps (approve merges them).
RESUME_FIELDS = ("plan", "merged", "published", "ready_probe", "waiting_since")


def default_merge(*args, **kwargs):
    """The real merge, ``syncdub_companion.merge.resync``, imported on first use."""
    from ..merge import resync

    return resync(*args, **kwargs)


def default_align(services, original: str, dubbed: str, **kwargs) -> tuple:
    """The align stage's call: ``(timemap, None)``, or ``(None, skipped result dict)`` when the
    file already holds the synced track (nothing aligned). Through the aligner's front door."""
    from ..merge import align_pair, skipped_result

    plan, timemap = align_pair(services, original, dubbed, **kwargs)
    return (timemap, None) if timemap is not None else (None, skipped_result(plan).to_dict())


def default_merge_many(*args, **kwargs):
    """Several languages in one write, ``syncdub_companion.merge.multi.resync_many``."""
    from ..merge.multi import resync_many

    return resync_many(*args, **kwargs)


def run_job(services, job: Job, *, worker: str = "main", merge: Callable | None = None,
            align: Callable | None = None, merge_many: Callable | None = None,
            abort: threading.Event | None = None, context: JobContext | None = None) -> str:
    """Take a claimed ``job`` through every stage; returns the state it was left in.

    ``merge``, ``align`` and ``merge_many`` replace the real ones (tests); an injected
    ``merge`` without ``merge_many`` is called once per language."""
    ctx = context or JobContext(services, job, merge or default_merge, worker, abort or threading.Event())
    ctx.align = ctx.align or align or default_align
    if ctx.merge_many is None:
        ctx.merge_many = merge_many or (default_merge_many if ctx.merge is default_merge else None)
    try:
        _check_interrupt_budget(ctx)
        for name, stage in STAGES:
            ctx.checkpoint()
            ctx.save(stage=name)
            stage(ctx)
        raise Finish("done", "finished")  # the last stage always raises; this guards a plugin-added one
    except Finish as outcome:
        return _finish(ctx, outcome.state, outcome.message, **outcome.fields)
    except Wait as wait:
        return _release(ctx, "waiting_for_file", wait.delay, uncount=False, note=f"waiting: {wait.reason}")
    except Busy as busy:
        # a merge that found the file locked has set "aligning" already; only these two are claimable
        state = "waiting_for_file" if ctx.job.state == "waiting_for_file" else "queued"
        return _release(ctx, state, busy.delay or BUSY_DELAY, uncount=True, note=str(busy))
    except Interrupted:
        return _release(ctx, "queued", 0.0, uncount=True, note="re-queued: the service is stopping")
    except Cancelled:
        return _finish(ctx, "cancelled", "cancelled on request")
    except Exception as exc:  # noqa: BLE001 - the policy below decides; nothing may kill the worker
        return _failed(ctx, exc)


def _check_interrupt_budget(ctx: JobContext) -> None:
    """A job interrupted on every try (it crashes the service?) fails instead of looping."""
    if not ctx.job.interrupted:
        return
    ctx.save(interrupted=False)
    limit = ctx.setting("jobs.max_attempts")
    if ctx.job.attempts > limit:
        raise SyncDubError(f"interrupted {limit} times (the service stopped or crashed during the job); "
                           "see the service log, then `syncdub jobs retry` it")


def _release(ctx: JobContext, state: str, delay: float, uncount: bool, note: str) -> str:
    if ctx.abandoned:
        return "abandoned"
    jobs.append_log(ctx.store, ctx.job_id, note)
    fields = {"waiting_reason": note} if state == "waiting_for_file" else {}
    jobs.release(ctx.store, ctx.job_id, state, delay=delay, uncount=uncount, **fields)
    return state


def _failed(ctx: JobContext, exc: Exception) -> str:
    if ctx.abandoned:
        return "abandoned"
    message = policy.describe(exc)
    attempts, limit = ctx.job.attempts, ctx.setting("jobs.max_attempts")
    if policy.is_transient(exc) and attempts < limit:
        delay = policy.backoff(ctx.setting("jobs.retry_backoff"), attempts)
        ctx.note(f"attempt {attempts} of {limit} failed, retrying in {delay:.0f} s: {message}")
        jobs.release(ctx.store, ctx.job_id, "queued", delay=delay, error=message)
        return "queued"
    if policy.is_transient(exc):
        message = f"gave up after {attempts} attempts: {message}"
    elif not isinstance(exc, SyncDubError):
        log.exception("job %s: bug while running stage %s", ctx.job_id, ctx.job.stage)
    extra = {"result": {"confidence": exc.confidence, "reason": exc.reason}} if isinstance(exc, AlignmentRejected) else {}
    return _finish(ctx, policy.final_state(exc), message, error=message, **extra)


def _finish(ctx: JobContext, state: str, message: str, **fields) -> str:
    """Store the final state and result, drop the resume data, fire syncdub_job_finished."""
    if ctx.abandoned:
        return "abandoned"
    stored = ctx.store.get(jobs.TABLE, ctx.job_id)
    job = Job.from_dict(stored) if stored else ctx.job
    job.apply(fields)
    result = fields.pop("result", None) or _result(job, message)
    updates = {**{name: None for name in RESUME_FIELDS}, **fields}
    updates.setdefault("error", None)
    jobs.set_state(ctx.store, ctx.job_id, state, worker=None, result=result,
                   progress=100.0 if state in ("done", "skipped") else job.progress, **updates)
    jobs.append_log(ctx.store, ctx.job_id, f"{state}: {message}")
    # Every outcome in the service log too, not only in the job's: rejected and failed
    # are the ones a user looks for there.
    (log.warning if state in ("rejected", "failed") else log.info)("job %s %s: %s", ctx.job_id, state, message)
    record = jobs.get(ctx.store, ctx.job_id)
    try:
        ctx.services.hook.syncdub_job_finished(job=record, services=ctx.services)
    except Exception:  # noqa: BLE001 - a notifier plugin must not change the job's outcome
        log.exception("job %s: a syncdub_job_finished plugin failed", ctx.job_id)
    jobs.stow(ctx.store, [ctx.job_id])  # out of the job file, which every webhook rewrites
    try:
        # here, where jobs end, so the store stays as small as the retention settings say
        removed = jobs.prune_by_settings(ctx.store, ctx.services.config, batch=True)
        if removed:
            log.info("pruned %d finished job(s) past jobs.keep_days / jobs.keep_finished", removed)
    except Exception:  # noqa: BLE001 - housekeeping must not change the job's outcome
        log.exception("pruning finished jobs failed")
    return state


def _result(job: Job, message: str) -> dict:
    from .stages import not_added

    merged = job.merged or {}
    outputs = sorted({r.get("output_path") for r in merged.values()
                      if r.get("status") == "done" and r.get("output_path")})
    return {"message": message, "languages": merged, "outputs": outputs, "review": job.review or {},
            "not_added": not_added(job)}
