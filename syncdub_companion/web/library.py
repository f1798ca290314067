"""/library: dubs per language; /wanted: the films lacking a wanted language, a Sync button each.

Both read :mod:`syncdub_companion.inventory` (the scan's originals, their audio tags read
once and cached). Sync queues the job a webhook or the re-sync page would, for the film
alone: the job finds the dubs itself and merges every wanted language the file lacks.
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from .. import jobs
from ..errors import UsageError
from ..inventory import LibraryCounter
from ..paths import ensure_inside, require_usable

bp = Blueprint("library", __name__)
PER_PAGE = 50


def _services():
    return current_app.extensions["syncdub"]


def _counter() -> LibraryCounter:
    return current_app.extensions["syncdub_library"]


@bp.get("/library")
def page():
    services = _services()
    return render_template("library.html", summary=_counter().summary(services),
                           roots=services.config.library_roots, wanted=services.config.get("library.languages"))


@bp.get("/wanted")
def wanted_page():
    services = _services()
    language = (request.args.get("language") or "").strip().lower() or None
    found = _counter().wanted(services, language)
    films = found["films"]
    pages = max(1, -(-len(films) // PER_PAGE))
    number = min(max(_int(request.args.get("page"), 1), 1), pages)
    shown = films[(number - 1) * PER_PAGE:number * PER_PAGE]
    return render_template("wanted.html", films=shown, total=len(films), found=found, page=number, pages=pages,
                           language=language, roots=services.config.library_roots, open_states=jobs.ACTIVE_STATES)


@bp.post("/wanted/sync")
def sync():
    """Queue one job for the posted original (inside library.roots), unless one is open already."""
    services = _services()
    posted = request.form.get("original") or ""
    if not posted:
        raise UsageError("no film given")
    original = ensure_inside(require_usable(posted, "original"), services.config.library_roots, "original")
    if not original.is_file():
        raise UsageError(f"{original}: not a file")
    back = url_for("library.wanted_page", page=_int(request.form.get("page"), 1),
                   language=request.form.get("language") or None)
    existing = jobs.find_open(services.store, str(original), None)
    if existing:
        flash(f"Job {existing.id} is already open for {original.name}.", "ok")
        return redirect(back)
    job_id = jobs.create(services.store, original=str(original), source="web")
    services.job_queued()
    flash(f"Job {job_id} queued for {original.name}.", "ok")
    return redirect(back)


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text and text.isascii() and text.isdigit() and len(text) < 10 else default
    except ValueError:
        return default


def init_app(app) -> None:
    app.extensions["syncdub_library"] = LibraryCounter()
    app.register_blueprint(bp)

