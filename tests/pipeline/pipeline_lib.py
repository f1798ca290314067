"""A library in a temp folder, services over a real TinyDB file, a fake merge and a hook recorder."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from syncdub_companion import hookimpl
from syncdub_companion.testing import make_services


@dataclass
class FakeResult:
    status: str
    output_path: str | None

    def to_dict(self) -> dict:
        return {"status": self.status, "output_path": self.output_path, "timemap": {"confidence": 0.9}}


@dataclass
class FakeMerge:
    """Stands in for merge.resync: records calls, reports progress, returns or raises what it is told."""

    status: str = "done"
    errors: list = field(default_factory=list)  # raised one per call, in order, before succeeding
    calls: list = field(default_factory=list)
    states_seen: list = field(default_factory=list)
    store: object = None
    during: object = None  # callable run mid-merge (e.g. to cancel)
    verdict: str = "aligned"  # what align() answers
    align_errors: list = field(default_factory=list)  # raised one per align() call, in order
    align_calls: list = field(default_factory=list)

    def __call__(self, services, original, dubbed, *, language, mode=None, force=False, progress=None, **kw):
        self.calls.append({"original": original, "dubbed": dubbed, "language": language, "force": force})
        for percent, stage in ((5.0, "aligning"), (50.0, "muxing"), (95.0, "publishing")):
            if progress:
                progress(percent, stage)
            if self.store is not None:
                self.states_seen.append(self.store.all("jobs")[-1]["state"])
            if self.during and stage == "muxing":
                self.during()
                progress(60.0, "muxing")
        if self.errors:
            raise self.errors.pop(0)
        return FakeResult(self.status, original if self.status == "done" else None)

    def align(self, services, original, dubbed, *, language, mode=None, force=False, progress=None):
        """Stands in for the align stage's call (merge.align_pair): a pure-offset map, or
        the verdict it is told; counts its calls."""
        from syncdub_companion.align.timemap import Segment, TimeMap

        self.align_calls.append({"original": original, "dubbed": dubbed, "language": language})
        if progress:
            progress(20.0, "aligning")
        if self.align_errors:
            raise self.align_errors.pop(0)
        segments = [] if self.verdict == "rejected" else [Segment(1.0, 61.0, 0.0, 60.0)]
        reason = {"aligned": "", "review": "audio alone is unsure", "rejected": "another film"}[self.verdict]
        return TimeMap(self.verdict, 0.9 if self.verdict == "aligned" else 0.3, reason, 1.0, segments), None


class Recorder:
    """A throwaway plugin that records the notification hooks."""

    def __init__(self):
        self.changed: list[list[str]] = []
        self.finished: list[dict] = []
        self.raise_on_changed = None

    @hookimpl
    def syncdub_library_changed(self, paths, item, services):
        if self.raise_on_changed:
            error, self.raise_on_changed = self.raise_on_changed, None
            raise error
        self.changed.append(list(paths))

    @hookimpl
    def syncdub_job_finished(self, job, services):
        self.finished.append(job)


@dataclass
class Lib:
    root: Path
    dubs: Path
    services: object
    recorder: Recorder
    overrides: dict = field(default_factory=dict)  # the settings, for another process over the same store

    def file(self, rel: str, data: bytes = b"x" * 64, age: float = 3600) -> str:
        """Create a file under the library root, ``age`` seconds old."""
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        then = time.time() - age
        os.utime(path, (then, then))
        return str(path)


def build_lib(tmp_path: Path, settings: dict | None = None, **jobs_settings) -> Lib:
    """A library with a German dub root; ``settings`` adds other sections (e.g. a server's)."""
    root = tmp_path / "lib"
    dubs = root / "dubs" / "de"
    dubs.mkdir(parents=True)
    jobs = {"stable_seconds": 30, "retry_backoff": 10, "max_attempts": 3, "stop_grace": 5, **jobs_settings}
    overrides = {"library": {"roots": [str(root)], "languages": ["de"]},
                 "counterparts": {"dub_roots": {"de": str(dubs)}}, "jobs": jobs, **(settings or {})}
    services = make_services(tmp_path, overrides)
    recorder = Recorder()
    services.pm.register(recorder, name="test-recorder")
    return Lib(root, dubs, services, recorder, overrides)


@pytest.fixture
def lib(tmp_path):
    made = build_lib(tmp_path)
    yield made
    made.services.store.close()


class TruthAlign:
    """An aligner plugin that answers with a known map (the pair's offset is known by
    construction), so jobs with the real merge need not wait for the real aligner."""

    def __init__(self, offset: float, seconds: float):
        self.offset, self.seconds = offset, seconds

    @hookimpl(tryfirst=True)
    def syncdub_align(self, original, dubbed, options):
        from syncdub_companion.align.timemap import Segment, TimeMap

        seg = Segment(self.offset, self.offset + self.seconds, 0.0, self.seconds)
        return TimeMap("aligned", 0.9, "", 1.0, [seg])
