"""GET /healthz: version, uptime, tools with versions, queue depth, models."""
from __future__ import annotations

import re
import time

from syncdub_companion import __version__, jobs
from syncdub_companion.testing import make_services
from syncdub_companion.web.app import create_app

VERSION = re.compile(r"^\d+\.\d+(\.\d+)?$")


def test_healthz_reports_everything_without_login(services):
    services.started_at = time.time() - 100
    response = create_app(services).test_client().get("/healthz")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert body["version"] == __version__
    assert 100 <= body["uptime_seconds"] < 130
    assert body["status"] == "ok"
    assert set(body["tools"]) == {"ffmpeg", "ffprobe", "mkvmerge"}
    for name, tool in body["tools"].items():
        assert tool["found"] is True and VERSION.match(tool["version"]), (name, tool)
    assert body["queue_depth"] == 0
    assert body["models"]["whisper"] == {"setting": "base", "present": True}
    assert body["models"]["sentence"]["present"] is True


def test_queue_depth_counts_only_waiting_and_running_jobs(services):
    store = services.store
    ids = [jobs.create(store, original=f"/media/m{i}.mkv") for i in range(5)]
    jobs.set_state(store, ids[1], "aligning")
    jobs.set_state(store, ids[2], "done")
    jobs.set_state(store, ids[3], "failed")
    body = create_app(services).test_client().get("/healthz").get_json()
    assert body["queue_depth"] == 3  # ids[0] and ids[4] queued, ids[1] aligning
    assert services.queue_depth() == 3


def test_missing_tool_is_reported_not_fatal(tmp_path):
    services = make_services(tmp_path, {"tools": {"mkvmerge": str(tmp_path / "no-such-mkvmerge")}})
    try:
        body = create_app(services).test_client().get("/healthz").get_json()
    finally:
        services.store.close()
    assert body["status"] == "degraded"
    assert body["tools"]["mkvmerge"] == {"found": False, "version": None}
    assert body["tools"]["ffmpeg"]["found"] is True


def test_healthz_carries_no_secrets(tmp_path):
    services = make_services(tmp_path, {"webhooks": {"token": "health-secret-99"},
                                        "auth": {"secret_key": "health-key-1234"}})
    try:
        text = create_app(services).test_client().get("/healthz").get_data(as_text=True)
    finally:
        services.store.close()
    assert "health-secret-99" not in text and "health-key-1234" not in text
