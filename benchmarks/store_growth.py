"""Store growth: webhook intake and /jobs latency with 20,000 jobs behind the store, against an empty one.

Run::

    .venv/bin/python benchmarks/store_growth.py                    # 20,000 jobs, 300 requests of each kind
    .venv/bin/python benchmarks/store_growth.py --jobs 5000 --requests 100

Three stores, each served by the real app under waitress on 127.0.0.1 (a TinyDB file in a
temp folder, logged in through ``auth.proxy_header``):

- **empty**: no jobs;
- **pruned**: 20,000 finished jobs went through it with the default retention
  (``jobs.keep_finished``, ``jobs.keep_days``), pruned in batches as the workers do when jobs end;
- **unpruned**: the same 20,000 jobs with retention off (``keep_finished = 0``,
  ``keep_days = 0``): how every store grew before pruning existed (though with the
  finished jobs' bulk already stowed in its own file).

The jobs are finished records shaped like real ones (a log, candidates, a result with a
time map), over 5,000 distinct files, created over the last 20 days. Then, one request at
a time: ``--requests`` Radarr webhooks for new files (each queues a job), and
``--requests`` loads of ``/jobs``. Prints p50/p95 per store and their ratio to the empty
store's; exits 1 when a request fails.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from syncdub_companion import jobs  # noqa: E402
from syncdub_companion.media import LibraryEvent  # noqa: E402
from syncdub_companion.testing import make_services  # noqa: E402
from syncdub_companion.web.app import create_app  # noqa: E402

TOKEN = "growth-secret"
BATCH = 250  # jobs finished between two prunes (the workers prune as each job ends, in batches)
DISTINCT = 5000


def finished_record(n: int, count: int, now: float, span: float) -> dict:
    """Job ``n`` of ``count``: done as the runner leaves it, for file ``n % DISTINCT``, created in the last ``span`` s."""
    path = f"/media/movies/Film {n % DISTINCT} (2010)/Film {n % DISTINCT} (2010).mkv"
    doc = jobs.new_job(event=LibraryEvent(source="radarr", path=path))
    created = now - span + span * n / max(1, count)
    timemap = {"verdict": "aligned", "confidence": 0.91, "reason": "", "speed": 1.0,
               "segments": [{"dub_start": 1.5 + 600 * k, "dub_end": 600.0 * (k + 1), "orig_start": 600.0 * k,
                             "orig_end": 600.0 * (k + 1) - 1.5} for k in range(4)],
               "anchors": [{"dub": 12.0 * k + 1.5, "orig": 12.0 * k, "weight": 0.8, "kind": "audio"} for k in range(40)]}
    entry = {"status": "done", "output_path": path, "message": f'added "Deutsch (SyncDub)" to Film {n}.mkv',
             "timemap": timemap, "verification": {"streams": 4, "duration": 5400.0, "new_stream": 3}}
    doc.update(state="done", language="de", created_at=created, updated_at=created + 300,
               started_at=created + 5, finished_at=created + 300, progress=100.0, attempts=1,
               item={"path": path, "kind": "movie", "title": f"Film {n}", "year": 2010},
               candidates=[{"path": f"/media/dubs/de/Film.{n}.2010.German.DL.1080p.mkv", "language": "de",
                            "score": 0.93, "finder": "folder", "reason": "same title and year"}],
               result={"message": "added de", "languages": {"de": entry}, "outputs": [path], "review": {}},
               log=[f"12:00:{k:02d} line {k} of the job's log for {path}" for k in range(12)])
    return doc


def fill(services, count: int) -> None:
    """``count`` finished jobs, stowed and pruned every BATCH jobs as the runner does when jobs end."""
    now = time.time()
    for start in range(0, count, BATCH):
        batch = [finished_record(n, count, now, 20 * 86400) for n in range(start, min(count, start + BATCH))]
        with services.store.transaction() as db:
            db.table(jobs.TABLE).insert_multiple(batch)
        jobs.stow(services.store)  # as the runner does when each job ends
        jobs.prune_by_settings(services.store, services.config, batch=True)


def measure(services, requests_each: int) -> dict:
    """Latencies (ms) of intake and of /jobs against a live server over ``services``."""
    from waitress.server import create_server

    server = create_server(create_app(services), host="127.0.0.1", port=0, threads=services.config.get("server.threads"))
    threading.Thread(target=server.run, daemon=True).start()
    base = f"http://127.0.0.1:{server.effective_port}"
    session = requests.Session()
    out = {"webhook": [], "jobs": [], "failures": 0}
    try:
        for n in range(requests_each):
            payload = {"eventType": "Download", "movie": {"folderPath": f"/media/new/New {n}"},
                       "movieFile": {"relativePath": f"New {n}.mkv"}}
            t0 = time.perf_counter()
            answer = session.post(f"{base}/webhooks/radarr", auth=("radarr", TOKEN), json=payload, timeout=30)
            out["webhook"].append((time.perf_counter() - t0) * 1000)
            out["failures"] += answer.status_code != 202
        for _ in range(requests_each):
            t0 = time.perf_counter()
            answer = session.get(f"{base}/jobs", headers={"Remote-User": "bench"}, timeout=30)
            out["jobs"].append((time.perf_counter() - t0) * 1000)
            out["failures"] += answer.status_code != 200 or "data-job-id" not in answer.text
    finally:
        session.close()  # no keep-alive connection left for the closing server to wake
        time.sleep(0.2)
        server.close()
    data = services.config.data_dir
    out["stored"] = services.store.count(jobs.TABLE)
    out["mb"] = sum(p.stat().st_size for p in data.glob("syncdub*.json")) / 1e6
    out["main_mb"] = (data / "syncdub.json").stat().st_size / 1e6
    return out


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile (0.5: the median), nearest rank below."""
    return statistics.median(values) if q == 0.5 else sorted(values)[int(q * (len(values) - 1))]


def run_store(name: str, count: int, retention: dict, requests_each: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        services = make_services(Path(tmp), {"webhooks": {"token": TOKEN}, "auth": {"proxy_header": "Remote-User"},
                                             "jobs": retention})
        started = time.perf_counter()
        fill(services, count)
        filled = time.perf_counter() - started
        result = measure(services, requests_each)
        services.store.close()
    result.update(name=name, filled_s=filled)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20000, help="finished jobs pushed through the store")
    parser.add_argument("--requests", type=int, default=300, help="requests of each kind, one at a time")
    args = parser.parse_args()
    rows = [run_store("empty", 0, {}, args.requests),
            run_store(f"{args.jobs:,} jobs, default retention", args.jobs, {}, args.requests),
            run_store(f"{args.jobs:,} jobs, retention off", args.jobs, {"keep_finished": 0, "keep_days": 0},
                      args.requests)]
    empty = rows[0]
    print(f"{args.requests} webhooks (new items), then {args.requests} loads of /jobs, one at a time; "
          f"ratios against the empty store")
    print(f"{'store':<34} {'jobs kept':>9} {'files MB':>9}   {'webhook p50':>11} {'p95':>7} {'x p50':>6} {'x p95':>6}"
          f"   {'/jobs p50':>9} {'p95':>7} {'x p50':>6} {'x p95':>6}")
    failures = 0
    for row in rows:
        cells = []
        for kind in ("webhook", "jobs"):
            p50, p95 = pct(row[kind], 0.5), pct(row[kind], 0.95)
            e50, e95 = pct(empty[kind], 0.5), pct(empty[kind], 0.95)
            cells.append(f"{p50:>9.1f}ms {p95:>5.1f}ms {p50 / e50:>5.2f}x {p95 / e95:>5.2f}x")
        kept = row["stored"] - args.requests  # the intake's own new jobs are not part of the fill
        print(f"{row['name']:<34} {kept:>9,} {row['mb']:>6.1f} ({row['main_mb']:.1f})   "
              f"{cells[0]}   {cells[1]}")
        failures += row["failures"]
    print("files MB: every store file (the job file alone in brackets); 'jobs kept': finished jobs left after the fill")
    if failures:
        print(f"FAIL: {failures} request(s) failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
