"""/resync: browse the library roots, pick an original (and optionally the dub), queue a job.

The picked paths travel in the query string while browsing, so the dub can come from a
different folder than the original. Every path, browsed or posted, is checked with symlinks
resolved, as everywhere else (:mod:`syncdub_companion.roots`): the original, which is written,
inside ``library.roots``; the dub and the folders browsed for it also in the dub roots
(``counterparts.dub_roots``, read only). Anything outside answers 403.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from .. import jobs
from ..errors import UsageError
from ..media import VIDEO_EXTS, is_media
from ..paths import ensure_inside, is_inside, require_usable
from ..roots import ensure_readable, read_roots

bp = Blueprint("resync", __name__)
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}$")
MODES = ("replace", "beside", "folder")


def _config():
    return current_app.extensions["syncdub"].config


def _checked(path: str | None, what: str, read_only: bool = False) -> Path | None:
    """``path`` resolved inside the library roots (``read_only``: or the dub roots), 403
    otherwise; None when not given."""
    if not path:
        return None
    if read_only:
        return ensure_readable(require_usable(path, what), _config(), what)
    return ensure_inside(require_usable(path, what), _config().library_roots, what)


def _is(test, path: Path) -> bool:
    """``path.is_dir()`` or the like; a file system refusal (EACCES, ELOOP) is the user's 400, not a 500."""
    try:
        return test(path)
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror or exc}") from None


def list_folder(folder: Path, roots: list[Path]) -> tuple[list[Path], list[Path]]:
    """Subfolders and media files of ``folder`` that stay inside the roots, hidden ones left out."""
    dirs, files = [], []
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name.lower())
    except OSError as exc:
        raise UsageError(f"{folder}: cannot list ({exc.strerror})") from None
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        if not is_inside(path, roots):  # a symlink pointing out of the library
            continue
        if entry.is_dir():
            dirs.append(path)
        elif is_media(path):
            files.append(path)
    return dirs, files


@bp.get("/resync")
def page():
    config = _config()
    roots = config.library_roots
    browsable = read_roots(config) if roots else []  # dub folders too: a dub may be picked there
    folder = _checked(request.args.get("dir"), "folder", read_only=True)
    original = _checked(request.args.get("original"), "original")
    dubbed = _checked(request.args.get("dubbed"), "dub", read_only=True)
    if folder is not None and not _is(Path.is_dir, folder):
        raise UsageError(f"{folder}: not a folder")
    dirs, files = list_folder(folder, browsable) if folder else ([], [])
    parent = folder.parent if folder and not any(folder == Path(os.path.realpath(r)) for r in browsable) else None
    in_library = folder is not None and is_inside(folder, roots)  # originals are written: library files only
    return render_template("resync.html", roots=roots, dub_roots=browsable[len(roots):], folder=folder, parent=parent,
                           dirs=dirs, files=files, original=original, dubbed=dubbed, modes=MODES,
                           video_exts=VIDEO_EXTS if in_library else ())


@bp.post("/resync")
def queue():
    form = request.form
    original = _checked(form.get("original"), "original")
    dubbed = _checked(form.get("dubbed"), "dub", read_only=True)
    if original is None:
        raise UsageError("pick the original file first")
    for path in filter(None, (original, dubbed)):
        if not _is(Path.is_file, path):
            raise UsageError(f"{path}: not a file")
    if dubbed == original:
        raise UsageError("the dub and the original are the same file")
    language = form.get("language", "").strip().lower() or None
    if language and not LANGUAGE.match(language):
        raise UsageError(f"language {language!r}: use a 2- or 3-letter code such as de or fra")
    mode = form.get("mode") or None
    if mode and mode not in MODES:
        raise UsageError(f"mode {mode!r}: one of {', '.join(MODES)}")
    services = current_app.extensions["syncdub"]
    job_id = jobs.create(services.store, original=str(original), dubbed=str(dubbed) if dubbed else None,
                         language=language, mode=mode, force=form.get("force") == "on", source="web")
    services.job_queued()
    flash(f"Job {job_id} queued for {original.name}.", "ok")
    return redirect(url_for("jobs.detail_page", job_id=job_id))
