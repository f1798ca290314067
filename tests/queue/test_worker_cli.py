"""`syncdub worker` refuses to start without the redis queue, naming the settings, and a broker
URL that is not Redis is a config error; a worker stopped with SIGTERM exits cleanly."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

from queue_lib import REPO, Proc


def worker(tmp_path, *settings: str) -> subprocess.CompletedProcess:
    config = tmp_path / "worker.toml"
    config.write_text(f'[server]\ndata_dir = "{tmp_path / "data"}"\n')
    argv = [sys.executable, "-m", "syncdub_companion", "worker", "--config", str(config)]
    for setting in settings:
        argv += ["--set", setting]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


def test_worker_needs_the_redis_queue_and_a_redis_url(tmp_path):
    embedded = worker(tmp_path)
    assert embedded.returncode == 2 and 'needs [queue] backend = "redis"' in embedded.stderr
    http = worker(tmp_path, "queue.backend=redis", "queue.url=http://nas.lan:6379")
    assert http.returncode == 2 and "queue.url: must be a redis://" in http.stderr


def test_worker_stops_on_sigterm(tmp_path, redis_server):
    config = tmp_path / "worker.toml"
    config.write_text(f'[server]\ndata_dir = "{tmp_path / "data"}"\n[queue]\nbackend = "redis"\n'
                      f'url = "{redis_server.url}"\n[worker]\nstages = ["align"]\nname = "gpu"\n')
    proc = Proc("worker", subprocess.Popen(
        [sys.executable, "-m", "syncdub_companion", "worker", "--config", str(config)], cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
    proc.wait_for(r"worker gpu takes the align stage\(s\) from ", 60)  # the URL is a secret: masked
    proc.popen.send_signal(signal.SIGTERM)
    assert proc.popen.wait(30) == 0
    proc.wait_for("SIGTERM received: stopping", 5)
