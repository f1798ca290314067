"""The job's stages, in order. Each takes the :class:`JobContext` and persists what it learns,
so a job re-queued after a crash or a transient error resumes where it stopped.

resolve -> originals (a dub that arrived late) -> counterparts -> readiness -> align ->
mux (temp file, verify, swap) -> rescan -> finish. The ordered list is :data:`STAGES`;
align and mux live in modules of their own.
"""
from __future__ import annotations

import os
import time

from .. import jobs
from ..counterparts import choose_dubs, collect, decide, dub_root_of, dub_roots, index_cache, wanted_languages
from ..errors import AlignmentRejected, MediaError, SyncDubError, UsageError
from ..folders import dub_root_note
from ..health import server_fix
from ..languages import alpha2_code
from ..media import Candidate, LibraryEvent
from ..naming import parse_path, split_sidecar
from ..paths import ensure_inside
from ..plugins import call_each
from ..roots import ensure_readable, write_roots
from ..job import Job
from . import readiness as ready
from .languages import languages
from .align import align
from .context import Busy, Finish, JobContext, Wait
from .mux import mux


def resolve(ctx: JobContext) -> None:
    """Turn the job's event (or its given path) into a MediaItem inside the library roots,
    and take the per-file lock."""
    if not ctx.job.item:
        event = _event_of(ctx.job)
        if event.kind in CONTAINER_KINDS:
            _expand(ctx, event)
        item = ctx.services.hook.syncdub_resolve_item(event=event, services=ctx.services)
        if item is None:
            fix = server_fix(ctx.services.config, event.source)  # say what to set, not only that nothing answered
            raise UsageError(f"cannot resolve the {event.source} event for {_describe(event)}: "
                             + (fix or f"no plugin handles it (is the {event.source} server configured?)"))
        real = ensure_inside(item.path, ctx.services.config.library_roots, "file")
        item.path = str(real)
        ctx.save(item=item.to_dict(), original=item.path)
        ctx.note(f"resolved to {item.path}")
    holder = jobs.acquire_path(ctx.store, ctx.job_id, os.path.realpath(ctx.job.item["path"]))
    if holder is not None:
        raise Busy(holder)


CONTAINER_KINDS = ("season", "series")


def _expand(ctx: JobContext, event: LibraryEvent) -> None:
    """A season or series event: queue one job per episode (deduplicated like webhooks) and end."""
    events = ctx.services.hook.syncdub_expand_item(event=event, services=ctx.services)
    if events is None:
        fix = server_fix(ctx.services.config, event.source)
        raise UsageError(f"cannot expand the {event.source} {event.kind} {_describe(event)} into its episodes: "
                         + (fix or f"no plugin handles it (is the {event.source} server configured?)"))
    if not events:
        raise Finish("skipped", f"the {event.kind} {_describe(event)} holds no episode with a file")
    window = ctx.setting("webhooks.dedup_window") or 0
    queued = [jobs.enqueue_event(ctx.store, child, window) for child in events]
    new = [job_id for job_id, created in queued if created]
    ctx.note(f"{event.kind} {_describe(event)}: {len(events)} episode(s); queued jobs "
             f"{', '.join(map(str, new)) or 'none'}; {len(queued) - len(new)} already queued")
    raise Finish("skipped", f"the {event.kind} {_describe(event)} was expanded into {len(events)} episode job(s)",
                 expanded=[job_id for job_id, _ in queued])


def _event_of(job: Job) -> LibraryEvent:
    if job.event:
        return LibraryEvent.from_dict(job.event)
    if not job.original:
        raise UsageError("job has neither an event nor a file path")
    return LibraryEvent(source=job.source or "cli", path=job.original)


def _describe(event: LibraryEvent) -> str:
    return event.path or event.title or event.item_id or "an unnamed item"


def originals(ctx: JobContext) -> None:
    """When the resolved file is itself a dub, queue the job for its original instead."""
    if ctx.job.dubbed or ctx.job.plan is not None:
        return
    item = ctx.item
    index_cache(ctx.services).invalidate()
    # the originals are written to, so they must lie in the library roots, not merely readable ones
    found = collect(ctx.services, item, hook=ctx.services.hook.syncdub_find_originals,
                    roots=write_roots(ctx.services.config))
    root_language = dub_root_of(ctx.services, item.path)
    if not found and root_language is None:
        return
    if not found:
        raise Finish("skipped", f"{item.path} is a {root_language} dub, but no original in the library matches it")
    decision = decide(found, sorted({c.language for c in found if c.language}),
                      ctx.setting("counterparts.min_score"), ctx.setting("counterparts.ambiguity_margin"))
    if decision.ambiguous or not decision.chosen:
        listed = [c for cs in decision.ambiguous.values() for c in cs] or found
        raise Finish("needs_review", f"{item.path} is a dub; more than one original could be its match",
                     candidates=[c.to_dict() for c in listed])
    queued = [_queue_original(ctx, lang, cand) for lang, cand in sorted(decision.chosen.items())]
    raise Finish("skipped", "this file is a dub; " + "; ".join(queued))


def _queue_original(ctx: JobContext, language: str, original: Candidate) -> str:
    existing = jobs.find_open(ctx.store, original.path, language)
    if existing:
        return f"job {existing.id} is already open for {original.path}"
    new_id = jobs.create(ctx.store, original=original.path, dubbed=ctx.job.item["path"], language=language,
                         source="dub", mode=ctx.job.mode, force=bool(ctx.job.force))
    return f"queued job {new_id} for the original {original.path} ({language})"


def counterparts(ctx: JobContext) -> None:
    """Decide which dub to merge for each wanted language (or take the one the job names)."""
    if ctx.job.plan is not None:
        return
    if ctx.job.dubbed:
        ensure_readable(ctx.job.dubbed, ctx.services.config, "dubbed")
        language = alpha2_code(ctx.job.language) or _language_of(ctx, ctx.job.dubbed)
        plan = {language or "und": Candidate(ctx.job.dubbed, language, 1.0, "job", "named in the job").to_dict()}
        _skip_blocked(ctx, plan)
        ctx.save(plan=plan, review={})
        return
    item = ctx.item
    languages = _languages_to_do(ctx, item)
    index_cache(ctx.services).invalidate()
    # the same choice as `syncdub resync ORIGINAL` makes (counterparts.choose_dubs)
    found, decision, blocked = choose_dubs(ctx.services, item, languages, force=bool(ctx.job.force))
    ctx.save(candidates=[c.to_dict() for c in found])
    review = {lang: [c.to_dict() for c in cands] for lang, cands in decision.ambiguous.items()}
    if not decision.chosen and not blocked:
        if review:
            raise Finish("needs_review", _review_message(review), review=review)
        # an unusable dub root is the likeliest cause: say so here, not only in the service log
        raise Finish("skipped", f"no dubbed counterpart found for {', '.join(languages) or 'any language'}"
                     + dub_root_note(ctx.services.config, languages or dub_roots(ctx.services)))
    if decision.missing:
        ctx.note(f"no counterpart for {', '.join(decision.missing)}"
                 + dub_root_note(ctx.services.config, decision.missing))
    plan = {lang: c.to_dict() for lang, c in decision.chosen.items()}
    _note_blocked(ctx, plan, review, {lang: (cand.path, row) for lang, (cand, row) in blocked.items()})
    ctx.save(plan=plan, review=review)


def _skip_blocked(ctx: JobContext, plan: dict, review: dict | None = None) -> None:
    """Drop from ``plan`` the pairs the aligner rejected before (the blocklist), unless the
    job is forced: aligning them again costs minutes and ends the same way."""
    if ctx.job.force:
        return
    rows = jobs.blocked_dubs(ctx.store, ctx.job.item["path"], {lang: c["path"] for lang, c in plan.items()})
    _note_blocked(ctx, plan, review, {lang: (plan.pop(lang)["path"], row) for lang, row in rows.items()})


def _note_blocked(ctx: JobContext, plan: dict, review: dict | None, blocked: dict[str, tuple[str, dict]]) -> None:
    for language, (path, row) in sorted(blocked.items()):
        ctx.note(f"{language}: {path} was rejected before (job {row.get('job_id')}: {row.get('reason')}); "
                 "`syncdub jobs blocklist --clear` or a forced job tries it again")
    if blocked and not plan and not review:
        raise Finish("skipped", "every chosen dub was rejected before for this file (see `syncdub jobs blocklist`)")


def _languages_to_do(ctx: JobContext, item) -> list[str]:
    wanted = [alpha2_code(ctx.job.language)] if ctx.job.language else wanted_languages(ctx.services)
    present = {alpha2_code(x) for x in item.audio_languages}
    if ctx.job.force or not present:
        return wanted
    todo = [lang for lang in wanted if lang not in present]
    if wanted and not todo:
        raise Finish("skipped", f"already has {', '.join(wanted)} audio")
    return todo


def _language_of(ctx: JobContext, dubbed: str) -> str | None:
    side = split_sidecar(os.path.basename(dubbed))
    if side:
        return side[1]
    languages = parse_path(dubbed).languages
    return dub_root_of(ctx.services, dubbed) or (languages[0] if languages else None)


def _review_message(review: dict) -> str:
    parts = [f"{lang}: {len(cands)} candidates within the ambiguity margin" for lang, cands in sorted(review.items())]
    return "ambiguous counterparts, pick one with `syncdub jobs retry ID --dubbed PATH` (" + "; ".join(parts) + ")"


def readiness(ctx: JobContext) -> None:
    """The original and every chosen dub must be stable and readable before work starts."""
    paths = [ctx.job.item["path"]] + [c["path"] for c in ctx.job.plan.values()]
    verdict, seen = ready.check_all(paths, ctx.setting("jobs.stable_seconds"), ctx.job.ready_probe)
    if verdict.ready:
        if ctx.job.waiting_since:
            ctx.save(ready_probe=None, waiting_since=None)
        return
    now = time.time()
    since = ctx.job.waiting_since or now
    timeout = ctx.setting("jobs.ready_timeout")
    if now - since >= timeout:
        raise MediaError(f"file not ready after waiting {timeout} s: {verdict.reason}")
    ctx.save(ready_probe=seen, waiting_since=since)
    raise Wait(verdict.reason, min(verdict.wait, max(1.0, since + timeout - now)))


def rescan(ctx: JobContext) -> None:
    """Tell the media servers once about every file this job wrote (its own stage after the
    swap: a server that is down retries this stage only, never the merge)."""
    outputs = _outputs(ctx.job)
    if not outputs or ctx.job.published:
        return
    ctx.save(state="publishing", progress=99.0)
    # Each server plugin on its own: a transient error (server down, 5xx) re-raises after
    # the others ran, so the job is retried from here; other failures are logged and skipped.
    call_each(ctx.services.hook.syncdub_library_changed, paths=outputs, item=ctx.item, services=ctx.services,
              on_skip=lambda why: ctx.note(f"rescan failed (the files are written): {why}"))
    ctx.save(published=True)


def _outputs(job: Job) -> list[str]:
    merged = job.merged or {}
    return sorted({r["output_path"] for r in merged.values() if r.get("status") == "done" and r.get("output_path")})


def finish(ctx: JobContext) -> None:
    """done when a track was added; needs_review when the aligner held a map for review or
    some language stayed ambiguous; rejected or failed when every dub was; else skipped.
    The message says which languages were added and which were not, and why."""
    job = ctx.job
    merged, maps = job.merged or {}, job.maps or {}
    done = [lang for lang, r in sorted(merged.items()) if r.get("status") == "done"]
    missed = not_added(job)
    tail = (f"; added {', '.join(done)}" if done else "") + (f"; not added: {_missed_text(missed)}" if missed else "")
    held = job.awaiting_review()
    if held:
        raise Finish("needs_review", f"the aligner was unsure of the map for {', '.join(held)} (nothing merged for it): "
                     f"listen on the job page, then approve or reject it (`syncdub jobs approve {job.id}`)" + tail)
    if job.review:
        raise Finish("needs_review", _review_message(job.review) + tail)
    if done:
        raise Finish("done", tail[2:])
    rejected = [maps[lang] for lang in sorted(maps) if maps[lang].get("status") == "rejected"]
    failed = [lang for lang in sorted(maps) if maps[lang].get("status") == "failed"]
    if failed:
        only = maps[failed[0]].get("reason") if len(missed) == 1 else None
        raise SyncDubError(only or _missed_text(missed))
    if rejected:
        first = rejected[0]
        reason = first.get("reason") or "the aligner rejected the pair"
        raise AlignmentRejected(reason if len(missed) == 1 else _missed_text(missed), first.get("confidence"))
    raise Finish("skipped", "nothing to add: " + ", ".join(f"{k} {v.get('status')}" for k, v in sorted(merged.items())))


def not_added(job: Job) -> dict[str, str]:
    """Language -> why its dub was not merged (rejected, failed, held for review)."""
    out = {}
    for lang, entry in sorted((job.maps or {}).items()):
        status = entry.get("status")
        if status in ("rejected", "failed"):
            out[lang] = f"{status} ({entry.get('reason') or 'no reason given'})"
        elif status == "review" and lang not in job.approved:
            out[lang] = f"held for review ({entry.get('reason') or 'the aligner was unsure'})"
    return out


def _missed_text(missed: dict[str, str]) -> str:
    return "; ".join(f"{lang} {why}" for lang, why in sorted(missed.items()))


STAGES = (
    ("resolve", resolve),
    ("originals", originals),
    ("counterparts", counterparts),
    ("languages", languages),  # an untagged dub named by its speech; tags checked by ear
    ("readiness", readiness),
    ("align", align),
    ("mux", mux),  # temp file, verify, and the swap into place: see .mux for why one call
    ("rescan", rescan),
    ("finish", finish),
)
"""The stages in order, by name. A job's ``stage`` field is the name of the one it is in;
during the rename inside ``mux`` it reads ``swap``."""
