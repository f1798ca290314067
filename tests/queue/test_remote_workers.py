"""DONE WHEN (issue 17): the service (backend redis, jobs.workers = 0) and two `syncdub worker`
processes take three queued films; one worker is killed with SIGKILL in the middle of a job;
all three films end done, each with exactly one synced track, and no temp file is left.

Real redis-server, real processes, real ffmpeg/mkvmerge and the real aligner on 30 s films.
"""
from __future__ import annotations

import signal

from queue_lib import free_port
from queue_lib import Deployment, first_line, record, synced_tracks, temps_under, wait_final
from syncdub_companion import jobs


def test_two_workers_one_killed_mid_job_three_films_done_once(tmp_path, redis_server, movie_with_dub):
    deploy = Deployment(tmp_path, redis_server.url, movie_with_dub)
    films = [deploy.film(name) for name in ("A", "B", "C")]
    # what a worker killed mid-merge on another machine leaves beside a file: its pid means nothing here
    stale = films[2][0].parent / f".{films[2][0].name}.syncdub-999999-0badc0de.tmp"
    stale.write_bytes(b"half a film")
    store = deploy.store()
    ids = [jobs.create(store, original=str(orig), dubbed=str(dub), language="de") for orig, dub in films]
    try:
        service = deploy.serve(free_port(), wait=False)
        workers = deploy.ready(service, deploy.worker("one", wait=False), deploy.worker("two", wait=False))[1:]
        # Which worker fetches the first merge is a race between their consumers: the one
        # that starts it is killed in it, whichever that is.
        victim, hit = first_line(list(workers), r"job \d+: merge stage of", 120)
        survivor = next(w for w in workers if w is not victim)
        victim.popen.send_signal(signal.SIGKILL)
        victim.popen.wait(10)
        killed_job = int(hit.split("job ")[1].split(":")[0])
        found = wait_final(store, ids, 120)
    finally:
        deploy.stop_all()

    assert [j["state"] for j in found] == ["done"] * 3, [(j["state"], j.get("error")) for j in found]
    for (original, _), job in zip(films, found):
        assert synced_tracks(original) == ["ger"], job["log"]
        assert sum(" done: " in line for line in job["log"]) == 1, job["log"]  # finished exactly once
    taken_over = record(store, killed_job)
    assert taken_over["runner"] == survivor.name, taken_over["log"]
    assert any("took the merge stage over" in line for line in taken_over["log"]), taken_over["log"]
    assert not stale.exists()
    assert temps_under(deploy.lib) == []
    store.close()
