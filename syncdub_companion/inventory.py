"""What the library holds: per original, which audio languages it already carries.

The /library counts and the /wanted list both read from here. The originals are the
backfill scan's (:func:`pipeline.scan.find_originals`: the same extensions, dub roots,
extras, samples, sidecar dubs and ``.multi`` outputs left out), so the pages and
``syncdub scan`` agree on what a film is. Only the audio streams' tags are read, through
the ffprobe wrapper, and each file's answer is cached by size and mtime; one page view
probes for at most ``PROBE_BUDGET`` seconds, so a big library fills in over a few reloads
instead of hanging. A track counts as ours when it carries the merge's SYNCDUB_SOURCE tag
(or, for files written before that tag, a title matching ``library.track_name``).
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import jobs
from .counterparts import wanted_languages
from .errors import SyncDubError
from .languages import alpha2_code
from .paths import is_inside

log = logging.getLogger(__name__)

PROBE_BUDGET = 4.0
SOURCE_TAG = "SYNCDUB_SOURCE"  # the stream tag merge/plan.py writes on every track it adds


@dataclass
class FileFacts:
    """The audio languages a file carries (two-letter codes), and those SyncDub added."""

    languages: set[str] = field(default_factory=set)
    ours: set[str] = field(default_factory=set)


@dataclass
class WantedFilm:
    """One original lacking at least one wanted language, and what became of its last job."""

    path: str
    missing: list[str]
    present: list[str]
    job: dict | None = None  # {"id", "state", "error"} of the newest job for this file

    @property
    def name(self) -> str:
        return os.path.basename(self.path)

    @property
    def folder(self) -> str:
        return os.path.dirname(self.path)


def library_originals(services) -> list[Path]:
    """The originals under ``library.roots``, as the backfill scan finds them.

    A file symlink that leads out of the roots is left out: it would be read there.
    """
    from .pipeline.scan import find_originals  # the scan imports the counterparts, which import plugins

    roots = [str(r) for r in services.config.library_roots]
    return [Path(p) for p in find_originals(services, roots) if is_inside(p, roots)]


class LibraryCounter:
    """Reads and caches each original's audio languages; one per app, shared by its threads."""

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
        """Read the file's audio tags now (ffprobe) and cache the answer."""
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
            lang = alpha2_code(tags.get("LANGUAGE"))
            if lang:
                facts.languages.add(lang)
                if SOURCE_TAG in tags or (marker and marker in tags.get("TITLE", "")):
                    facts.ours.add(lang)
        with self._lock:
            self._cache[str(path)] = (st.st_mtime, st.st_size, facts)
        return facts

    def read(self, services, budget: float = PROBE_BUDGET) -> tuple[dict[Path, FileFacts], int, int]:
        """``(facts by original, originals found, originals not read yet)`` within ``budget`` seconds."""
        files = library_originals(services)
        deadline = time.monotonic() + budget
        known: dict[Path, FileFacts] = {}
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
                known[path] = facts
        return known, len(files), unread

    def summary(self, services, budget: float = PROBE_BUDGET) -> dict:
        """Rows per language: with our dub, with another dub, lacking; plus unread files."""
        known, files, unread = self.read(services, budget)
        return {"rows": _rows(services.config, list(known.values())), "files": files, "unread": unread}

    def wanted(self, services, language: str | None = None, budget: float = PROBE_BUDGET) -> dict:
        """The originals lacking a wanted language (``language`` only, when given), sorted by path.

        ``{"films": [WantedFilm], "languages": wanted, "files": n, "unread": n}``; each film
        carries its newest job, so the page can say "queued" or why the last try skipped it.
        """
        wanted = wanted_languages(services)
        if language:
            wanted = [code for code in wanted if code == alpha2_code(language)]
        known, files, unread = self.read(services, budget)
        newest = _newest_jobs(services.store)
        films = []
        for path, facts in sorted(known.items()):
            missing = [code for code in wanted if code not in facts.languages]
            if missing:
                films.append(WantedFilm(str(path), missing, sorted(facts.languages), newest.get(str(path))))
        return {"films": films, "languages": wanted, "files": files, "unread": unread}


def _newest_jobs(store) -> dict[str, dict]:
    """The newest job per original: ``{"id", "state", "error"}``."""
    newest: dict[str, dict] = {}
    for job in sorted(store.all(jobs.TABLE), key=lambda j: (j.get("created_at") or 0, j["id"])):
        if job.get("original"):  # the newest comes last and wins
            newest[job["original"]] = {"id": job["id"], "state": job["state"], "error": job.get("error")}
    return newest


def _rows(config, known: list[FileFacts]) -> list[dict]:
    wanted = [alpha2_code(c) for c in config.get("library.languages") or []]
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
