"""A broker restart loses no queued job: the stage message waits in Redis's append-only file
while no worker runs, survives redis-server stopping and starting again, and the workers
that start afterwards take it; the service, which kept running, records the job done.
The two workers split the stages by configuration: one aligns only, one merges only."""
from __future__ import annotations

import time

import redis

from queue_lib import free_port
from queue_lib import Deployment, synced_tracks, wait_final
from syncdub_companion import jobs

QUEUES = ("syncdub-dramatiq:syncdub.align", "syncdub-dramatiq:syncdub.merge")


def queued(client: redis.Redis) -> int:
    return sum(client.llen(name) for name in QUEUES)


def wait_queued(client: redis.Redis, count: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while queued(client) != count and time.monotonic() < deadline:
        time.sleep(0.2)
    return queued(client)


def test_queued_stage_survives_a_broker_restart_and_runs_after(tmp_path, redis_server, movie_with_dub):
    deploy = Deployment(tmp_path, redis_server.url, movie_with_dub)
    original, dub = deploy.film("A")
    store = deploy.store()
    job_id = jobs.create(store, original=str(original), dubbed=str(dub), language="de")
    try:
        deploy.serve(free_port())
        assert wait_queued(redis.Redis.from_url(redis_server.url), 1, 60) == 1  # sent; no worker yet
        redis_server.stop()
        redis_server.start()
        assert queued(redis.Redis.from_url(redis_server.url)) == 1  # read back from the AOF
        deploy.ready(deploy.worker("gpu", ("align",), wait=False), deploy.worker("nas", ("merge",), wait=False))
        [job] = wait_final(store, [job_id], 90)
    finally:
        deploy.stop_all()
    assert job["state"] == "done", (job.get("error"), job["log"])
    assert synced_tracks(original) == ["ger"]
    took = [line.split(" ", 1)[1] for line in job["log"] if " took the " in line]
    assert [t.split(" after ")[0] for t in took] == ["worker gpu took the align stage", "worker nas took the merge stage"]
    assert set(job["queue_wait"]) == {"align", "merge"} and all(w >= 0 for w in job["queue_wait"].values())
    store.close()
