"""Body limits, malformed bodies (never a 500) and the dedup window."""
from __future__ import annotations

import copy
import json
import random

import pytest
from hookutil import TOKEN, jobs_of

from syncdub_companion.testing import make_services
from syncdub_companion.web.app import create_app

RADARR = {"eventType": "Download", "movie": {"folderPath": "/m/A (2000)"}, "movieFile": {"relativePath": "A.mkv"}}


def test_body_over_the_limit_is_413(tmp_path):
    svc = make_services(tmp_path, {"webhooks": {"token": TOKEN, "max_body_bytes": 4096}})
    client = create_app(svc).test_client()
    padded = dict(RADARR, padding="x" * 5000)
    response = client.post(f"/webhooks/radarr?token={TOKEN}", data=json.dumps(padded), content_type="application/json")
    assert response.status_code == 413 and "max_body_bytes" in response.json["error"]
    small = client.post(f"/webhooks/radarr?token={TOKEN}", json=RADARR)
    assert small.status_code == 202
    assert svc.store.count("jobs") == 1
    svc.store.close()


@pytest.mark.parametrize("body,needle", [
    (b"", "empty"),
    (b"   ", "empty"),
    (b"{", "not JSON"),
    (b"[1, 2]", "not an object"),
    (b"\xff\xfe\x00garbage", "UTF-8"),
    (b'"just a string"', "not an object"),
])
def test_malformed_bodies_get_400_with_one_line(client, hook_services, body, needle):
    response = client.post(f"/webhooks/radarr?token={TOKEN}", data=body, content_type="application/json")
    assert response.status_code == 400
    assert needle in response.json["error"] and "\n" not in response.json["error"]
    assert jobs_of(hook_services) == []


def _mutations(payload, rng: random.Random, count: int):
    """Copies of ``payload`` with one nested value swapped for a value of the wrong type."""
    paths = []

    def walk(node, trail):
        if isinstance(node, dict):
            for key, value in node.items():
                paths.append(trail + [key])
                walk(value, trail + [key])
        elif isinstance(node, list):
            for i, value in enumerate(node):
                paths.append(trail + [i])
                walk(value, trail + [i])

    walk(payload, [])
    junk = [None, 0, -1, 3.5, True, "", "x", [], [None], {}, {"a": [1]}, "../../../etc/passwd"]
    for _ in range(count):
        mutated = copy.deepcopy(payload)
        trail = rng.choice(paths)
        node = mutated
        for step in trail[:-1]:
            node = node[step]
        node[trail[-1]] = rng.choice(junk)
        yield mutated


@pytest.mark.parametrize("source,fixture,kind", [
    ("plex", "plex/library.new_episode_captured.json", "form:payload"),
    ("jellyfin", "jellyfin/ItemAdded_Movie_SendAllProperties_captured_10.10.7.json", "body"),
    ("sonarr", "sonarr/autoscan_testdata_westworld_Download_trimmed.json", "body"),
    ("radarr", "radarr/autoscan_testdata_interstellar_Download_trimmed.json", "body"),
])
def test_payloads_with_wrong_types_anywhere_never_cause_a_500(client, fixtures_dir, source, fixture, kind):
    payload = json.loads((fixtures_dir / fixture).read_text())
    rng = random.Random(5)
    for mutated in _mutations(payload, rng, 60):
        text = json.dumps(mutated)
        if kind == "body":
            response = client.post(f"/webhooks/{source}?token={TOKEN}", data=text, content_type="text/plain")
        else:
            response = client.post(f"/webhooks/{source}?token={TOKEN}", data={"payload": text},
                                   content_type="multipart/form-data")
        assert response.status_code in (200, 202, 400), (response.status_code, text[:300])


def test_dedup_window_zero_queues_every_repeat(tmp_path):
    svc = make_services(tmp_path, {"webhooks": {"token": TOKEN, "dedup_window": 0}})
    client = create_app(svc).test_client()
    ids = [client.post(f"/webhooks/radarr?token={TOKEN}", json=RADARR).json["job_id"] for _ in range(2)]
    assert ids[0] != ids[1]
    svc.store.close()


def test_a_repeat_after_the_window_makes_a_new_job(client, hook_services):
    first = client.post(f"/webhooks/radarr?token={TOKEN}", json=RADARR).json["job_id"]
    # Age the first job past the 600 s default window.
    hook_services.store.update("jobs", first, {"created_at": 0})
    second = client.post(f"/webhooks/radarr?token={TOKEN}", json=RADARR).json
    assert second["duplicate"] is False and second["job_id"] != first


def test_distinct_items_are_not_merged(client, hook_services):
    other = copy.deepcopy(RADARR)
    other["movieFile"]["relativePath"] = "B.mkv"
    a = client.post(f"/webhooks/radarr?token={TOKEN}", json=RADARR).json
    b = client.post(f"/webhooks/radarr?token={TOKEN}", json=other).json
    assert (a["duplicate"], b["duplicate"]) == (False, False) and a["job_id"] != b["job_id"]


SOURCES = ["plex", "jellyfin", "emby", "sonarr", "radarr"]
HOSTILE_JSON = {
    "nested arrays": ("[" * 100_000, "nested too deeply"),
    "nested objects": ('{"a":' * 50_000, "nested too deeply"),
    "a 5,000-digit integer": ('{"eventType": "Download", "year": ' + "7" * 5000 + "}", "digits"),
    "a 5,000-digit negative integer": ('{"Event": -' + "7" * 5000 + "}", "digits"),
}


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("what", list(HOSTILE_JSON))
def test_hostile_json_is_a_400_on_every_receiver(client, hook_services, source, what):
    body, needle = HOSTILE_JSON[what]
    raw = client.post(f"/webhooks/{source}?token={TOKEN}", data=body, content_type="application/json")
    assert raw.status_code == 400 and needle in raw.json["error"], raw.json
    if source in ("plex", "emby"):  # their JSON may also come as a form field
        field = "payload" if source == "plex" else "data"
        form = client.post(f"/webhooks/{source}?token={TOKEN}", data={field: body}, content_type="multipart/form-data")
        assert form.status_code == 400 and needle in form.json["error"], form.json
    assert jobs_of(hook_services) == []
