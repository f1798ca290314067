"""The worker pool: claims and runs jobs, survives kill -9 and SIGTERM without losing or doubling work."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from syncdub_companion import jobs
from syncdub_companion.errors import UsageError
from syncdub_companion.pipeline.worker import WorkerPool
from syncdub_companion.runtime import start_background

from pipeline_lib import FakeMerge

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
MOVIE = "movies/Film (2010)/Film (2010).mkv"


def wait_for(predicate, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def only_job(store) -> dict:
    return jobs.list_jobs(store)[-1]


def test_pool_runs_queued_jobs_and_stops(lib):
    original = lib.file(MOVIE)
    lib.file("movies/Film (2010)/Film (2010).de.mka")
    merge = FakeMerge()
    pool = WorkerPool(lib.services, workers=2, merge=merge, align=merge.align, poll=0.05).start()
    try:
        job_id = jobs.create(lib.services.store, original=original)
        pool.wake()
        wait_for(lambda: jobs.get(lib.services.store, job_id).state == "done", 20, "the job to finish")
    finally:
        pool.stop()
        pool.join()
    assert len(merge.calls) == 1 and lib.recorder.changed == [[original]]
    assert not any(t.is_alive() for t in pool._threads)


def test_a_second_pool_on_the_same_data_dir_is_refused(lib):
    pool = WorkerPool(lib.services, merge=FakeMerge(), align=FakeMerge().align, poll=0.05).start()
    try:
        with pytest.raises(UsageError, match="already runs workers"):
            WorkerPool(lib.services, merge=FakeMerge(), align=FakeMerge().align).start()
    finally:
        pool.stop()
        pool.join()
    WorkerPool(lib.services, merge=FakeMerge(), align=FakeMerge().align, poll=0.05).start().stop()  # free again after join


def test_start_background_returns_a_stoppable_pool(lib):
    tasks = start_background(lib.services)
    assert len(tasks) == 1 and isinstance(tasks[0], WorkerPool)
    for task in tasks:
        task.stop()
    for task in tasks:
        task.join()


class Proc:
    """A worker_proc.py subprocess over the test's data dir."""

    def __init__(self, tmp_path: Path, merge_seconds: float, jobs_settings: dict, lib_root: Path, dubs: Path):
        self.tmp_path = tmp_path
        settings = {"library": {"roots": [str(lib_root)], "languages": ["de"]},
                    "counterparts": {"dub_roots": {"de": str(dubs)}},
                    "plugins": {"dir": str(HERE / "proc_plugins")},
                    "jobs": {"stable_seconds": 0, **jobs_settings}}
        env = {**os.environ, "PYTHONPATH": str(REPO), "SYNCDUB_TEST_MERGE_SECONDS": str(merge_seconds),
               "SYNCDUB_TEST_MERGE_LOG": str(tmp_path / "merges.log"),
               "SYNCDUB_TEST_PUBLISH_LOG": str(tmp_path / "published.log")}
        self.proc = subprocess.Popen([sys.executable, str(HERE / "worker_proc.py"), str(tmp_path), json.dumps(settings)],
                                     env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "ready", self.proc.stderr.read()

    def terminate(self, timeout: float = 30.0) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_kill_9_mid_job_then_restart_completes_the_job_exactly_once(lib, tmp_path):
    original = lib.file(MOVIE)
    lib.file("movies/Film (2010)/Film (2010).de.mka")
    store = lib.services.store
    job_id = jobs.create(store, original=original)

    first = Proc(tmp_path, 60, {}, lib.root, lib.dubs)
    # the merge's own log line, not the job's state: the state is saved a moment before
    # the merge starts, and a kill in that moment interrupts no merge
    wait_for(lambda: lines(tmp_path / "merges.log"), 30, "the merge to start")
    first.kill()
    crashed = jobs.get(store, job_id)
    assert crashed.state == "aligning" and crashed.worker  # left claimed by a dead process

    second = Proc(tmp_path, 0.5, {}, lib.root, lib.dubs)
    try:
        wait_for(lambda: jobs.get(store, job_id).state == "done", 30, "the job to finish after restart")
        time.sleep(0.5)  # a second run would publish again within this time
    finally:
        assert second.terminate() == 0
    job = jobs.get(store, job_id)
    assert lines(tmp_path / "published.log") == [original]
    assert len(lines(tmp_path / "merges.log")) == 2  # interrupted once, completed once
    assert job.attempts == 2 and job.worker is None
    assert any("re-queued: the service stopped while the job was aligning" in line for line in job.log)


def test_sigterm_after_the_grace_period_requeues_the_running_job(lib, tmp_path):
    original = lib.file(MOVIE)
    lib.file("movies/Film (2010)/Film (2010).de.mka")
    store = lib.services.store
    job_id = jobs.create(store, original=original)
    proc = Proc(tmp_path, 60, {"stop_grace": 0}, lib.root, lib.dubs)
    wait_for(lambda: jobs.get(store, job_id).state == "aligning", 30, "the merge to start")
    started = time.monotonic()
    assert proc.terminate() == 0
    assert time.monotonic() - started < 10
    job = jobs.get(store, job_id)
    assert (job.state, job.worker, job.attempts) == ("queued", None, 0)
    assert lines(tmp_path / "published.log") == []


def test_sigterm_lets_the_running_job_finish_within_the_grace_period(lib, tmp_path):
    original = lib.file(MOVIE)
    lib.file("movies/Film (2010)/Film (2010).de.mka")
    store = lib.services.store
    job_id = jobs.create(store, original=original)
    proc = Proc(tmp_path, 1.5, {"stop_grace": 30}, lib.root, lib.dubs)
    wait_for(lambda: jobs.get(store, job_id).state == "aligning", 30, "the merge to start")
    assert proc.terminate() == 0
    assert jobs.get(store, job_id).state == "done"
    assert lines(tmp_path / "published.log") == [original]
