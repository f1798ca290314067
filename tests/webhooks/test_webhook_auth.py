"""The shared secret: where it may travel, per-source overrides, and that a refusal queues nothing."""
from __future__ import annotations

import base64
import logging

import pytest
from hookutil import TOKEN, jobs_of

from syncdub_companion.testing import make_services
from syncdub_companion.web.app import create_app

BODY = b'{"eventType": "Download", "movie": {"folderPath": "/m/A (2000)"}, "movieFile": {"relativePath": "A.mkv"}}'


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize("how", ["query", "header", "basic"])
def test_each_carrier_of_the_secret_is_accepted(client, hook_services, how):
    url, headers = "/webhooks/radarr", {"Content-Type": "application/json"}
    if how == "query":
        url += f"?token={TOKEN}"
    elif how == "header":
        headers["X-SyncDub-Token"] = TOKEN
    else:
        headers["Authorization"] = _basic("radarr", TOKEN)
    assert client.post(url, data=BODY, headers=headers).status_code == 202
    assert len(jobs_of(hook_services)) == 1


@pytest.mark.parametrize("url,headers", [
    ("/webhooks/radarr", {}),
    ("/webhooks/radarr?token=", {}),
    ("/webhooks/radarr?token=hook-secret-12", {}),
    ("/webhooks/radarr?token=hook-secret-1234", {}),
    ("/webhooks/radarr", {"X-SyncDub-Token": "wrong"}),
    ("/webhooks/radarr", {"Authorization": _basic(TOKEN, "wrong")}),  # the user name is not the secret
    ("/webhooks/radarr", {"Authorization": "Basic !!!not-base64"}),
    ("/webhooks/radarr", {"Authorization": f"Bearer {TOKEN}"}),
])
def test_missing_or_wrong_secret_is_401_and_queues_nothing(client, hook_services, url, headers):
    response = client.post(url, data=BODY, headers={"Content-Type": "application/json", **headers})
    assert response.status_code == 401
    assert "token" in response.json["error"]
    assert jobs_of(hook_services) == []


def test_per_source_token_overrides_the_shared_one(tmp_path):
    svc = make_services(tmp_path, {"webhooks": {"token": TOKEN, "radarr": {"token": "radarr-only"}}})
    client = create_app(svc).test_client()
    post = lambda source, token: client.post(f"/webhooks/{source}?token={token}", data=BODY,  # noqa: E731
                                             content_type="application/json").status_code
    assert post("radarr", TOKEN) == 401
    assert post("radarr", "radarr-only") == 202
    assert post("sonarr", "radarr-only") == 401
    svc.store.close()


def test_without_any_configured_token_every_webhook_is_refused(tmp_path):
    svc = make_services(tmp_path)
    response = create_app(svc).test_client().post("/webhooks/radarr?token=", data=BODY, content_type="application/json")
    assert response.status_code == 401 and "webhooks.token" in response.json["error"]
    assert svc.store.count("jobs") == 0
    svc.store.close()


def test_unauthenticated_request_is_refused_before_the_body_is_judged(client):
    # A stranger learns nothing about size limits or payload parsing.
    assert client.post("/webhooks/radarr", data=b"x" * 5_000_000, content_type="application/json").status_code == 401
    assert client.post("/webhooks/radarr", data=b"not json", content_type="application/json").status_code == 401


def test_the_secret_never_reaches_the_log(client, caplog):
    caplog.set_level(logging.DEBUG)
    client.post(f"/webhooks/radarr?token={TOKEN}", data=BODY, content_type="application/json")
    client.post(f"/webhooks/radarr?token={TOKEN}", data=b"[", content_type="application/json")
    client.post("/webhooks/radarr?token=guess-" + TOKEN[:4], data=BODY, content_type="application/json")
    assert caplog.records, "the receiver should log what it did"
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


def test_get_is_not_allowed_and_unknown_sources_are_404(client):
    assert client.get(f"/webhooks/plex?token={TOKEN}").status_code == 405
    response = client.post(f"/webhooks/kodi?token={TOKEN}", data=b"{}", content_type="application/json")
    assert response.status_code == 404 and "plex" in response.json["error"]
