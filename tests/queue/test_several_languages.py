"""With the redis queue, several dubs of one film are merged like the embedded queue does:
one merge message, one write on the worker (one temp, one verify, one swap), and a dub the
aligner rejects does not stop the others."""
from __future__ import annotations

import subprocess

from queue_lib import Deployment, free_port, synced_tracks, temps_under, wait_final
from syncdub_companion import jobs


def test_two_dubs_go_to_the_worker_as_one_write_and_a_rejected_third_stays_out(tmp_path, redis_server, movie_with_dub):
    deploy = Deployment(tmp_path, redis_server.url, movie_with_dub)
    original, german = deploy.film("A")
    french = german.with_name("Film (2010).fr.mka")
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(german), "-c", "copy", "-metadata:s:a:0", "language=fre",
                    str(french)], check=True)
    italian = german.with_name("Film (2010).it.mka")  # a tone, not this film: the aligner rejects it
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=f=440:d=30", "-c:a", "ac3",
                    "-metadata:s:a:0", "language=ita", str(italian)], check=True)
    store = deploy.store()
    job_id = jobs.create(store, original=str(original))
    config = deploy.service_config(free_port())
    config.write_text(config.read_text().replace('"languages" = ["de"]', '"languages" = ["de", "fr", "it"]'))
    try:
        worker = deploy.worker("w1", wait=False)
        service = deploy.start("service", "serve", "--config", str(config))
        service.ready = "jobs go to the syncdub queues"
        deploy.ready(worker, service)
        [job] = wait_final(store, [job_id], 120)
        worker.wait_for(r"merged ger, fre into .*Film \(2010\)\.mkv in one write", 5)
    finally:
        deploy.stop_all()
    assert job["state"] == "done", (job.get("error"), job["log"])
    assert sorted(synced_tracks(original)) == ["fre", "ger"]
    merged = job["result"]["languages"]
    assert {lang: r["status"] for lang, r in merged.items()} == {"de": "done", "fr": "done"}, job["result"]
    assert {r["verification"]["languages_in_write"] for r in merged.values()} == {2}
    assert {r["output_path"] for r in merged.values()} == {str(original)}  # the service's path, not the mount
    assert set(job["result"]["not_added"]) == {"it"}, job["result"]
    assert sum("one write" in line for line in job["log"]) >= 1
    assert not [line for line in worker.lines if "job %s: merge stage of" % job_id in line][1:]  # one message
    assert not temps_under(tmp_path)
    store.close()
