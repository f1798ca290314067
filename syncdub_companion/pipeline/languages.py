"""The languages stage: each planned dub's language, from its track and checked by ear.

A dub whose name and folder said nothing is planned under ``und``; its track's tag, else
the language Whisper hears (:mod:`..langid`), takes that place, so it is merged, tagged
and reported as that language. A tagged track is checked against its speech
(``speech.check_tags``): a contradiction goes into the job's log and onto its page (the
plan entry's ``language_check``), and the tag stays.
"""
from __future__ import annotations

from .. import langid
from ..errors import SyncDubError
from .context import JobContext

UNKNOWN = "und"


def languages(ctx: JobContext) -> None:
    """Settle the language of every planned dub once (a resumed job keeps what it learnt)."""
    plan = _field(ctx.job, "plan") or {}
    if not plan or all("language_check" in cand for cand in plan.values()):
        return
    settled: dict = {}
    for key, cand in sorted(plan.items(), key=lambda kv: kv[0] == UNKNOWN):  # known languages first
        if "language_check" not in cand:
            cand = {**cand, "language_check": _check(ctx, cand["path"])}
        heard = cand["language_check"].get("language")
        language = heard if key == UNKNOWN and heard and heard not in settled and heard not in plan else key
        if language != key:
            cand["language"] = language
        settled[language] = cand
    ctx.save(plan=settled)


def _check(ctx: JobContext, path: str) -> dict:
    """The check's record; a file that cannot be read is the merge's to report, not ours."""
    try:
        found = langid.check(ctx.services, path)
    except SyncDubError as exc:
        return {"path": path, "language": None, "note": None, "why_not": str(exc), "contradicts": False}
    if found.note():
        ctx.note(found.note())
    return {**found.to_dict(), "language": found.language}


def _field(job, name: str):
    return job.get(name) if isinstance(job, dict) else getattr(job, name, None)
