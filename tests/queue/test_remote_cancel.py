"""Cancel reaches a worker: a job cancelled while its stage waits in the queue ends cancelled
at once; the worker that takes the message later sees the run's cancel flag at its first
progress report, stops, and the message is acknowledged; the film is untouched."""
from __future__ import annotations

import time

import redis

from queue_lib import Deployment, free_port, record, synced_tracks, wait_final
from syncdub_companion import jobs

ALIGN = "syncdub-dramatiq:syncdub.align"


def test_a_job_cancelled_while_queued_is_stopped_on_the_worker(tmp_path, redis_server, movie_with_dub):
    deploy = Deployment(tmp_path, redis_server.url, movie_with_dub)
    original, dub = deploy.film("A")
    before = original.stat().st_mtime_ns
    store = deploy.store()
    job_id = jobs.create(store, original=str(original), dubbed=str(dub), language="de")
    client = redis.Redis.from_url(redis_server.url)
    try:
        deploy.serve(free_port())
        deadline = time.monotonic() + 60
        while client.llen(ALIGN) != 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        jobs.cancel(store, job_id)
        [job] = wait_final(store, [job_id], 30)
        assert job["state"] == "cancelled", job["log"]
        worker = deploy.worker("late", ("align",))
        worker.wait_for(r"job \d+: align stage stopped: the service cancelled the run", 60)
        deadline = time.monotonic() + 30
        while client.hlen(ALIGN + ".msgs") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert client.hlen(ALIGN + ".msgs") == 0  # acknowledged: nobody runs it again
    finally:
        deploy.stop_all()
    assert record(store, job_id)["state"] == "cancelled"
    assert synced_tracks(original) == [] and original.stat().st_mtime_ns == before
    store.close()
