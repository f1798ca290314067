"""`syncdub serve` for real: the console script under waitress, /healthz, logs, SIGTERM."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from syncdub_companion import __version__
from syncdub_companion.errors import ConfigError
from syncdub_companion.runtime import serve_forever
from syncdub_companion.testing import make_services

SYNCDUB = Path(sys.executable).parent / "syncdub"
TOKEN = "serve-secret-token-31337"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int, path: str, conn: http.client.HTTPConnection | None = None) -> tuple[int, dict]:
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", path)
    response = conn.getresponse()
    return response.status, json.loads(response.read())


@pytest.fixture
def server(tmp_path):
    """A running `syncdub serve` with a temp data dir and no media server configured."""
    port = free_port()
    (tmp_path / "config.toml").write_text(
        f'[server]\nhost = "127.0.0.1"\nport = {port}\ndata_dir = "{tmp_path / "data"}"\n'
        f'[webhooks]\ntoken = "{TOKEN}"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCDUB")}
    proc = subprocess.Popen([str(SYNCDUB), "serve", "--config", "config.toml"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while True:
        try:
            get(port, "/healthz")
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"syncdub serve did not come up: {proc.communicate()[1]}")
            time.sleep(0.1)
    yield proc, port, tmp_path
    if proc.poll() is None:
        proc.kill()
        proc.communicate()


def test_serve_answers_healthz_logs_and_stops_on_sigterm(server):
    proc, port, folder = server
    keep_alive = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    status, body = get(port, "/healthz", keep_alive)  # an idle keep-alive client must not block shutdown
    assert status == 200
    assert body["version"] == __version__ and body["status"] == "ok"
    assert body["uptime_seconds"] >= 0 and body["queue_depth"] == 0
    assert all(t["found"] and t["version"] for t in body["tools"].values())
    assert set(body["tools"]) == {"ffmpeg", "ffprobe", "mkvmerge"}
    assert body["models"]["whisper"]["present"] is True and body["models"]["sentence"]["present"] is True

    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    assert time.monotonic() - started < 10
    assert f"serving on http://127.0.0.1:{port}" in stderr
    assert "SIGTERM received: stopping" in stderr and "stopped" in stderr
    assert "Traceback" not in stderr
    logged = (folder / "data" / "logs" / "syncdub.log").read_text()
    assert f"serving on http://127.0.0.1:{port}" in logged and "SIGTERM received" in logged
    assert TOKEN not in stderr and TOKEN not in logged


def test_port_in_use_is_a_config_error_naming_the_port(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        services = make_services(tmp_path, {"server": {"host": "127.0.0.1", "port": port}})
        try:
            with pytest.raises(ConfigError) as err:
                serve_forever(services)
        finally:
            services.store.close()
    assert err.value.problems == [f"server.port: cannot listen on 127.0.0.1:{port}: Address already in use"]
    assert err.value.exit_code == 2
