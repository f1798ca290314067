"""The TinyDB store: CRUD, thread safety, and two processes sharing one file."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from syncdub_companion.errors import SyncDubError
from syncdub_companion.store import Query, Store

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(params=["file", "memory"])
def store(request, tmp_path):
    s = Store(tmp_path / "db" / "syncdub.json" if request.param == "file" else None)
    yield s
    s.close()


def test_crud_round_trip(store):
    first = store.insert("jobs", {"state": "queued", "n": 1})
    second = store.insert("jobs", {"state": "done", "n": 2})
    assert second == first + 1
    assert store.get("jobs", first) == {"state": "queued", "n": 1, "id": first}
    store.update("jobs", first, {"state": "aligning"})
    store.update("jobs", second, lambda doc: doc.update(n=doc["n"] * 10))
    assert store.get("jobs", second)["n"] == 20
    assert [d["id"] for d in store.search("jobs", Query().state == "aligning")] == [first]
    assert store.count("jobs") == 2 and store.count("jobs", Query().n > 5) == 1
    store.upsert("state", {"key": "k", "value": 1}, Query().key == "k")
    store.upsert("state", {"key": "k", "value": 2}, Query().key == "k")
    assert [d["value"] for d in store.all("state")] == [2]
    assert store.remove("jobs", Query().state == "done") == [second]
    assert store.get("jobs", second) is None


def test_file_store_persists_and_is_plain_json(tmp_path):
    path = tmp_path / "syncdub.json"
    Store(path).insert("jobs", {"original": "/m/Amélie.mkv"})
    assert json.loads(path.read_text(encoding="utf-8")) == {"jobs": {"1": {"original": "/m/Amélie.mkv"}}}
    assert Store(path).all("jobs") == [{"original": "/m/Amélie.mkv", "id": 1}]
    assert not list(tmp_path.glob("*.partial"))  # the atomic write left nothing behind


def test_threads_lose_no_updates(store):
    counter = store.insert("counters", {"n": 0})
    inserted: list[int] = []

    def work():
        for _ in range(20):
            with store.transaction() as db:
                table = db.table("counters")
                table.update({"n": table.get(doc_id=counter)["n"] + 1}, doc_ids=[counter])
            inserted.append(store.insert("jobs", {"by": threading.get_ident()}))

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.get("counters", counter)["n"] == 120
    assert len(set(inserted)) == 120 and store.count("jobs") == 120


def test_nested_transactions_share_the_outer_one(store):
    with store.transaction() as outer:
        doc_id = outer.table("jobs").insert({"a": 1})
        assert store.get("jobs", doc_id) == {"a": 1, "id": doc_id}  # a nested call sees it
        outer.table("jobs").insert({"a": 2})
    assert store.count("jobs") == 2


WORKER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from syncdub_companion.store import Store
    store = Store(sys.argv[1])
    for i in range(int(sys.argv[2])):
        with store.transaction() as db:
            table = db.table("counters")
            table.update({{"n": table.get(doc_id=1)["n"] + 1}}, doc_ids=[1])
        store.insert("jobs", {{"worker": sys.argv[3], "i": i}})
""")


def test_two_processes_lose_no_updates(tmp_path):
    path = tmp_path / "syncdub.json"
    store = Store(path)
    store.insert("counters", {"n": 0})
    store.insert("jobs", {"worker": "parent"})  # so both children start from a cached next id of 2
    script = WORKER.format(root=str(ROOT))
    procs = [subprocess.Popen([sys.executable, "-c", script, str(path), "60", name]) for name in "ab"]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    assert store.get("counters", 1)["n"] == 120
    jobs = store.all("jobs")
    assert len(jobs) == 121 and len({j["id"] for j in jobs}) == 121
    assert sorted(j["i"] for j in jobs if j["worker"] == "a") == list(range(60))


def test_another_process_write_is_seen_at_once(tmp_path):
    """TinyDB caches query results per table; the store must not serve them stale."""
    path = tmp_path / "syncdub.json"
    store = Store(path)
    doc_id = store.insert("jobs", {"state": "queued"})
    assert store.count("jobs", Query().state == "queued") == 1
    assert store.search("jobs", Query().state == "queued")[0]["id"] == doc_id
    Store(path).update("jobs", doc_id, {"state": "done"})  # as the CLI would, separately
    assert store.search("jobs", Query().state == "queued") == []
    assert store.count("jobs", Query().state == "queued") == 0
    other = Store(path)
    other.insert("jobs", {"state": "queued"})
    assert store.insert("jobs", {"state": "queued"}) == doc_id + 2  # no id collision


def test_damaged_file_is_a_clear_error(tmp_path):
    path = tmp_path / "syncdub.json"
    path.write_text('{"jobs": {"1": {"state": "que')
    with pytest.raises(SyncDubError, match="damaged.*move it aside"):
        Store(path).all("jobs")


def test_empty_file_reads_as_empty(tmp_path):
    path = tmp_path / "syncdub.json"
    path.write_text("")
    assert Store(path).all("jobs") == []


def test_a_separate_table_has_its_own_file_and_is_not_rewritten_with_the_jobs(tmp_path):
    path = tmp_path / "syncdub.json"
    store = Store(path)
    store.insert("finished", {"original": "/m/a.mkv", "state": "done"})
    side = tmp_path / "syncdub.finished.json"
    assert json.loads(side.read_text()) == {"finished": {"1": {"original": "/m/a.mkv", "state": "done"}}}
    side_inode = side.stat().st_ino
    for n in range(3):  # job writes rewrite the main file only
        store.insert("jobs", {"n": n})
        store.update("jobs", 1, {"state": "done"})
    assert side.stat().st_ino == side_inode and "finished" not in json.loads(path.read_text())
    main_inode = path.stat().st_ino
    store.insert("finished", {"original": "/m/b.mkv"})  # and the other way round
    assert path.stat().st_ino == main_inode and side.stat().st_ino != side_inode
    fresh = Store(path)  # another process sees both files as one database
    assert [d["original"] for d in fresh.all("finished")] == ["/m/a.mkv", "/m/b.mkv"]
    assert fresh.count("jobs") == 3


def test_dropping_every_table_empties_the_separate_file_too(tmp_path):
    path = tmp_path / "syncdub.json"
    store = Store(path)
    store.insert("finished", {"x": 1})
    store.insert("jobs", {"y": 1})
    with store.transaction() as db:
        db.drop_tables()
    assert Store(path).all("finished") == [] and Store(path).all("jobs") == []


def test_a_separate_table_left_in_the_main_file_moves_on_the_next_write(tmp_path):
    path = tmp_path / "syncdub.json"
    path.write_text(json.dumps({"jobs": {"1": {"n": 1}}, "finished": {"1": {"original": "/m/a.mkv"}}}))
    store = Store(path)
    store.insert("jobs", {"n": 2})
    assert Store(path).all("finished") == [{"original": "/m/a.mkv", "id": 1}]
    assert "finished" not in json.loads(path.read_text())
