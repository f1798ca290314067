"""A stage that raises something unexpected on a worker is retried by Dramatiq with backoff;
when the retries run out, the gave_up actor tells the service's side, as a RemoteCrash.
The service's side is played here by an Engine and its updates consumer in the test."""
from __future__ import annotations

import os
import subprocess
import sys
import time

from queue_lib import REPO, Proc
from syncdub_companion.queue.dispatch import Updates
from syncdub_companion.queue.engine import MIN_BACKOFF_MS, Engine
from syncdub_companion.queue.wire import RemoteCrash, error_from_wire
from syncdub_companion.testing import make_services


def test_a_crashing_stage_is_retried_with_backoff_then_reported(tmp_path, redis_server):
    queue_settings = {"backend": "redis", "url": redis_server.url, "max_retries": 1}
    config = tmp_path / "worker.toml"
    config.write_text(f'[server]\ndata_dir = "{tmp_path / "w"}"\n[queue]\nbackend = "redis"\n'
                      f'url = "{redis_server.url}"\nmax_retries = 1\n[worker]\nstages = ["merge"]\nname = "w"\n')
    worker = Proc("worker", subprocess.Popen(
        [sys.executable, "-m", "syncdub_companion", "worker", "--config", str(config)], cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
    services = make_services(tmp_path, {"queue": queue_settings})
    updates = Updates()
    engine = Engine(services.config, on_update=updates)
    consumer = engine.worker({engine.queue("updates")}, threads=1)
    consumer.start()
    try:
        worker.wait_for("takes the merge stage", 60)
        run_id, inbox = updates.open()
        # a stored map the worker cannot read: an error no stage expects
        engine.send_stage("merge", 7, run_id, {"original": "/x/Film.mkv", "dubbed": "/x/Film.de.mka",
                                               "timemap": {"not": "a map"}})
        heard, start = [], time.monotonic()
        while not heard or heard[-1][0] != "error":
            heard.append(inbox.get(timeout=60))
        took = time.monotonic() - start
    finally:
        consumer.stop(timeout=5000)
        engine.close()
        worker.stop()
        services.store.close()
    assert [kind for kind, _ in heard] == ["started", "started", "error"]  # the first try and one retry
    assert took >= MIN_BACKOFF_MS / 1000 * 0.9  # the retry waited out its backoff
    error = error_from_wire(heard[-1][1])
    assert isinstance(error, RemoteCrash) and "crashed 2 time(s)" in str(error)
