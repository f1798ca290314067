"""Job records: retention (pruning finished jobs), what pruned jobs leave behind, paging."""
from __future__ import annotations

import time

import pytest

from syncdub_companion import jobs
from syncdub_companion.media import LibraryEvent
from syncdub_companion.store import Store

DAY = 86400.0


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "data" / "syncdub.json")
    yield s
    s.close()


def add_finished(store, n: int, state: str = "done", finished_ago: float = DAY / 2, created_ago: float = DAY,
                 prefix: str = "/m/Film") -> list[int]:
    """``n`` finished jobs, the later ones finished more recently (one second apart)."""
    now = time.time()
    ids = jobs.create_many(store, [{"original": f"{prefix} {i}.mkv", "language": "de"} for i in range(n)])
    with store.transaction() as db:
        for i, job_id in enumerate(ids):
            db.table(jobs.TABLE).update({"state": state, "created_at": now - created_ago,
                                         "finished_at": now - finished_ago + i}, doc_ids=[job_id])
    return ids


def test_the_count_rule_keeps_the_newest_finished_jobs(store):
    ids = add_finished(store, 30)
    active = jobs.create(store, original="/m/Running.mkv")
    jobs.set_state(store, active, "aligning")
    assert jobs.prune(store, keep_days=0, keep_finished=10) == 20
    assert sorted(j.id for j in jobs.list_jobs(store)) == sorted(ids[20:] + [active])


def test_the_age_rule_removes_jobs_finished_before_keep_days(store):
    old = add_finished(store, 3, finished_ago=3 * DAY, created_ago=4 * DAY, prefix="/m/Old")
    recent = add_finished(store, 3, finished_ago=DAY / 2, prefix="/m/New")
    queued = jobs.create(store, original="/m/Queued.mkv")  # old, but not finished: never pruned
    jobs.update(store, queued, created_at=time.time() - 10 * DAY)
    assert jobs.prune(store, keep_days=2, keep_finished=0) == 3
    assert {j.id for j in jobs.list_jobs(store)} == set(recent) | {queued}
    assert not set(old) & {j.id for j in jobs.list_jobs(store)}


def test_jobs_inside_the_dedup_window_survive_so_repeats_still_deduplicate(store):
    event = LibraryEvent(source="radarr", path="/m/Film.mkv")
    first, created = jobs.enqueue_event(store, event, dedup_window=600)
    jobs.set_state(store, first, "skipped", finished_at=time.time() - DAY)  # ranks last of 21 finished
    add_finished(store, 20)
    assert jobs.prune(store, keep_days=0, keep_finished=5, protect_seconds=600) == 15
    assert jobs.get(store, first).state == "skipped"
    assert jobs.enqueue_event(store, event, dedup_window=600) == (first, False)


def test_the_count_rule_waits_for_its_slack(store):
    add_finished(store, 15)
    assert jobs.prune(store, keep_days=0, keep_finished=10, slack=5) == 0
    add_finished(store, 1, prefix="/m/One more")
    assert jobs.prune(store, keep_days=0, keep_finished=10, slack=5) == 6
    assert store.count(jobs.TABLE) == 10


def test_pruned_jobs_stay_known_to_the_backfill(store):
    add_finished(store, 4, state="done", prefix="/m/Done")
    add_finished(store, 2, state="rejected", prefix="/m/Rejected")
    jobs.prune(store, keep_days=0, keep_finished=1)
    assert store.count(jobs.TABLE) == 1
    done = jobs.known_pairs(store, {"done", "skipped"})
    assert {("/m/Done 0.mkv", "de"), ("/m/Done 3.mkv", "de")} <= done
    assert ("/m/Rejected 0.mkv", "de") not in done
    assert ("/m/Rejected 0.mkv", "de") in jobs.known_pairs(store, {"rejected"})


def test_a_file_pruned_twice_keeps_one_row_with_its_newest_outcome(store):
    add_finished(store, 1, state="failed", finished_ago=2 * DAY, prefix="/m/Same")
    assert jobs.prune(store, keep_days=1, keep_finished=0) == 1
    add_finished(store, 1, state="done", finished_ago=DAY / 2, prefix="/m/Same")
    jobs.prune(store, keep_days=0.25, keep_finished=0)
    rows = store.all(jobs.FINISHED_TABLE)
    assert [(r["original"], r["state"]) for r in rows] == [("/m/Same 0.mkv", "done")]
    assert store.count(jobs.TABLE) == 0


def test_a_page_of_jobs_newest_first_with_counts_of_all(store):
    ids = add_finished(store, 7)
    queued = jobs.create(store, original="/m/Queued.mkv")
    with store.transaction() as db:  # created one second apart, oldest first
        for n, job_id in enumerate(ids):
            db.table(jobs.TABLE).update({"created_at": 1000.0 + n}, doc_ids=[job_id])
    shown, counts, total = jobs.page(store, offset=0, limit=3)
    assert [j.id for j in shown] == [queued, ids[6], ids[5]] and total == 8
    assert counts["done"] == 7 and counts["queued"] == 1
    shown, _, total = jobs.page(store, {"done"}, offset=6, limit=3)
    assert [j.id for j in shown] == [ids[0]] and total == 7


def test_a_finished_jobs_bulk_is_stowed_out_of_the_job_file_and_comes_back_whole(store, tmp_path):
    job_id = jobs.create(store, original="/m/Film.mkv", language="de")
    result = {"message": "added de", "languages": {"de": {"timemap": {"anchors": [[1.5, 3.0]] * 50}}}}
    jobs.append_log(store, job_id, "merging de")
    jobs.set_state(store, job_id, "done", result=result, candidates=[{"path": "/d/Film.de.mkv"}])
    whole = jobs.get(store, job_id)
    assert jobs.stow(store, [job_id]) == 1
    raw = store.get(jobs.TABLE, job_id)
    assert "result" not in raw and "log" not in raw and raw["stowed"] is True
    job_file = (tmp_path / "data" / "syncdub.json").read_text()
    assert "anchors" not in job_file and "anchors" in (tmp_path / "data" / "syncdub.details.json").read_text()
    assert {**jobs.get(store, job_id).to_dict(), "stowed": False} == {**whole.to_dict(), "stowed": False}
    assert jobs.list_jobs(store)[0].result == result
    jobs.retry(store, job_id)  # back to work: the bulk returns to the record
    raw = store.get(jobs.TABLE, job_id)
    assert raw["result"] == result and raw["log"][-1].endswith("merging de") and store.count(jobs.DETAILS_TABLE) == 0


def test_pruning_a_stowed_job_removes_its_details_too(store):
    ids = add_finished(store, 3)
    assert jobs.stow(store) == 3  # every finished job not stowed yet
    assert store.count(jobs.DETAILS_TABLE) == 3
    jobs.prune(store, keep_days=0, keep_finished=1)
    assert [d["id"] for d in store.all(jobs.DETAILS_TABLE)] == [ids[-1]]


def test_syncdub_jobs_prune_applies_the_retention_settings_now(tmp_path):
    from click.testing import CliRunner

    from syncdub_companion.cli import _register_commands, cli

    config = tmp_path / "config.toml"
    config.write_text(f'[server]\ndata_dir = "{tmp_path / "data"}"\n[jobs]\nkeep_finished = 2\n')
    store = Store(tmp_path / "data" / "syncdub.json")
    add_finished(store, 5)
    _register_commands()
    result = CliRunner().invoke(cli, ["--config", str(config), "jobs", "prune"], env={})
    assert result.exit_code == 0, result.output
    assert "pruned 3 finished job(s); 2 job(s) stored" in result.output
    assert store.count(jobs.TABLE) == 2
