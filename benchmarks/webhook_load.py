"""Webhook load: 500 webhooks in 10 s against the real waitress server, mixed sources, many repeats.

Run::

    .venv/bin/python benchmarks/webhook_load.py            # 500 requests, 100 distinct items, 10 s
    .venv/bin/python benchmarks/webhook_load.py --count 1000 --duration 10
    .venv/bin/python benchmarks/webhook_load.py --jobs-before 5000   # a store with history

It starts the app under waitress on 127.0.0.1 (a random port) over a TinyDB file in a
temp folder, sends the requests on a fixed schedule from a thread pool, then checks that
every request was acknowledged (202) and that each distinct item was queued exactly once.
Prints p50/p95/max latency; exits 1 when a check fails.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from syncdub_companion.testing import make_services  # noqa: E402
from syncdub_companion.web.app import create_app  # noqa: E402

TOKEN = "load-test-secret"
SOURCES = ("plex", "jellyfin", "emby", "sonarr", "radarr")


def request_for(source: str, n: int) -> dict:
    """requests.post keyword arguments for item ``n`` of ``source``, in that source's real shape."""
    if source == "plex":
        payload = {"event": "library.new", "Metadata": {"type": "movie", "ratingKey": str(1000 + n),
                                                        "title": f"Movie {n}", "Guid": [{"id": f"imdb://tt{n:07d}"}]}}
        return {"params": {"token": TOKEN}, "files": {"payload": (None, json.dumps(payload)),
                                                      "thumb": ("t.jpg", b"\xff\xd8" + b"\0" * 4096, "image/jpeg")}}
    if source == "jellyfin":
        payload = {"NotificationType": "ItemAdded", "ItemType": "Movie", "ItemId": f"{n:032x}", "Name": f"Movie {n}"}
        return {"headers": {"X-SyncDub-Token": TOKEN, "Content-Type": "text/plain"}, "data": json.dumps(payload)}
    if source == "emby":
        payload = {"Event": "library.new", "Item": {"Id": str(n), "Type": "Movie", "Path": f"/emby/Movie {n}.mkv"}}
        return {"params": {"token": TOKEN}, "files": {"data": (None, json.dumps(payload))}}
    if source == "sonarr":
        payload = {"eventType": "Download", "series": {"path": "/tv/Show", "title": "Show"},
                   "episodeFile": {"relativePath": f"Season 1/Show.S01E{n:02d}.mkv"}}
    else:
        payload = {"eventType": "Download", "movie": {"folderPath": f"/movies/Movie {n}"},
                   "movieFile": {"relativePath": f"Movie {n}.mkv"}}
    return {"auth": (source, TOKEN), "json": payload}


def plan(count: int, distinct: int, seed: int) -> list[tuple[str, int]]:
    """``count`` (source, item) pairs over ``distinct`` items; every item appears at least once."""
    rng = random.Random(seed)
    items = [(SOURCES[i % len(SOURCES)], i) for i in range(distinct)]
    picks = items + [rng.choice(items) for _ in range(count - distinct)]
    rng.shuffle(picks)
    return picks


def prefill(services, jobs_before: int) -> None:
    """Old finished jobs, as a long-running service accumulates: every dedup check reads them."""
    from syncdub_companion import jobs
    from syncdub_companion.media import LibraryEvent

    docs = []
    for i in range(jobs_before):
        doc = jobs.new_job(event=LibraryEvent(source="radarr", path=f"/old/Old {i}.mkv"))
        doc.update(state="done", created_at=doc["created_at"] - 86400)
        docs.append(doc)
    with services.store.transaction() as db:
        db.table(jobs.TABLE).insert_multiple(docs)


def run(count: int, distinct: int, duration: float, workers: int, seed: int, jobs_before: int = 0) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        services = make_services(Path(tmp), {"webhooks": {"token": TOKEN}})
        prefill(services, jobs_before)
        from waitress.server import create_server

        server = create_server(create_app(services), host="127.0.0.1", port=0,
                               threads=services.config.get("server.threads"))
        threading.Thread(target=server.run, daemon=True).start()
        base = f"http://127.0.0.1:{server.effective_port}/webhooks"
        try:
            results, wall = _fire(base, plan(count, distinct, seed), duration, workers)
            return _report(services, results, wall, distinct, jobs_before, duration)
        finally:
            server.close()
            services.store.close()


def _fire(base: str, picks: list[tuple[str, int]], duration: float, workers: int):
    local = threading.local()
    start = time.perf_counter()
    interval = duration / len(picks)

    def send(index_pick):
        index, (source, n) = index_pick
        # Open-loop schedule: request i leaves at i * interval, whatever earlier ones did.
        delay = start + index * interval - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        t0 = time.perf_counter()
        response = session.post(f"{base}/{source}", timeout=10, **request_for(source, n))
        return source, n, response.status_code, response.json(), time.perf_counter() - t0

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(send, enumerate(picks)))
    return results, time.perf_counter() - start


def _report(services, results, wall: float, distinct: int, jobs_before: int, duration: float) -> int:
    latencies = sorted(r[4] * 1000 for r in results)
    p50 = statistics.median(latencies)
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    bad = [r for r in results if r[2] != 202]
    jobs = services.store.all("jobs")
    keys = [j["dedup_key"] for j in jobs]
    first_seen: dict[tuple[str, int], int] = {}
    inconsistent = 0
    for source, n, _, body, _ in results:
        if "job_id" in body:
            inconsistent += first_seen.setdefault((source, n), body["job_id"]) != body["job_id"]
    new = sum(1 for r in results if r[3].get("duplicate") is False)
    print(f"requests: {len(results)} in {wall:.2f} s (target {duration:.0f} s); distinct items: {distinct}; "
          f"jobs stored before: {jobs_before}")
    print(f"acknowledged 202: {len(results) - len(bad)}; new jobs: {len(jobs) - jobs_before}; "
          f"'duplicate': false answers: {new}")
    print(f"latency ms: p50 {p50:.1f}  p95 {p95:.1f}  max {latencies[-1]:.1f}")
    failures = []
    if bad:
        failures.append(f"{len(bad)} not acknowledged, e.g. {bad[0][:4]}")
    if len(jobs) - jobs_before != distinct or len(set(keys)) != len(keys):
        failures.append(f"expected {distinct} new jobs with distinct keys, got {len(jobs) - jobs_before} "
                        f"({len(set(keys))} keys in {len(keys)} jobs)")
    if new != distinct or inconsistent:
        failures.append(f"{new} creations and {inconsistent} answers naming another job for the same item")
    if wall > duration * 1.5:
        failures.append(f"took {wall:.1f} s, far beyond the {duration:.0f} s schedule")
    for failure in failures:
        print(f"FAIL: {failure}")
    print("ok" if not failures else "FAILED")
    return 1 if failures else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--distinct", type=int, default=100)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds over which the requests are spread")
    parser.add_argument("--workers", type=int, default=32, help="client threads")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs-before", type=int, default=0, help="finished jobs already in the store")
    args = parser.parse_args()
    if not 0 < args.distinct <= args.count:
        parser.error("--distinct must be between 1 and --count")
    sys.exit(run(args.count, args.distinct, args.duration, args.workers, args.seed, args.jobs_before))


if __name__ == "__main__":
    main()
