"""A worker stopped with SIGTERM in the middle of a merge (a service restart, `docker stop`):
its stage stops at the next progress report, its temps are removed, the message is
acknowledged and the service queues the job again at once; the next worker finishes it, and
the job ends done exactly once with one synced track and no temp file left."""
from __future__ import annotations

import signal

from queue_lib import Deployment, free_port, synced_tracks, temps_under, wait_final
from syncdub_companion import jobs


def test_sigterm_mid_merge_gives_the_stage_back_and_the_job_ends_done_once(tmp_path, redis_server, movie_with_dub):
    deploy = Deployment(tmp_path, redis_server.url, movie_with_dub)
    original, dub = deploy.film("A")
    store = deploy.store()
    job_id = jobs.create(store, original=str(original), dubbed=str(dub), language="de")
    try:
        service, first = deploy.serve(free_port(), wait=False), deploy.worker("first", wait=False)
        deploy.ready(service, first)
        first.wait_for(r"job \d+: merge stage of", 60)
        first.popen.send_signal(signal.SIGTERM)
        assert first.popen.wait(30) == 0
        first.wait_for(r"merge stage stopped: the worker first is stopping", 1)
        assert temps_under(deploy.lib) == []
        deploy.worker("second")
        [job] = wait_final(store, [job_id], 60)
    finally:
        deploy.stop_all()
    assert job["state"] == "done", (job.get("error"), job["log"])
    assert synced_tracks(original) == ["ger"]
    assert sum(" done: " in line for line in job["log"]) == 1, job["log"]
    assert any("worker first stopped before the end; queued again" in line for line in job["log"]), job["log"]
    assert job["runner"] == "second" and job["attempts"] <= 1, job["log"]
    assert temps_under(deploy.lib) == []
    store.close()
