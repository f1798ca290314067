"""An unreachable Redis broker: `syncdub worker` says so in one line and exits; /healthz and
the set-up banner report the broker, reachable or not."""
from __future__ import annotations

import os
import subprocess
import sys

from queue_lib import REPO, free_port
from syncdub_companion import health
from syncdub_companion.testing import make_services
from syncdub_companion.web.app import create_app


def redis_services(tmp_path, url):
    tmp_path.mkdir()
    return make_services(tmp_path, {"queue": {"backend": "redis", "url": url}})


def test_a_worker_without_its_broker_says_so_in_one_line(tmp_path):
    url = f"redis://127.0.0.1:{free_port()}/0"  # nobody listens there
    config = tmp_path / "worker.toml"
    config.write_text(f'[server]\ndata_dir = "{tmp_path / "data"}"\n[queue]\nbackend = "redis"\nurl = "{url}"\n')
    done = subprocess.run([sys.executable, "-m", "syncdub_companion", "worker", "--config", str(config)],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode not in (0, None), done.stderr
    assert f"error: queue: the Redis broker at {url} is unreachable" in done.stderr
    assert "is redis-server running there" in done.stderr
    assert "Traceback" not in done.stderr and "Consumer encountered a connection error" not in done.stderr


def test_healthz_and_the_banner_report_the_broker(tmp_path, redis_server):
    down = redis_services(tmp_path / "down", f"redis://:pw123456@127.0.0.1:{free_port()}/0")
    body = create_app(down).test_client().get("/healthz").get_json()
    assert body["status"] == "degraded"
    assert body["queue"]["backend"] == "redis" and body["queue"]["reachable"] is False
    assert body["queue"]["broker"].startswith("redis://:***@127.0.0.1:") and "pw123456" not in str(body)
    [problem] = [p for p in health.problems(down) if p.section == "queue"]
    assert "does not answer" in problem.message and "queue.url" in problem.fix

    up = redis_services(tmp_path / "up", redis_server.url)
    body = create_app(up).test_client().get("/healthz").get_json()
    assert body["queue"] == {"backend": "redis", "broker": redis_server.url, "reachable": True, "error": None}
    assert body["status"] == "ok"
    assert not [p for p in health.problems(up) if p.section == "queue"]
    down.store.close()
    up.store.close()


def test_the_embedded_queue_has_no_broker(tmp_path):
    services = make_services(tmp_path)
    assert create_app(services).test_client().get("/healthz").get_json()["queue"] == {"backend": "embedded"}
    services.store.close()
