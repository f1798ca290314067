"""END TO END: a queued job through the real merge and the real built-in aligner.

Generated media (60 s): an original MKV (video + English audio) and a German dub
(.mka beside it) whose shared music-and-effects bed starts 1.5 s later. The job must add
a German track, publish once and finish done. Needs ffmpeg and mkvmerge.
"""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from syncdub_companion import jobs
from syncdub_companion.pipeline.runner import run_job
from syncdub_companion.testing import make_movie_with_dub

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not (shutil.which("ffmpeg") and shutil.which("mkvmerge")),
                                 reason="needs ffmpeg and mkvmerge")]



def make_pair(folder, seconds=60.0, offset=1.5):
    original, dub = make_movie_with_dub(folder, folder.parent / "gen", seconds, offset)
    return str(original), str(dub)


def test_job_with_the_real_merge_and_aligner_adds_the_dub(tmp_path):
    from pipeline_lib import build_lib

    lib = build_lib(tmp_path, stable_seconds=0)
    original, dub = make_pair(lib.root / "movies" / "Film (2010)")
    job_id = jobs.create(lib.services.store, original=original, source="cli")
    job = jobs.claim_next(lib.services.store, "e2e")

    assert run_job(lib.services, job, worker="e2e") == "done", jobs.get(lib.services.store, job_id).error

    record = jobs.get(lib.services.store, job_id)
    result = record.result["languages"]["de"]
    assert result["status"] == "done" and result["output_path"] == original
    assert result["timemap"]["verdict"] == "aligned"
    first = result["timemap"]["segments"][0]
    assert first["dub_start"] - first["orig_start"] == pytest.approx(1.5, abs=0.1)
    probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", original],
                                      capture_output=True, check=True).stdout)
    languages = [s.get("tags", {}).get("language") for s in probe["streams"] if s["codec_type"] == "audio"]
    assert languages == ["eng", "ger"]
    assert lib.recorder.changed == [[original]] and lib.recorder.finished[-1].state == "done"
    lib.services.store.close()
