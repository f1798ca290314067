"""The per-file merge lock: two merges of one file, in two real processes, lose nothing."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from filelock import FileLock, Timeout

from merge_media import write_truth_setup
from syncdub_companion import hookimpl, jobs
from syncdub_companion.align.timemap import TimeMap
from syncdub_companion.errors import FileChangedError
from syncdub_companion.merge import resync
from syncdub_companion.merge.cleanup import TEMP_RE
from syncdub_companion.merge.lock import lock_path
from syncdub_companion.pipeline import mux
from syncdub_companion.pipeline.runner import run_job
from syncdub_companion.testing import make_services

REPO = Path(__file__).resolve().parents[2]
SYNCDUB = "from syncdub_companion.cli import main; main()"  # the console script, from this checkout


def synced_languages(svc_or_path) -> list[str]:
    import json

    out = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(svc_or_path)],
                         capture_output=True, check=True).stdout
    return sorted(s["tags"]["language"] for s in json.loads(out)["streams"]
                  if s["codec_type"] == "audio" and "SYNCDUB_SOURCE" in {k.upper() for k in s.get("tags", {})})


def start_resync(config: Path, env: dict, film: Path, dub: Path, lang: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", SYNCDUB, "--config", str(config), "resync", str(film), str(dub),
                             "--lang", lang], cwd=REPO, env={**os.environ, **env}, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_two_resyncs_of_one_file_at_once_keep_both_tracks(tmp_path, library, offset_case):
    """Each run spends 3 s 'aligning', so without the lock both read the file before either
    renames its result, and the later rename drops the other's track."""
    dub, truth = offset_case
    config, env = write_truth_setup(tmp_path / "setup", library.root, truth, dub.parent)
    env["SYNCDUB_TEST_ALIGN_SECONDS"] = "3"
    runs = [start_resync(config, env, library.film, dub, lang) for lang in ("de", "fr")]
    outputs = [run.communicate(timeout=240) for run in runs]
    for run, (out, err) in zip(runs, outputs):
        assert run.returncode == 0, out + err
        assert out.startswith('done: added "'), out
    assert synced_languages(library.film) == ["fre", "ger"]
    assert sum("another merge of Film (2010).mkv is running" in err for _, err in outputs) == 1
    # the lock lives under the data dir; nothing is left in the library folder
    assert sorted(p.name for p in library.film.parent.iterdir()) == ["Film (2010).mkv"]
    assert list((tmp_path / "setup" / "data" / "locks").glob("*.lock"))


class TruthAlign:
    def __init__(self, truth: TimeMap):
        self.truth = truth

    @hookimpl(tryfirst=True)
    def syncdub_align(self, original, dubbed, options):
        return self.truth


def test_a_job_waits_for_a_command_line_resync_of_the_same_file(tmp_path, library, offset_case, monkeypatch):
    dub, truth = offset_case
    setup = tmp_path / "setup"
    config, env = write_truth_setup(setup, library.root, truth, dub.parent)
    env["SYNCDUB_TEST_ALIGN_SECONDS"] = "4"
    # the service: its own store, the same data dir (so the same lock folder) as the command line
    (tmp_path / "svc").mkdir()
    svc = make_services(tmp_path / "svc", {"server": {"data_dir": str(setup / "data")},
                                           "library": {"roots": [str(library.root)], "space_margin_mb": 1},
                                           "counterparts": {"dub_roots": {"de": str(dub.parent)}},
                                           "jobs": {"stable_seconds": 0}})
    svc.pm.register(TruthAlign(truth), name="truth-align")
    monkeypatch.setattr(mux, "LOCK_WAIT", 0.2)  # do not sit out the command line's 4 s
    job_id = jobs.create(svc.store, original=str(library.film), dubbed=str(dub), language="de")

    cli = start_resync(config, env, library.film, dub, "fr")
    deadline = time.time() + 60
    while not _held(lock_path(svc, library.film)):
        assert cli.poll() is None and time.time() < deadline, cli.communicate()
        time.sleep(0.05)
    assert run_job(svc, jobs.claim_next(svc.store, "w"), worker="w") == "queued"
    waiting = jobs.get(svc.store, job_id)
    assert "another merge still holds it" in waiting.log[-1] and waiting.attempts == 0

    out, err = cli.communicate(timeout=240)
    assert cli.returncode == 0 and out.startswith("done: added"), out + err
    jobs.update(svc.store, job_id, next_attempt_at=0)
    assert run_job(svc, jobs.claim_next(svc.store, "w"), worker="w") == "done", jobs.get(svc.store, job_id).error
    assert synced_languages(library.film) == ["fre", "ger"]
    svc.store.close()


def _held(path: Path) -> bool:
    if not path.exists():
        return False
    probe = FileLock(str(path))
    try:
        probe.acquire(timeout=0)
    except Timeout:
        return True
    probe.release()
    return False


def test_a_file_rewritten_during_the_merge_is_not_overwritten(library, make_svc, offset_case):
    """A writer that ignores the lock (another tool, another host): its version survives."""
    dub, truth = offset_case

    def rewrite(percent, stage):
        if stage == "publishing" and not library.film.with_suffix(".marker").exists():
            library.film.with_suffix(".marker").touch()
            with open(library.film, "ab") as fh:
                fh.write(b"\0" * 16)

    with pytest.raises(FileChangedError, match="changed while the merge ran"):
        resync(make_svc(), str(library.film), str(dub), language=None, timemap=truth, progress=rewrite)
    assert synced_languages(library.film) == []  # the other writer's file, not ours
    assert library.film.read_bytes().endswith(b"\0" * 16)
    assert [p.name for p in library.root.rglob("*") if TEMP_RE.match(p.name)] == []
