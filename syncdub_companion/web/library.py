"""/library: per language, how many originals already carry a dub and how many still lack one.

Cheap by design: it walks the library roots for video files and reads only their audio
stream tags (language, title) through the ffprobe wrapper, caching each file by size and
mtime. A page view probes for at most ``PROBE_BUDGET`` seconds and says how many files
are still unread, so a big library fills in over a few reloads instead of hanging.
A track counts as ours when it carries the merge's SYNCDUB_SOURCE tag (or, for files
written before that tag, a title matching ``library.track_name``).
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from flask import Blueprint, current_app, render_template

from ..errors import SyncDubError
from ..naming import normalise_language as _normalise

log = logging.getLogger(__name__)
bp = Blueprint("library", __name__)

PROBE_BUDGET = 4.0
SOURCE_TAG = "SYNCDUB_SOURCE"  # the stream tag merge/plan.py writes on every track it adds
VIDEO_EXTS = {".mkv", ".mp4", ".m4v", ".avi", ".mov", ".ts", ".m2ts", ".webm"}


def normalise_language(code: str | None) -> str | None:
    """The two-letter code of any ISO 639 code or name (naming's table); None for und/empty."""
    if not code or code.strip().lower() in ("und", "zxx", "mis", "mul"):
        return None
    return _normalise(code)


@dataclass
class FileFacts:
    languages: set[str] = field(default_factory=set)
    ours: set[str] = field(default_factory=set)


class LibraryCounter:
    """Counts dubs per language over the library roots, caching probe results per file."""

    def __init__(self):
        self._cache: dict[str, tuple[float, int, FileFacts]] = {}
        self._lock = threading.Lock()

    def facts(self, path: Path) -> FileFacts | None:
        """Cached facts, or None when the file changed since it was last read."""
        st = path.stat()
        with self._lock:
            hit = self._cache.get(str(path))
        return hit[2] if hit and hit[0] == st.st_mtime and hit[1] == st.st_size else None

    def probe(self, services, path: Path) -> FileFacts:
        st = path.stat()
        facts = FileFacts()
        marker = _track_marker(services.config.get("library.track_name") or "")
        try:
            streams = [s for s in services.ffprobe.probe(path).get("streams", []) if s.get("codec_type") == "audio"]
        except SyncDubError as exc:
            log.info("library: %s unreadable: %s", path, exc)
            streams = []
        for stream in streams:
            tags = {k.upper(): str(v) for k, v in (stream.get("tags") or {}).items()}
            lang = normalise_language(tags.get("LANGUAGE"))
            if lang:
                facts.languages.add(lang)
                if SOURCE_TAG in tags or (marker and marker in tags.get("TITLE", "")):
                    facts.ours.add(lang)
        with self._lock:
            self._cache[str(path)] = (st.st_mtime, st.st_size, facts)
        return facts

    def summary(self, services, budget: float = PROBE_BUDGET) -> dict:
        """Rows per language: with our dub, with another dub, lacking; plus unread files."""
        files = list(media_files(services.config))
        deadline = time.monotonic() + budget
        known: list[FileFacts] = []
        unread = 0
        for path in files:
            try:
                facts = self.facts(path)
                if facts is None and time.monotonic() < deadline:
                    facts = self.probe(services, path)
            except OSError:
                continue  # vanished while we looked
            if facts is None:
                unread += 1
            else:
                known.append(facts)
        return {"rows": _rows(services.config, known), "files": len(files), "unread": unread}


def _rows(config, known: list[FileFacts]) -> list[dict]:
    wanted = [normalise_language(c) for c in config.get("library.languages") or []]
    languages = [c for c in wanted if c] or sorted({lang for f in known for lang in f.languages})
    rows = []
    for lang in languages:
        ours = sum(1 for f in known if lang in f.ours)
        has = sum(1 for f in known if lang in f.languages)
        rows.append({"language": lang, "synced": ours, "other": has - ours, "lacking": len(known) - has,
                     "total": len(known)})
    return rows


def _track_marker(track_name: str) -> str:
    """The fixed part of library.track_name, e.g. '(SyncDub)' from '{language} (SyncDub)'."""
    parts = [p.strip() for p in track_name.replace("}", "{").split("{")[::2] if p.strip()]
    return max(parts, key=len) if parts else ""


def media_files(config):
    """Video files under the roots, not following symlinks and skipping the dub folders."""
    skip = {os.path.realpath(p) for p in (config.get("counterparts.dub_roots") or {}).values()}
    for root in config.library_roots:
        for folder, dirs, names in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                             and os.path.realpath(os.path.join(folder, d)) not in skip)
            for name in sorted(names):
                path = Path(folder, name)
                if path.suffix.lower() in VIDEO_EXTS and not name.startswith(".") and not path.is_symlink():
                    yield path


@bp.get("/library")
def page():
    services = current_app.extensions["syncdub"]
    counter: LibraryCounter = current_app.extensions["syncdub_library"]
    return render_template("library.html", summary=counter.summary(services),
                           roots=services.config.library_roots, wanted=services.config.get("library.languages"))


def init_app(app) -> None:
    app.extensions["syncdub_library"] = LibraryCounter()
    app.register_blueprint(bp)
