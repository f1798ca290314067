"""A job whose process dies right after the merged file is renamed into place: the retry must
finish done and still ask the media servers to rescan. Real merge, real processes."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline_lib import TruthAlign, build_lib
from syncdub_companion import jobs
from syncdub_companion.pipeline.runner import run_job

pytestmark = pytest.mark.skipif(not (shutil.which("ffmpeg") and shutil.which("mkvmerge")),
                                reason="needs ffmpeg and mkvmerge")

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SECONDS, OFFSET = 12.0, 1.5


def synced_languages(path: str) -> list[str]:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", path],
                         capture_output=True, check=True).stdout
    return [s["tags"]["language"] for s in json.loads(out)["streams"]
            if s["codec_type"] == "audio" and "SYNCDUB_SOURCE" in {k.upper() for k in s.get("tags", {})}]


def test_a_kill_right_after_the_rename_finishes_done_with_a_rescan_on_retry(tmp_path, movie_with_dub):
    lib = build_lib(tmp_path, stable_seconds=0)
    original, _ = movie_with_dub(lib.root / "movies" / "Film (2010)", SECONDS, OFFSET)
    job_id = jobs.create(lib.services.store, original=str(original))

    doomed = subprocess.run([sys.executable, str(HERE / "kill_after_rename.py"), str(tmp_path),
                             json.dumps(lib.overrides), str(OFFSET), str(SECONDS)],
                            cwd=REPO, capture_output=True, text=True, timeout=300,
                            env={"PYTHONPATH": str(REPO), "PATH": os.environ["PATH"]})
    assert doomed.returncode == -9, doomed.stdout + doomed.stderr
    left = jobs.get(lib.services.store, job_id)
    assert synced_languages(str(original)) == ["ger"]  # the rename happened ...
    assert left.worker == "doomed" and not (left.merged or {})  # ... the job never heard of it

    assert jobs.requeue_interrupted(lib.services.store) == [job_id]  # what a starting service does
    lib.services.pm.register(TruthAlign(OFFSET, SECONDS), name="truth-align")
    job = jobs.claim_next(lib.services.store, "survivor")
    assert run_job(lib.services, job, worker="survivor") == "done", jobs.get(lib.services.store, job_id).error

    record = jobs.get(lib.services.store, job_id)
    assert record.result["languages"]["de"]["status"] == "done"
    assert "earlier attempt of this job" in record.result["languages"]["de"]["message"]
    assert record.result["outputs"] == [str(original)]
    assert lib.recorder.changed == [[str(original)]]  # the rescan the kill skipped
    assert synced_languages(str(original)) == ["ger"]  # and no second copy of the track
    lib.services.store.close()


def test_a_new_job_finding_the_same_track_is_still_skipped_without_a_rescan(tmp_path, movie_with_dub):
    """Only this job's own earlier attempt counts: a later job for a file merged long ago
    must not rescan (a rescan can fire a webhook, which would queue the next such job)."""
    lib = build_lib(tmp_path, stable_seconds=0)
    original, _ = movie_with_dub(lib.root / "movies" / "Film (2010)", SECONDS, OFFSET)
    lib.services.pm.register(TruthAlign(OFFSET, SECONDS), name="truth-align")
    for expected in ("done", "skipped"):
        job_id = jobs.create(lib.services.store, original=str(original))
        job = jobs.claim_next(lib.services.store, "w")
        assert run_job(lib.services, job, worker="w") == expected, jobs.get(lib.services.store, job_id).error
    assert lib.recorder.changed == [[str(original)]]
    lib.services.store.close()
