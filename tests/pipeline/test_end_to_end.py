"""END TO END: a queued job through the real merge and the real built-in aligner.

Generated media (60 s): an original MKV (video + English audio) and a German dub
(.mka beside it) whose shared music-and-effects bed starts 1.5 s later. The job must add
a German track, publish once and finish done. Needs ffmpeg and mkvmerge.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import wave

import numpy as np
import pytest

from syncdub_companion import jobs
from syncdub_companion.pipeline.runner import run_job

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not (shutil.which("ffmpeg") and shutil.which("mkvmerge")),
                                 reason="needs ffmpeg and mkvmerge")]

SR = 48000


def _bed(seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    x = np.zeros(n, np.float32)
    for pos in rng.integers(0, n - 4800, int(seconds * 4)):
        length = int(rng.integers(200, 2400))
        x[pos:pos + length] += rng.standard_normal(length).astype(np.float32) * np.hanning(length) * 0.5
    return x


def _voice(seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    gate = (np.sin(2 * np.pi * rng.uniform(0.2, 0.4) * t) > 0.3).astype(np.float32)
    return (0.05 * gate * np.sin(2 * np.pi * rng.uniform(150, 300) * t)).astype(np.float32)


def _wav(path, x):
    data = (np.repeat(np.clip(x, -1, 1)[:, None], 2, axis=1) * 32000).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(data.tobytes())


def _run(*argv):
    subprocess.run([str(a) for a in argv], check=True, capture_output=True)


def make_pair(folder, seconds=60.0, offset=1.5):
    folder.mkdir(parents=True)
    work = folder.parent / "gen"
    work.mkdir()
    bed = _bed(seconds, 1)
    _wav(work / "en.wav", bed + _voice(seconds, 2))
    lead_in = _bed(offset, 7) * 0.5
    _wav(work / "de.wav", np.concatenate([lead_in, bed]) + _voice(seconds + offset, 3))
    _run("ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"testsrc=s=96x64:r=5:d={seconds}", "-c:v", "mpeg4",
         work / "v.mkv")
    _run("ffmpeg", "-v", "error", "-i", work / "en.wav", "-c:a", "aac", "-b:a", "96k", work / "en.mka")
    original = folder / "Film (2010).mkv"
    _run("mkvmerge", "-q", "-o", original, work / "v.mkv", "--language", "0:eng", work / "en.mka")
    dub = folder / "Film (2010).de.mka"
    _run("ffmpeg", "-v", "error", "-i", work / "de.wav", "-c:a", "ac3", "-b:a", "192k",
         "-metadata:s:a:0", "language=ger", dub)
    return str(original), str(dub)


def test_job_with_the_real_merge_and_aligner_adds_the_dub(tmp_path):
    from pipeline_lib import build_lib

    lib = build_lib(tmp_path, stable_seconds=0)
    original, dub = make_pair(lib.root / "movies" / "Film (2010)")
    job_id = jobs.create(lib.services.store, original=original, source="cli")
    job = jobs.claim_next(lib.services.store, "e2e")

    assert run_job(lib.services, job, worker="e2e") == "done", jobs.get(lib.services.store, job_id)["error"]

    record = jobs.get(lib.services.store, job_id)
    result = record["result"]["languages"]["de"]
    assert result["status"] == "done" and result["output_path"] == original
    assert result["timemap"]["verdict"] == "aligned"
    first = result["timemap"]["segments"][0]
    assert first["dub_start"] - first["orig_start"] == pytest.approx(1.5, abs=0.1)
    probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", original],
                                      capture_output=True, check=True).stdout)
    languages = [s.get("tags", {}).get("language") for s in probe["streams"] if s["codec_type"] == "audio"]
    assert languages == ["eng", "ger"]
    assert lib.recorder.changed == [[original]] and lib.recorder.finished[-1]["state"] == "done"
    lib.services.store.close()
