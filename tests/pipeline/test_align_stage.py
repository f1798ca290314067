"""The align stage: the map is stored the moment it exists, a retry after a failed mux does not
align again, a review map waits for a user, approve merges it as stored, reject blocklists it.

The real-merge tests use a 12 s generated pair and an aligner plugin that answers with the
pair's known map (and counts its calls); the aligner itself is tested in tests/align.
"""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from pipeline_lib import FakeMerge, TruthAlign, build_lib
from syncdub_companion import hookimpl, jobs
from syncdub_companion.pipeline.runner import run_job
from syncdub_companion.testing import make_services

SECONDS, OFFSET = 12.0, 1.5
MOVIE = "movies/Film (2010)/Film (2010).mkv"
needs_tools = pytest.mark.skipif(not (shutil.which("ffmpeg") and shutil.which("mkvmerge")),
                                 reason="needs ffmpeg and mkvmerge")


class CountingAlign(TruthAlign):
    """The pair's true map with the verdict it is given; counts how often it is asked."""

    def __init__(self, verdict: str = "aligned"):
        super().__init__(OFFSET, SECONDS)
        self.verdict, self.calls = verdict, 0

    @hookimpl(tryfirst=True)
    def syncdub_align(self, original, dubbed, options):
        from dataclasses import replace

        self.calls += 1
        found = super().syncdub_align(original, dubbed, options)
        return replace(found, verdict=self.verdict, confidence=0.4, reason="weak audio, speech off") \
            if self.verdict == "review" else found


def synced_languages(path) -> list[str]:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(path)],
                         capture_output=True, check=True).stdout
    return [s["tags"]["language"] for s in json.loads(out)["streams"]
            if s["codec_type"] == "audio" and "SYNCDUB_SOURCE" in {k.upper() for k in s.get("tags", {})}]


def run_next(lib, worker="w", **kw) -> str:
    job = jobs.claim_next(lib.services.store, worker)
    assert job is not None, "nothing claimable"
    return run_job(lib.services, job, worker=worker, **kw)


@needs_tools
def test_a_retry_after_a_full_disk_merges_with_the_stored_map_without_aligning_again(tmp_path, movie_with_dub):
    # a margin no disk has: the mux's space check fails (DiskFullError, retried later)
    library = {"roots": [str(tmp_path / "lib")], "languages": ["de"]}
    full = build_lib(tmp_path, {"library": {**library, "space_margin_mb": 1 << 20}}, stable_seconds=0)
    original, _ = movie_with_dub(full.root / "movies" / "Film (2010)", SECONDS, OFFSET)
    aligner = CountingAlign()
    full.services.pm.register(aligner, name="counting-align")
    job_id = jobs.create(full.services.store, original=str(original))

    assert run_next(full) == "queued"
    waiting = jobs.get(full.services.store, job_id)
    assert "GiB" in waiting.error or "MiB" in waiting.error, waiting.error
    assert waiting.maps["de"]["status"] == "aligned" and waiting.timemap("de").segments  # stored before the mux
    assert synced_languages(original) == [] and aligner.calls == 1

    # the disk has room again: the same store, an ordinary margin
    roomy = make_services(tmp_path, {**full.overrides, "library": {**library, "space_margin_mb": 1}})
    roomy.pm.register(aligner, name="counting-align")
    jobs.update(roomy.store, job_id, next_attempt_at=0)
    assert run_job(roomy, jobs.claim_next(roomy.store, "w"), worker="w") == "done", jobs.get(roomy.store, job_id).error
    assert aligner.calls == 1  # the retry merged the stored map
    assert synced_languages(original) == ["ger"]
    full.services.store.close()


@needs_tools
def test_a_review_map_waits_then_approve_merges_it_as_stored(tmp_path, movie_with_dub):
    lib = build_lib(tmp_path, stable_seconds=0)
    original, _ = movie_with_dub(lib.root / "movies" / "Film (2010)", SECONDS, OFFSET)
    aligner = CountingAlign("review")
    lib.services.pm.register(aligner, name="counting-align")
    job_id = jobs.create(lib.services.store, original=str(original))

    assert run_next(lib) == "needs_review"
    held = jobs.get(lib.services.store, job_id)
    assert held.awaiting_review() == ["de"] and held.timemap("de").verdict == "review"
    assert "approve" in held.result["message"] and held.result["not_added"]["de"].startswith("held for review")
    assert synced_languages(original) == [] and lib.recorder.changed == []  # never merged, nothing to rescan

    assert jobs.approve(lib.services.store, job_id) == ["de"]
    assert run_next(lib) == "done", jobs.get(lib.services.store, job_id).error
    assert aligner.calls == 1  # merged with the stored map
    assert synced_languages(original) == ["ger"] and lib.recorder.changed == [[str(original)]]
    done = jobs.get(lib.services.store, job_id)
    assert done.result["languages"]["de"]["timemap"]["segments"] == held.maps["de"]["timemap"]["segments"]
    with pytest.raises(Exception, match="no time map for review"):
        jobs.approve(lib.services.store, job_id)
    lib.services.store.close()


def test_reject_ends_the_job_rejected_and_blocklists_the_pair(lib):
    original = lib.file(MOVIE)
    dub = lib.file("movies/Film (2010)/Film (2010).de.mka")
    job_id = jobs.create(lib.services.store, original=original)
    merge = FakeMerge(verdict="review")
    assert run_next(lib, merge=merge, align=merge.align) == "needs_review" and merge.calls == []

    assert jobs.reject(lib.services.store, job_id) == ["de"]
    job = jobs.get(lib.services.store, job_id)
    assert job.state == "rejected" and job.result["reason"] == "rejected after review"
    [row] = jobs.blocklist(lib.services.store)
    assert (row["dubbed"], row["job_id"], row["language"]) == (dub, job_id, "de")
    again = jobs.create(lib.services.store, original=original)
    assert run_next(lib, merge=merge, align=merge.align) == "skipped"  # the pair is not aligned again
    assert len(merge.align_calls) == 1 and "rejected before" in jobs.get(lib.services.store, again).result["message"]


def test_retry_of_a_finished_job_aligns_afresh(lib):
    """Approve reuses the stored map; retry is asking for the whole job again."""
    original = lib.file(MOVIE)
    lib.file("movies/Film (2010)/Film (2010).de.mka")
    job_id = jobs.create(lib.services.store, original=original)
    merge = FakeMerge()
    assert run_next(lib, merge=merge, align=merge.align) == "done"
    jobs.retry(lib.services.store, job_id)
    assert run_next(lib, merge=merge, align=merge.align) == "done"
    assert len(merge.align_calls) == 2


def test_cli_approve_and_reject(tmp_path):
    from syncdub_companion.cli import _register_commands, cli

    _register_commands()
    lib = build_lib(tmp_path)
    config = tmp_path / "c.toml"
    config.write_text(f'[server]\ndata_dir = "{tmp_path / "data"}"\n[library]\nroots = ["{lib.root}"]\n')
    store = lib.services.store
    first, second = (jobs.create(store, original=lib.file(f"movies/F{n}/F{n}.mkv")) for n in (1, 2))
    for job_id in (first, second):
        jobs.update(store, job_id, maps={"de": {"status": "review", "dubbed": str(lib.dubs / "F.de.mka"),
                                                "candidate": {"path": str(lib.dubs / "F.de.mka")}}},
                    item={"path": jobs.get(store, job_id).original})
        jobs.set_state(store, job_id, "needs_review")

    approved = CliRunner().invoke(cli, ["jobs", "approve", str(first), "--config", str(config)], env={})
    assert approved.exit_code == 0 and "approved the map of de" in approved.output, approved.output
    assert jobs.get(store, first).state == "queued" and jobs.get(store, first).approved == ["de"]
    rejected = CliRunner().invoke(cli, ["jobs", "reject", str(second), "--config", str(config)], env={})
    assert rejected.exit_code == 0 and "on the blocklist" in rejected.output, rejected.output
    assert jobs.get(store, second).state == "rejected" and len(jobs.blocklist(store)) == 1
    refused = CliRunner().invoke(cli, ["jobs", "approve", str(second), "--config", str(config)], env={})
    assert refused.exit_code != 0 and "no time map for review" in refused.output
    store.close()


LOGGING_MKVMERGE = """#!{python}
import json, os, sys
with open({log!r}, "a") as fh:
    fh.write(json.dumps(sys.argv[1:]) + "\\n")
os.execv({real!r}, [{real!r}, *sys.argv[1:]])
"""


@needs_tools
def test_a_job_with_two_languages_writes_the_file_once(tmp_path, movie_with_dub):
    """Issue 18 item 2 in the service: a German and a French sidecar dub, one job, one mux,
    one swap, one rescan; each language's map stored by the align stage."""
    import os
    import sys

    log, wrapper = tmp_path / "mkvmerge.log", tmp_path / "mkvmerge-logging"
    wrapper.write_text(LOGGING_MKVMERGE.format(python=sys.executable, log=str(log), real=shutil.which("mkvmerge")))
    wrapper.chmod(0o755)
    library = {"roots": [str(tmp_path / "lib")], "languages": ["de", "fr"]}
    lib = build_lib(tmp_path, {"library": library, "tools": {"mkvmerge": str(wrapper)}}, stable_seconds=0)
    original, german = movie_with_dub(lib.root / "movies" / "Film (2010)", SECONDS, OFFSET)
    french = german.with_name("Film (2010).fr.mka")
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(german), "-c", "copy", "-metadata:s:a:0", "language=fre",
                    str(french)], check=True)
    aligner = CountingAlign()
    lib.services.pm.register(aligner, name="counting-align")
    inode = os.stat(original).st_ino
    job_id = jobs.create(lib.services.store, original=str(original))

    assert run_next(lib) == "done", jobs.get(lib.services.store, job_id).error
    job = jobs.get(lib.services.store, job_id)
    assert sorted(job.maps) == ["de", "fr"] and aligner.calls == 2
    assert synced_languages(original) == ["ger", "fre"] and os.stat(original).st_ino != inode
    muxes = [a for a in map(json.loads, log.read_text().splitlines()) if "-o" in a and str(original) in a]
    assert len(muxes) == 1  # one temp file written from the film, for both languages
    assert job.result["languages"]["fr"]["verification"]["languages_in_write"] == 2
    assert lib.recorder.changed == [[str(original)]]  # one rescan
    assert job.result["message"] == "added de, fr"
    lib.services.store.close()


def test_a_dub_that_breaks_the_one_write_sinks_only_itself(lib):
    """The write of both languages fails its verify; each is then written alone and the
    French one, whose track is the broken one, is reported, the German one added."""
    from syncdub_companion.errors import VerificationError

    original = lib.file(MOVIE)
    lib.file("movies/Film (2010)/Film (2010).de.mka")
    lib.file("movies/Film (2010)/Film (2010).fr.mka")
    lib.services.config.data["library"]["languages"] = ["de", "fr"]
    lib.services.config.data["counterparts"]["dub_roots"] = {}
    fake = FakeMerge()

    def merge(services, original, dubbed, *, language, **kw):
        if language == "fr":
            raise VerificationError("the new track decodes only to 3.0 s, expected 60.0 s")
        return fake(services, original, dubbed, language=language, **kw)

    def merge_many(services, original, dubs, **kw):
        raise VerificationError("the new fr track decodes only to 3.0 s, expected 60.0 s")

    job_id = jobs.create(lib.services.store, original=original)
    assert run_next(lib, merge=merge, align=fake.align, merge_many=merge_many) == "done"
    job = jobs.get(lib.services.store, job_id)
    assert [c["language"] for c in fake.calls] == ["de"]
    assert job.result["not_added"] == {"fr": "failed (the new track decodes only to 3.0 s, expected 60.0 s)"}
    assert job.result["message"].startswith("added de; not added: fr failed")
    assert any("each language on its own" in line for line in job.log)
