"""The typed Job: stored and read back, a store the previous version wrote, and the old dict reading."""
from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pytest

from syncdub_companion import jobs
from syncdub_companion.job import Job
from syncdub_companion.store import Store

PREVIOUS = Path(__file__).parent / "fixtures" / "store-previous"  # written by the dict-record version (75b01c9)


def previous_store(tmp_path: Path) -> tuple[Store, Path]:
    """That store's three files, their paths moved under ``tmp_path``."""
    data = tmp_path / "data"
    data.mkdir()
    for src in PREVIOUS.iterdir():
        (data / src.name).write_text(src.read_text().replace("@ROOT@", str(tmp_path)))
    return Store(data / "syncdub.json"), tmp_path


def test_a_job_round_trips_through_the_store_and_keeps_unknown_keys(tmp_path):
    store = Store(tmp_path / "s.json")
    job_id = jobs.create(store, original="/lib/a.mkv", language="de")
    jobs.update(store, job_id, maps={"de": {"status": "aligned", "dubbed": "/d.mkv"}}, a_plugins_key=[1, 2])
    job = jobs.get(store, job_id)
    assert isinstance(job, Job) and job.id == job_id and job.state == "queued" and job.language == "de"
    assert job.maps["de"]["status"] == "aligned" and job.extra == {"a_plugins_key": [1, 2]}
    assert Job.from_dict({**job.to_dict(), "id": job.id}) == job
    assert job.to_dict()["a_plugins_key"] == [1, 2]  # written back as it was


def test_reading_a_job_like_a_dict_still_answers_but_warns():
    job = Job(id=3, state="done", original="/lib/a.mkv", extra={"x": 1})
    with pytest.warns(DeprecationWarning, match=r"job\.state"):
        assert job["state"] == "done"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert job.get("original") == "/lib/a.mkv" and job["id"] == 3 and job["x"] == 1
        assert job.get("no_such_key", "fallback") == "fallback"
        assert dict(job)["state"] == "done"
    with pytest.raises(TypeError):
        job["state"] = "failed"  # reading only


def test_a_store_written_by_the_previous_version_loads(tmp_path):
    store, root = previous_store(tmp_path)
    listed = jobs.list_jobs(store)
    assert sorted(j.state for j in listed) == ["aligning", "done", "queued", "rejected"]
    done = jobs.get(store, 1)
    assert done.stowed and done.result["languages"]["de"]["timemap"]["verdict"] == "aligned"
    assert done.maps is None and done.awaiting_review() == []  # no align stage back then
    mid_run = jobs.get(store, 4)
    assert mid_run.stage == "merge" and mid_run.extra == {"some_plugin_key": {"x": 1}}
    shown, counts, matching = jobs.page(store)
    assert matching == 4 and counts["done"] == 1 and all(isinstance(j, Job) for j in shown)
    assert jobs.blocklist(store)[0]["reason"] == "another film"


def test_the_service_resumes_a_job_the_previous_version_left_mid_run(tmp_path):
    """Job 4 was claimed and merging (stage "merge", no stored map) when that version
    stopped: it is re-queued, aligned by the new align stage, and done."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent / "pipeline"))
    from pipeline_lib import FakeMerge, build_lib
    from syncdub_companion.pipeline.runner import run_job

    lib = build_lib(tmp_path)
    data = tmp_path / "data"
    for src in PREVIOUS.iterdir():
        (data / src.name).write_text(src.read_text().replace("@ROOT@", str(tmp_path)))
    store = lib.services.store
    lib.file("Film (2010)/Film (2010).mkv")
    lib.file("dubs/de/Film (2010).de.mkv")
    assert 4 in jobs.requeue_interrupted(store)
    for other in (3,):  # the queued webhook job would resolve through a Plex that is not set up
        jobs.cancel(store, other)
    merge = FakeMerge()
    job = jobs.claim_next(store, "new")
    assert job.id == 4 and run_job(lib.services, job, merge=merge, align=merge.align) == "done"
    resumed = jobs.get(store, 4)
    assert resumed.maps["de"]["status"] == "aligned" and resumed.extra == {"some_plugin_key": {"x": 1}}
    assert len(merge.align_calls) == 1 and len(merge.calls) == 1
    store.close()


def test_the_job_pages_show_a_store_written_by_the_previous_version(tmp_path):
    sys_path = str(Path(__file__).parent / "web")
    import sys

    sys.path.insert(0, sys_path)
    from web_site import login, make_site

    site = make_site(tmp_path)
    data = tmp_path / "data"
    for src in PREVIOUS.iterdir():
        shutil.copy(src, data / src.name)
    client = site.client()
    assert login(client).status_code == 302
    assert client.get("/jobs").status_code == 200
    for job_id in (1, 2, 3, 4):
        assert client.get(f"/jobs/{job_id}").status_code == 200, job_id
        assert client.get(f"/api/jobs/{job_id}").status_code == 200
    plot = client.get("/jobs/1/plot.svg")  # the map the old merge stored in its result
    assert plot.status_code == 200 and plot.mimetype == "image/svg+xml"
    site.services.store.close()
