"""With the redis queue and jobs.workers > 0 the service runs stage workers of its own: a
film is aligned and merged with no `syncdub worker` anywhere, through the same queues."""
from __future__ import annotations

from queue_lib import Deployment, free_port, synced_tracks, wait_final
from syncdub_companion import jobs


def test_the_service_runs_its_own_stage_worker_when_jobs_workers_is_set(tmp_path, redis_server, movie_with_dub):
    deploy = Deployment(tmp_path, redis_server.url, movie_with_dub)
    original, dub = deploy.film("A")
    store = deploy.store()
    job_id = jobs.create(store, original=str(original), dubbed=str(dub), language="de")
    try:
        service = deploy.serve(free_port(), workers=1)
        service.wait_for("1 stage worker\\(s\\) in this process", 5)
        [job] = wait_final(store, [job_id], 90)
    finally:
        deploy.stop_all()
    assert job["state"] == "done", (job.get("error"), job["log"])
    assert job["runner"].endswith(":service") and set(job["queue_wait"]) == {"align", "merge"}
    assert synced_tracks(original) == ["ger"]
    store.close()
