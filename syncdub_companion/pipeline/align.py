"""The align stage: a time map for each planned dub, stored on the job the moment it exists.

A map stored here is never computed again by this job: a retry after the mux failed (a
full disk, a busy file, a failed verify) goes straight to the mux with it, the job page
plots it while the mux runs, and an approved review map is merged as it was heard.

Each language stands alone: a dub the aligner rejects (it goes on the blocklist) or that
fails is recorded under its language and the others go on; :func:`.stages.finish` says
which were added and which were not, and why.
"""
from __future__ import annotations

from .. import jobs
from ..errors import AlignmentRejected, SyncDubError
from ..job import Job
from . import policy
from .context import JobContext


def align(ctx: JobContext) -> None:
    """Align every planned dub that has no stored map yet, one language after another."""
    maps = dict(ctx.job.maps or {})
    plan = ctx.job.plan
    for index, language in enumerate(sorted(plan)):
        if language in maps:
            continue
        ctx.checkpoint()
        ctx.save(state="aligning")
        ctx.note(f"aligning {language} from {plan[language]['path']}")
        maps[language] = _align_one(ctx, language, plan[language], ctx.progress_callback(index, len(plan)))
        ctx.save(maps=maps)  # at once: the page plots it and no retry aligns it again
        ctx.note(f"{language}: {_describe(maps[language])}")


def _align_one(ctx: JobContext, language: str, cand: dict, progress) -> dict:
    """The stored entry for one language: status aligned, review, rejected, failed or skipped."""
    entry = {"dubbed": cand["path"], "candidate": cand}
    code = None if language == "und" else language
    original = ctx.job.item["path"]
    try:
        timemap, skipped = ctx.align(ctx.services, original, cand["path"], language=code, mode=ctx.job.mode,
                                     force=bool(ctx.job.force), progress=progress)
    except AlignmentRejected as exc:  # an aligner plugin may refuse by raising
        return _rejected(ctx, entry, code, exc.reason, exc.confidence)
    except SyncDubError as exc:
        if policy.is_transient(exc):
            raise  # the whole job is retried later; the maps stored so far stay
        return {**entry, "status": "failed", "reason": policy.describe(exc)}
    if skipped is not None:
        return {**entry, "status": "skipped", "result": skipped}
    entry.update(timemap=timemap.to_dict(with_anchors=True), reason=timemap.reason, confidence=timemap.confidence)
    if timemap.aligned:
        return {**entry, "status": "aligned"}
    if timemap.verdict == "review":
        return {**entry, "status": "review"}  # kept, never merged unless a user approves it
    return _rejected(ctx, entry, code, timemap.reason or "the aligner rejected the pair", timemap.confidence)


def _rejected(ctx: JobContext, entry: dict, language: str | None, reason: str, confidence) -> dict:
    # remembered apart from the job, which pruning removes: scans and webhooks skip the pair
    jobs.block(ctx.store, ctx.job.item["path"], entry["dubbed"], language, ctx.job_id, reason, confidence)
    return {**entry, "status": "rejected", "reason": reason, "confidence": confidence}


def _describe(entry: dict) -> str:
    status = entry["status"]
    if status in ("aligned", "review"):
        confidence = entry.get("confidence")
        sure = f" (confidence {confidence:.2f})" if isinstance(confidence, (int, float)) else ""
        return ("aligned" if status == "aligned" else "held for review: " + (entry.get("reason") or "unsure")) + sure
    if status == "skipped":
        return "skipped: " + (entry["result"].get("message") or "nothing to do")
    return f"{status}: {entry.get('reason')}"


def mergeable(job: Job, language: str) -> bool:
    """Whether the mux should write ``language``: an aligned map, or a review map a user
    approved, that this job has not merged yet."""
    entry = (job.maps or {}).get(language) or {}
    if entry.get("merged"):
        return False
    return entry.get("status") == "aligned" or (entry.get("status") == "review" and language in job.approved)
