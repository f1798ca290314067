"""Redis queue throughput: N films through the service and one `syncdub worker`, then two.

Run::

    .venv/bin/python benchmarks/queue_throughput.py                  # 4 films of 30 s, 1 then 2 workers
    .venv/bin/python benchmarks/queue_throughput.py --films 6 --rounds 2

Each round starts a fresh redis-server (AOF) on loopback, the service (`syncdub serve`,
``[queue] backend = "redis"``, ``jobs.workers = 0``) and K `syncdub worker` processes over
a fresh copy of the same N synthetic films (real ffmpeg media, the real aligner with
speech off, the real merge). The workers start first; the clock starts when the service
says it sends jobs (its job threads claim the already queued jobs at once) and stops when
every job is final. Rounds alternate 1 and 2 workers so both see the same load.

Printed per run: wall time, films per minute, and the queue latency: how long each stage
message (align, merge) waited in the broker before a worker's actor started it (the job's
``queue_wait``, measured by the worker from the message's timestamp). The minimum is the
latency of an idle worker; the median and maximum include waiting behind other films.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "queue"))

from queue_lib import Deployment, RedisServer, free_port, wait_final  # noqa: E402

from syncdub_companion import jobs  # noqa: E402
from syncdub_companion.testing import make_movie_with_dub  # noqa: E402


def make_films(folder: Path, count: int, seconds: float) -> list[str]:
    """``count`` film folders (original + German dub) under ``folder``; their names."""
    names = [f"F{i:02d}" for i in range(count)]
    for name in names:
        make_movie_with_dub(folder / name, folder.parent / f"gen-{name}", seconds, 1.5)
    return names


def run(template: Path, names: list[str], workers: int, work: Path) -> dict:
    redis_server = RedisServer(work / "redis").start()
    deploy = Deployment(work, redis_server.url)
    shutil.copytree(template, deploy.lib, dirs_exist_ok=True)
    store = deploy.store()
    ids = [jobs.create(store, original=str(deploy.lib / n / "Film (2010).mkv"),
                       dubbed=str(deploy.lib / n / "Film (2010).de.mka"), language="de") for n in names]
    try:
        for k in range(workers):
            deploy.worker(f"w{k}")
        start = time.monotonic()
        deploy.serve(free_port())
        found = wait_final(store, ids, 900)
        wall = time.monotonic() - start
    finally:
        deploy.stop_all()
        redis_server.stop()
        store.close()
    waits = [w for job in found for w in (job.get("queue_wait") or {}).values() if w is not None]
    return {"workers": workers, "wall": wall, "done": sum(j["state"] == "done" for j in found),
            "films": len(found), "waits": waits}


def report(result: dict) -> str:
    waits = sorted(result["waits"])
    latency = (f"{waits[0]:.3f} / {statistics.median(waits):.3f} / {waits[-1]:.3f} s ({len(waits)} messages)"
               if waits else "none recorded")
    return (f"{result['workers']} worker(s): {result['done']}/{result['films']} done in {result['wall']:.1f} s, "
            f"{60 * result['films'] / result['wall']:.2f} films/min; queue latency min / median / max {latency}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--films", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each synthetic film")
    parser.add_argument("--rounds", type=int, default=1, help="rounds of (1 worker, 2 workers)")
    args = parser.parse_args()
    print(f"{platform.node()}: {len(os.sched_getaffinity(0))} CPU(s); no GPU in this run (align.device auto fell back to the CPU)")
    with tempfile.TemporaryDirectory(prefix="syncdub-queue-bench-") as tmp:
        tmp = Path(tmp)
        names = make_films(tmp / "template", args.films, args.seconds)
        results = []
        for round_ in range(args.rounds):
            for workers in (1, 2):
                result = run(tmp / "template", names, workers, tmp / f"run-{round_}-{workers}")
                print(report(result), flush=True)
                results.append(result)
    ok = all(r["done"] == r["films"] for r in results)
    if len(results) >= 2:
        one = statistics.median(r["wall"] for r in results if r["workers"] == 1)
        two = statistics.median(r["wall"] for r in results if r["workers"] == 2)
        print(f"speed-up of 2 workers over 1: {one / two:.2f}x")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
