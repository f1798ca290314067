"""The service's end of the updates queue: reports reach the thread waiting for their run; a
swap reported for a run nobody waits for (the service restarted meanwhile) is still written
on the job, so that its next run counts the track it finds as this job's."""
from __future__ import annotations

from syncdub_companion import jobs
from syncdub_companion.queue.dispatch import Updates
from syncdub_companion.store import Store


def test_reports_go_to_their_run_and_an_orphan_swap_marks_the_job(tmp_path):
    store = Store(tmp_path / "syncdub.json")
    job_id = jobs.create(store, original=str(tmp_path / "Film.mkv"))
    updates = Updates(store)
    run_id, inbox = updates.open()
    updates(run_id, "progress", {"percent": 40.0, "stage": "muxing"})
    assert inbox.get_nowait() == ("progress", {"percent": 40.0, "stage": "muxing"})
    updates.close(run_id)
    updates(run_id, "progress", {"percent": 50.0, "stage": "muxing"})  # closed: dropped
    assert inbox.empty()
    updates("from-before-a-restart", "swap", {"job": job_id, "languages": ["de"]})
    updates("from-before-a-restart", "swap", {"job": job_id, "languages": ["fr"]})
    assert store.get(jobs.TABLE, job_id)["merges_started"] == ["de", "fr"]
    updates("from-before-a-restart", "swap", {"job": 999, "languages": ["de"]})  # a pruned job: no harm
    store.close()
