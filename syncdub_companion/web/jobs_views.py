"""/jobs: the list with live progress, the job page with its time-map plot, retry and cancel."""
from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import PurePath

from flask import Blueprint, Response, current_app, flash, jsonify, redirect, render_template, request, url_for
from werkzeug.exceptions import NotFound

from .. import jobs
from ..align.timemap import TimeMap
from ..errors import UsageError
from ..job import Job
from ..logs import SecretFilter
from . import plot

bp = Blueprint("jobs", __name__)
PAGE_SIZE = 100  # jobs per page of /jobs and /api/jobs
_plot_cache: OrderedDict = OrderedDict()
_plot_lock = threading.Lock()


def _store():
    return current_app.extensions["syncdub"].store


def _states_arg() -> list[str]:
    states = [s for s in request.args.getlist("state") if s]
    unknown = [s for s in states if s not in jobs.STATES]
    if unknown:
        raise UsageError(f"unknown job state {unknown[0]!r}; one of {', '.join(jobs.STATES)}")
    return states


def _job_or_404(job_id: int) -> dict:
    try:
        return jobs.get(_store(), job_id)
    except UsageError:
        raise NotFound(f"job {job_id}: no such job") from None


def _scrub(text):
    """Job errors and logs may quote a URL with a token; JSON must not carry it either."""
    if not text:
        return text
    return SecretFilter(current_app.extensions["syncdub"].config.secrets()).scrub(str(text))


def summary(job: Job) -> dict:
    """What the list and its polling need about one job."""
    return {
        "id": job.id,
        "state": job.state,
        "stage": job.stage,
        "progress": round(min(100.0, max(0.0, float(job.progress or 0.0))), 1),  # percent
        # shown instead of the bar: a held job is not stuck at the share it had when it stopped
        "progress_text": "waiting for review" if job.state == "needs_review" else None,
        # what a running job is doing within its state ("decoding 40%"); nothing once it ended
        "step": None if job.state in jobs.FINAL_STATES else _scrub(job.step),
        "error": _scrub(job.error),
        "source": job.source,
        "name": _name_of(job),
        "runner": _runner(job),  # the `syncdub worker` that took its stage (redis queue)
        "language": job.language,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "final": job.state in jobs.FINAL_STATES,
        "can_retry": job.state not in jobs.RUNNING_STATES and job.state != "queued",
        "can_cancel": job.state not in jobs.FINAL_STATES,
        # a map the aligner held for review: Approve merges it as stored, Reject blocklists the pair
        "can_review": job.state == "needs_review" and bool(job.awaiting_review()),
        "awaiting_review": job.awaiting_review(),
    }


def _runner(job) -> str | None:
    extra = getattr(job, "extra", None)  # a typed Job keeps fields it does not declare there
    return extra.get("runner") if extra is not None else job.get("runner")


def _page_arg() -> int:
    raw = request.args.get("page", "1")
    if not raw.isdigit() or int(raw) < 1:
        raise UsageError(f"page must be a whole number from 1, not {raw[:20]!r}")
    return int(raw)


@bp.get("/jobs")
def list_page():
    states, page = _states_arg(), _page_arg()
    shown, counts, matching = jobs.page(_store(), states, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    pages = max(1, -(-matching // PAGE_SIZE))
    return render_template("jobs.html", jobs=[summary(j) for j in shown], counts=counts, total=sum(counts.values()),
                           states=states, all_states=jobs.STATES, page=page, pages=pages, matching=matching)


@bp.get("/api/jobs")
def list_json():
    """The same page as /jobs shows (``?page=``, ``?state=``), for its live progress."""
    states, page = _states_arg(), _page_arg()
    shown, _, matching = jobs.page(_store(), states, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    return jsonify({"jobs": [summary(j) for j in shown], "page": page, "matching": matching})


@bp.get("/api/jobs/<int:job_id>")
def detail_json(job_id: int):
    job = _job_or_404(job_id)
    return jsonify({**summary(job), "log": [_scrub(line) for line in job.log or []]})


@bp.get("/jobs/<int:job_id>")
def detail_page(job_id: int):
    job = _job_or_404(job_id)
    return render_template("job.html", job=job, info=summary(job), languages=languages_of(job),
                           rejection=rejection_of(job), plan=job.plan or {})


@bp.get("/jobs/<int:job_id>/plot.svg")
def plot_svg(job_id: int):
    """The time map of one language of the job (``?language=``; the first one by default)."""
    job = _job_or_404(job_id)
    maps = {row["language"]: row["timemap"] for row in languages_of(job) if row["timemap"] is not None}
    wanted = request.args.get("language") or next(iter(maps), None)
    if wanted not in maps:
        raise NotFound(f"job {job_id} has no time map{' for ' + wanted if wanted else ' yet'}")
    key = (job_id, wanted, job.updated_at)
    with _plot_lock:
        svg = _plot_cache.get(key)
    if svg is None:
        svg = plot.render_svg(maps[wanted])
        with _plot_lock:
            _plot_cache[key] = svg
            while len(_plot_cache) > 32:
                _plot_cache.popitem(last=False)
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "private, max-age=60"})


@bp.post("/jobs/<int:job_id>/retry")
def retry(job_id: int):
    return _act(job_id, jobs.retry, f"Job {job_id} queued again.", wake=True)


@bp.post("/jobs/<int:job_id>/cancel")
def cancel(job_id: int):
    return _act(job_id, jobs.cancel, f"Job {job_id}: cancel requested.")


@bp.post("/jobs/<int:job_id>/approve")
def approve(job_id: int):
    """Merge the map the aligner held for review, as stored (nothing is aligned again)."""
    return _act(job_id, jobs.approve, f"Job {job_id}: map approved, queued to merge it.", wake=True)


@bp.post("/jobs/<int:job_id>/reject")
def reject(job_id: int):
    """Refuse the held map: the job ends rejected and the pair goes on the blocklist."""
    return _act(job_id, jobs.reject, f"Job {job_id}: map rejected; the pair is on the blocklist.")


def _act(job_id: int, action, done: str, wake: bool = False):
    """Run a job action, flash its outcome, and go back where the user came from."""
    _job_or_404(job_id)
    try:
        action(_store(), job_id)
        if wake:
            current_app.extensions["syncdub"].job_queued()
        flash(done, "ok")
    except UsageError as exc:
        flash(str(exc), "error")
    return redirect(_back(job_id))


def _back(job_id: int) -> str:
    """Back to the page the button was on (the list keeps its filter)."""
    target = request.form.get("back", "")
    if target.startswith("/jobs") and not target.startswith("//"):
        return target
    return url_for("jobs.detail_page", job_id=job_id)


def _name_of(job: Job) -> str | None:
    path = job.original or (job.item or {}).get("path") or (job.event or {}).get("path")
    return PurePath(path).name if path else (job.event or {}).get("title")


def languages_of(job: Job) -> list[dict]:
    """Per language: status, output, message, verification and its TimeMap (or None).

    The map comes from ``maps``, where the align stage stores it the moment it exists (so
    a job still muxing has its plot); the merge's outcome from ``merged`` while the job
    runs, ``result.languages`` once it finished (and from there alone for jobs stored
    before the align stage existed).
    """
    merged = (job.result or {}).get("languages") or job.merged or {}
    maps = job.maps or {}
    rows = []
    for language in sorted({*merged, *maps}):
        entry = merged.get(language) if isinstance(merged.get(language), dict) else {}
        aligned = maps.get(language) or {}
        timemap = _timemap(aligned.get("timemap")) or _timemap(entry.get("timemap"))
        rows.append({"language": language, "status": entry.get("status") or _map_status(aligned),
                     "output": entry.get("output_path"),
                     "message": entry.get("message") or aligned.get("reason"),
                     "verification": entry.get("verification") or {}, "timemap": timemap,
                     "dubbed": aligned.get("dubbed")})
    return rows


def _map_status(aligned: dict) -> str | None:
    """A language not merged (yet): what its alignment said."""
    status = aligned.get("status")
    return {"aligned": "aligned, not merged yet", "review": "held for review"}.get(status, status)


def _timemap(data) -> TimeMap | None:
    if not isinstance(data, dict) or "verdict" not in data:
        return None
    try:
        return TimeMap.from_dict(data)
    except (KeyError, TypeError, ValueError):
        return None


def rejection_of(job: Job) -> dict | None:
    """Why the aligner refused the pair, for a rejected job (the runner stores reason and confidence)."""
    result = job.result or {}
    if job.state != "rejected" and "reason" not in result:
        return None
    return {"reason": result.get("reason") or job.error, "confidence": result.get("confidence")}
