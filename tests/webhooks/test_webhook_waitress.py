"""Through the real WSGI server: multipart from requests, a chunked oversize body, the 202 latency."""
from __future__ import annotations

import threading
import time

import pytest
import requests
from hookutil import TOKEN, jobs_of

from syncdub_companion.testing import make_services
from syncdub_companion.web.app import create_app
from syncdub_companion.web.server import make_server


@pytest.fixture
def served(tmp_path):
    svc = make_services(tmp_path, {"webhooks": {"token": TOKEN, "max_body_bytes": 65536}})
    # the server the service runs (poll, not select: closing it mid-wait raised EBADF in the
    # server's thread under a loaded test run)
    server = make_server(create_app(svc), svc.config, host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield svc, f"http://127.0.0.1:{server.effective_port}"
    server.close()
    svc.store.close()


def test_plex_multipart_over_http_is_queued_quickly(served, fixtures_dir):
    svc, url = served
    payload = (fixtures_dir / "plex" / "library.new_episode_captured.json").read_text()
    files = {"payload": (None, payload), "thumb": ("thumb.jpg", b"\xff\xd8" + b"\0" * 30000, "image/jpeg")}
    start = time.perf_counter()
    response = requests.post(f"{url}/webhooks/plex?token={TOKEN}", files=files, timeout=10)
    elapsed = time.perf_counter() - start
    assert response.status_code == 202
    assert elapsed < 0.5  # the issue asks for 100 ms; leave room for a loaded 2-core test machine
    assert jobs_of(svc)[0]["event"]["item_id"] == "57612"


def test_chunked_oversize_body_is_413(served):
    svc, url = served

    def chunks():
        yield b'{"eventType": "Download", "pad": "'
        for _ in range(100):
            yield b"x" * 1024
        yield b'"}'

    response = requests.post(f"{url}/webhooks/radarr", data=chunks(), timeout=10,
                             headers={"Content-Type": "application/json", "X-SyncDub-Token": TOKEN})
    assert response.status_code == 413
    assert jobs_of(svc) == []
