"""A job that cannot work says why in its own reason, not only in the service log (issue 16)."""
from __future__ import annotations

import os
import shutil
import time

from syncdub_companion import jobs
from syncdub_companion.media import LibraryEvent
from syncdub_companion.pipeline.runner import run_job

from pipeline_lib import FakeMerge, build_lib

MOVIE = "movies/Film (2010)/Film (2010).mkv"


def run_next(lib, merge=None):
    job = jobs.claim_next(lib.services.store, "test-worker")
    assert job is not None, "nothing claimable"
    merge = merge or FakeMerge()
    return run_job(lib.services, job, worker="test-worker", merge=merge, align=merge.align)


def test_a_dub_root_outside_the_library_is_read(tmp_path):
    """Most users keep downloads outside the library: such a dub root is read, never written."""
    downloads = tmp_path / "downloads" / "de"
    downloads.mkdir(parents=True)
    dub = downloads / "Film.2010.German.DL.1080p.BluRay.x264-GRP.mkv"
    dub.write_bytes(b"x" * 64)
    os.utime(dub, (time.time() - 3600,) * 2)  # settled long ago: ready at once
    lib = build_lib(tmp_path, {"counterparts": {"dub_roots": {"de": str(downloads)}}})
    original = lib.file(MOVIE)
    jobs.create(lib.services.store, original=original)
    merge = FakeMerge()
    assert run_next(lib, merge) == "done"
    assert merge.calls[0]["dubbed"] == str(dub)
    lib.services.store.close()


def test_a_missing_dub_root_is_named_in_the_skip_reason(tmp_path):
    lib = build_lib(tmp_path)
    shutil.rmtree(lib.dubs)  # the share is not mounted
    job_id = jobs.create(lib.services.store, original=lib.file(MOVIE))
    assert run_next(lib) == "skipped"
    reason = jobs.get(lib.services.store, job_id).result["message"]
    assert reason == (f"no dubbed counterpart found for de; counterparts.dub_roots.de = {lib.dubs} does not exist, "
                      "so no de dub can be found there (fix it under Settings → Finding dubs)")
    lib.services.store.close()


def test_a_dub_root_that_is_a_file_is_named_in_the_skip_reason(tmp_path):
    lib = build_lib(tmp_path)
    shutil.rmtree(lib.dubs)
    lib.dubs.write_text("not a folder")
    job_id = jobs.create(lib.services.store, original=lib.file(MOVIE))
    assert run_next(lib) == "skipped"
    assert f"counterparts.dub_roots.de = {lib.dubs} is not a folder" in jobs.get(lib.services.store, job_id).result["message"]
    lib.services.store.close()


def test_a_usable_dub_root_adds_nothing_to_the_reason(tmp_path):
    lib = build_lib(tmp_path)
    job_id = jobs.create(lib.services.store, original=lib.file(MOVIE))
    assert run_next(lib) == "skipped"
    assert jobs.get(lib.services.store, job_id).result["message"] == "no dubbed counterpart found for de"
    lib.services.store.close()


def test_a_jellyfin_event_without_a_jellyfin_server_names_the_fix(tmp_path):
    lib = build_lib(tmp_path)
    jobs.enqueue_event(lib.services.store, LibraryEvent(source="jellyfin", item_id="a" * 32, title="Film"), 600)
    assert run_next(lib) == "failed"
    error = jobs.list_jobs(lib.services.store)[0].error
    assert error == ("cannot resolve the jellyfin event for Film: no Jellyfin server is configured, and only "
                     "Jellyfin knows this item's file: set jellyfin.url and jellyfin.api_key under Settings → "
                     "Jellyfin, then retry this job")
    lib.services.store.close()


def test_a_plex_event_with_the_plex_plugin_off_names_the_switch(tmp_path):
    lib = build_lib(tmp_path, {"plugins": {"disable": ["plex"]}})
    jobs.enqueue_event(lib.services.store, LibraryEvent(source="plex", item_id="123", title="Film"), 600)
    assert run_next(lib) == "failed"
    assert "the plex plugin is switched off ([plugins] enable/disable)" in jobs.list_jobs(lib.services.store)[0].error
    lib.services.store.close()
