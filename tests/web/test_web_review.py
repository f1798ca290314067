"""The job page while a job runs (its stored map plotted during the mux) and the review
buttons: Approve and Reject, behind the login and the CSRF token."""
from __future__ import annotations

from web_site import page_token

from syncdub_companion import jobs
from syncdub_companion.pipeline.runner import run_job
from tests.pipeline.pipeline_lib import FakeMerge


def queued_pair(site) -> int:
    film = site.root / "Movies" / "Film (2001).mkv"
    dub = site.root / "Movies" / "Film (2001).de.mka"
    film.write_bytes(b"x" * 64)
    dub.write_bytes(b"y" * 64)
    return jobs.create(site.services.store, original=str(film), dubbed=str(dub), language="de")


def run(site, merge: FakeMerge) -> str:
    site.services.config.data["jobs"]["stable_seconds"] = 0
    job = jobs.claim_next(site.services.store, "w")
    return run_job(site.services, job, worker="w", merge=merge, align=merge.align)


def test_the_job_page_plots_the_map_while_the_mux_runs(site, user):
    job_id = queued_pair(site)
    seen = {}

    def look():
        seen["state"] = user.get(f"/api/jobs/{job_id}").get_json()["state"]
        seen["plot"] = user.get(f"/jobs/{job_id}/plot.svg?language=de")
        seen["page"] = user.get(f"/jobs/{job_id}").get_data(as_text=True)

    assert run(site, FakeMerge(during=look)) == "done"
    assert seen["state"] == "muxing"
    assert seen["plot"].status_code == 200 and seen["plot"].mimetype == "image/svg+xml"
    assert "<svg" in seen["plot"].get_data(as_text=True)
    assert "1 segment(s)" in seen["page"]  # the stored map's summary, before any merge result exists


def test_a_review_job_shows_approve_and_reject_and_they_act(site, user):
    job_id = queued_pair(site)
    assert run(site, FakeMerge(verdict="review")) == "needs_review"
    page = user.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert f'action="/jobs/{job_id}/approve"' in page and f'action="/jobs/{job_id}/reject"' in page
    assert "held for review" in page
    # the bar is not left at the share the job had when the aligner held it (28 %)
    assert "waiting for review" in page and '<progress max="100" value=' not in page
    listed = user.get("/jobs").get_data(as_text=True)
    assert f'data-job-id="{job_id}"' in listed and "waiting for review" in listed
    assert user.get(f"/api/jobs/{job_id}").get_json()["progress_text"] == "waiting for review"

    assert user.post(f"/jobs/{job_id}/approve", data={}).status_code == 400  # no CSRF token
    assert jobs.get(site.services.store, job_id).state == "needs_review"
    stranger = site.client()
    assert stranger.post(f"/jobs/{job_id}/approve", data={}).status_code in (302, 400, 401, 403)
    assert jobs.get(site.services.store, job_id).state == "needs_review"

    response = user.post(f"/jobs/{job_id}/approve", data={"csrf_token": page_token(user)})
    assert response.status_code == 302
    job = jobs.get(site.services.store, job_id)
    assert job.state == "queued" and job.approved == ["de"]
    merge = FakeMerge()
    assert run(site, merge) == "done" and merge.align_calls == []  # merged with the stored map
    assert "Approve</button>" not in user.get(f"/jobs/{job_id}").get_data(as_text=True)


def test_reject_from_the_page_blocklists_the_pair(site, user):
    job_id = queued_pair(site)
    assert run(site, FakeMerge(verdict="review")) == "needs_review"
    response = user.post(f"/jobs/{job_id}/reject", data={"csrf_token": page_token(user)})
    assert response.status_code == 302
    assert jobs.get(site.services.store, job_id).state == "rejected"
    assert [row["job_id"] for row in jobs.blocklist(site.services.store)] == [job_id]
    again = user.post(f"/jobs/{job_id}/reject", data={"csrf_token": page_token(user)}, follow_redirects=True)
    assert "no time map for review" in again.get_data(as_text=True)
