"""The jobs list, its JSON for live progress, retry/cancel, and the job page with its plot."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from web_site import page_token

from syncdub_companion import jobs
from syncdub_companion.align.timemap import Anchor, Segment, TimeMap

SVG = "{http://www.w3.org/2000/svg}"


def cut_map() -> TimeMap:
    """Two segments with 4 s of the original missing from the dub, and anchors of two kinds."""
    segments = [Segment(0.0, 30.0, 1.5, 31.5), Segment(30.0, 60.0, 35.5, 65.5)]
    anchors = [Anchor(t, t + 1.5 + (0.004 if t % 2 else -0.003), 0.9, "audio") for t in range(1, 29, 2)]
    anchors += [Anchor(t, t + 5.5, 0.6, "speech") for t in range(32, 59, 3)]
    return TimeMap("aligned", 0.87, "", 1.0, segments, anchors)


def finished_job(store, root, state="done") -> int:
    job_id = jobs.create(store, original=str(root / "Movies" / "Film (2001).mkv"), language="de", source="web")
    entry = {"status": "done", "output_path": str(root / "Movies" / "Film (2001).mkv"), "message": "added",
             "timemap": cut_map().to_dict(with_anchors=True), "verification": {"duration_delta": "0.01 s"}}
    jobs.update(store, job_id, merged={"de": entry}, plan={"de": {"path": str(root / "dubs" / "Film.de.mkv")}},
                candidates=[{"path": str(root / "dubs" / "Film.de.mkv"), "language": "de", "score": 0.93,
                             "finder": "folder", "reason": "same title and year"}])
    jobs.append_log(store, job_id, "merging de from the dub")
    jobs.set_state(store, job_id, state, progress=100.0, result={"message": "added de", "languages": {"de": entry},
                                                                 "outputs": [entry["output_path"]], "review": {}})
    return job_id


def test_list_shows_jobs_with_state_and_progress(site, user):
    store = site.services.store
    queued = jobs.create(store, original=str(site.root / "a.mkv"))
    running = jobs.create(store, original=str(site.root / "b.mkv"))
    jobs.update(store, running, state="aligning", progress=42.0)
    html = user.get("/jobs").get_data(as_text=True)
    assert f'data-job-id="{queued}"' in html and f'data-job-id="{running}"' in html
    assert "42%" in html and ">aligning<" in html
    assert "b.mkv" in html


def test_filter_by_state(site, user):
    store = site.services.store
    a = jobs.create(store, original=str(site.root / "a.mkv"))
    b = jobs.create(store, original=str(site.root / "b.mkv"))
    jobs.set_state(store, b, "failed", error="boom")
    html = user.get("/jobs?state=failed").get_data(as_text=True)
    assert f'data-job-id="{b}"' in html and f'data-job-id="{a}"' not in html
    data = user.get("/api/jobs?state=queued").get_json()
    assert [j["id"] for j in data["jobs"]] == [a]


def test_unknown_state_filter_is_400(site, user):
    assert user.get("/jobs?state=exploded").status_code == 400
    response = user.get("/api/jobs?state=exploded")
    assert response.status_code == 400 and "unknown job state" in response.get_json()["error"]


def test_polling_json_follows_progress(site, user):
    store = site.services.store
    job_id = jobs.create(store, original=str(site.root / "a.mkv"))
    jobs.update(store, job_id, state="muxing", progress=63.2)
    jobs.append_log(store, job_id, "muxing started")
    [row] = user.get("/api/jobs").get_json()["jobs"]
    assert (row["id"], row["state"], row["progress"], row["final"]) == (job_id, "muxing", 63.2, False)
    detail = user.get(f"/api/jobs/{job_id}").get_json()
    assert detail["log"][-1].endswith("muxing started")


def test_retry_puts_a_failed_job_back(site, user):
    store = site.services.store
    job_id = jobs.create(store, original=str(site.root / "a.mkv"))
    jobs.set_state(store, job_id, "failed", error="disk full")
    response = user.post(f"/jobs/{job_id}/retry", data={"csrf_token": page_token(user), "back": "/jobs?state=failed"})
    assert response.headers["Location"] == "/jobs?state=failed"
    assert jobs.get(store, job_id).state == "queued"


def test_retry_of_a_running_job_is_refused_with_a_message(site, user):
    store = site.services.store
    job_id = jobs.create(store, original=str(site.root / "a.mkv"))
    jobs.update(store, job_id, state="aligning")
    user.post(f"/jobs/{job_id}/retry", data={"csrf_token": page_token(user)})
    assert jobs.get(store, job_id).state == "aligning"
    assert "is running" in user.get(f"/jobs/{job_id}").get_data(as_text=True)


def test_cancel_queued_and_running_jobs(site, user):
    store = site.services.store
    queued = jobs.create(store, original=str(site.root / "a.mkv"))
    running = jobs.create(store, original=str(site.root / "b.mkv"))
    jobs.update(store, running, state="muxing")
    token = page_token(user)
    user.post(f"/jobs/{queued}/cancel", data={"csrf_token": token})
    user.post(f"/jobs/{running}/cancel", data={"csrf_token": token})
    assert jobs.get(store, queued).state == "cancelled"
    assert jobs.get(store, running).cancel_requested is True
    user.post(f"/jobs/{queued}/cancel", data={"csrf_token": token})
    assert "already finished" in user.get(f"/jobs/{queued}").get_data(as_text=True)


def test_back_target_must_stay_on_the_jobs_pages(site, user):
    job_id = jobs.create(site.services.store, original=str(site.root / "a.mkv"))
    response = user.post(f"/jobs/{job_id}/cancel", data={"csrf_token": page_token(user), "back": "https://evil/"})
    assert response.headers["Location"] == f"/jobs/{job_id}"


def test_job_page_shows_files_languages_candidates_verdict_log_and_plot(site, user):
    job_id = finished_job(site.services.store, site.root)
    html = user.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Film (2001).mkv" in html and "Film.de.mkv" in html
    assert "same title and year" in html and "0.93" in html  # the candidate
    assert ">aligned<" in html and "data-confidence>0.87<" in html  # verdict and confidence
    assert "merging de from the dub" in html  # the log
    assert f'src="/jobs/{job_id}/plot.svg?language=de' in html
    assert "2 segment(s)" in html


def test_plot_is_an_svg_with_segments_anchor_kinds_and_the_cut(site, user):
    job_id = finished_job(site.services.store, site.root)
    response = user.get(f"/jobs/{job_id}/plot.svg?language=de")
    assert response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.data)
    assert root.tag == f"{SVG}svg"
    text = response.get_data(as_text=True)
    for label in ("segment", "audio anchors (14)", "speech anchors (9)", "cut", "dub time (s)", "original time (s)"):
        assert label in text, label
    assert user.get(f"/jobs/{job_id}/plot.svg").data == response.data  # first language by default


def test_rejected_job_shows_the_reason(site, user):
    store = site.services.store
    job_id = jobs.create(store, original=str(site.root / "a.mkv"))
    jobs.set_state(store, job_id, "rejected", error="not the same content: coverage 12%",
                   result={"confidence": 0.12, "reason": "not the same content: coverage 12%"})
    html = user.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "verdict-rejected" in html and "coverage 12%" in html and "0.12" in html
    assert user.get(f"/jobs/{job_id}/plot.svg").status_code == 404


@pytest.mark.parametrize("path", ["/jobs/999", "/jobs/999/plot.svg"])
def test_missing_job_is_404(site, user, path):
    response = user.get(path)
    assert response.status_code == 404
    assert "no such job" in response.get_data(as_text=True)
    assert user.get("/api/jobs/999").status_code == 404
    assert user.post("/jobs/999/retry", data={"csrf_token": page_token(user)}).status_code == 404


def test_the_list_is_paged_newest_first_and_the_poll_asks_for_the_same_page(site, user):
    from syncdub_companion.web.jobs_views import PAGE_SIZE

    store = site.services.store
    ids = jobs.create_many(store, [{"original": str(site.root / f"f{n}.mkv")} for n in range(PAGE_SIZE + 5)])
    with store.transaction() as db:  # distinct creation times, oldest first
        for n, job_id in enumerate(ids):
            db.table(jobs.TABLE).update({"created_at": 1000.0 + n}, doc_ids=[job_id])
    first = user.get("/jobs").get_data(as_text=True)
    assert first.count("data-job-id=") == PAGE_SIZE
    assert f'data-job-id="{ids[-1]}"' in first and f'data-job-id="{ids[4]}"' not in first
    assert f"page 1 of 2 ({PAGE_SIZE + 5} jobs)" in first and "page=2" in first
    second = user.get("/jobs?page=2").get_data(as_text=True)
    assert [f'data-job-id="{i}"' in second for i in ids[:6]] == [True] * 5 + [False]
    assert 'data-poll="/api/jobs?page=2"' in second
    assert [j["id"] for j in user.get("/api/jobs?page=2").get_json()["jobs"]] == ids[4::-1]
    assert user.get("/jobs?page=0").status_code == 400 and user.get("/api/jobs?page=x").status_code == 400


def test_list_and_job_page_name_the_worker_running_the_job(site, user):
    """The redis queue records which `syncdub worker` took the job's stage (its ``runner``)."""
    store = site.services.store
    remote = jobs.create(store, original=str(site.root / "a.mkv"))
    local = jobs.create(store, original=str(site.root / "b.mkv"))
    jobs.update(store, remote, state="aligning", progress=12.0, runner="gpu-box:4242")
    html = user.get("/jobs").get_data(as_text=True)
    assert html.count('data-field="runner"') == 1 and "worker gpu-box:4242" in html
    rows = {row["id"]: row for row in user.get("/api/jobs").get_json()["jobs"]}
    assert (rows[remote]["runner"], rows[local]["runner"]) == ("gpu-box:4242", None)
    assert "gpu-box:4242" in user.get(f"/jobs/{remote}").get_data(as_text=True)
    assert 'data-field="runner"' not in user.get(f"/jobs/{local}").get_data(as_text=True)
