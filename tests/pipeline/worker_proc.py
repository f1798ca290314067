"""A worker process for the restart tests: ``python worker_proc.py TMP SETTINGS_JSON``.

Runs a WorkerPool over TMP/data/syncdub.json with a slow fake merge
($SYNCDUB_TEST_MERGE_SECONDS, reporting progress every 0.1 s and logging each start to
$SYNCDUB_TEST_MERGE_LOG) until SIGTERM, then stops the pool like the service does.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

from syncdub_companion.pipeline.worker import WorkerPool
from syncdub_companion.testing import make_services


class Result:
    def __init__(self, path):
        self.status, self.output_path = "done", path

    def to_dict(self):
        return {"status": self.status, "output_path": self.output_path}


def slow_merge(services, original, dubbed, *, language, progress=None, **kw):
    with open(os.environ["SYNCDUB_TEST_MERGE_LOG"], "a") as fh:
        fh.write(f"{os.getpid()} {original}\n")
    seconds = float(os.environ["SYNCDUB_TEST_MERGE_SECONDS"])
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        progress(100 * (time.monotonic() - start) / seconds, "aligning")
        time.sleep(0.1)
    return Result(original)


def quick_align(services, original, dubbed, **kw):
    """The align stage's stand-in: a pure-offset map at once (the slow part is the merge)."""
    from syncdub_companion.align.timemap import Segment, TimeMap

    return TimeMap("aligned", 0.9, "", 1.0, [Segment(1.0, 61.0, 0.0, 60.0)]), None


def main() -> None:
    services = make_services(Path(sys.argv[1]), json.loads(sys.argv[2]))
    pool = WorkerPool(services, merge=slow_merge, align=quick_align, poll=0.05).start()
    stopped = threading.Event()

    def on_term(signum, frame):
        pool.stop()
        stopped.set()

    signal.signal(signal.SIGTERM, on_term)
    print("ready", flush=True)
    stopped.wait()
    pool.join()
    services.store.close()


if __name__ == "__main__":
    main()
