"""Listen to check: the job page's A/B clips (syncdub_companion/preview.py renders them).

The job page asks :func:`clips_of` for each language's moments; each ``<audio>`` element
then fetches ``/jobs/<id>/clips/<language>/<moment>/<kind>.m4a``. The URL names a moment,
never a path: only the job's own files are read, and they must still lie in the roots.
Without a login the clip answers 403 (web/auth.py), since an audio element cannot follow
a redirect to the login form.
"""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, send_file
from werkzeug.exceptions import NotFound

from .. import jobs, preview
from ..errors import SyncDubError, UsageError
from ..logs import SecretFilter

bp = Blueprint("listen", __name__)


def _services():
    return current_app.extensions["syncdub"]


def clips_of(job, languages: list[dict]) -> dict:
    """Per language with a map that has segments: ``{"moments": [...], "error": None}``,
    or the reason there are none (a file moved away, say)."""
    out = {}
    for row in languages:
        timemap = row.get("timemap")
        if timemap is None or not timemap.segments:
            continue
        try:
            out[row["language"]] = {"moments": preview.job_moments(_services(), job, row["language"]), "error": None}
        except SyncDubError as exc:
            scrub = SecretFilter(_services().config.secrets()).scrub
            out[row["language"]] = {"moments": [], "error": scrub(str(exc))}
    return out


@bp.get("/jobs/<int:job_id>/clips/<language>/<int:index>/<kind>.m4a")
def clip(job_id: int, language: str, index: int, kind: str):
    """One clip (``kind``: original, dub or mix) of moment ``index``, rendered on first request."""
    try:
        job = jobs.get(_services().store, job_id)
    except UsageError:
        raise NotFound(f"job {job_id}: no such job") from None
    path = preview.clip(_services(), job, language, index, kind)
    response = send_file(path, mimetype=preview.MIME, conditional=True, max_age=0)
    response.headers["Cache-Control"] = "private, no-cache"  # the clip changes when the map does
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["listen_clips"] = clips_of
