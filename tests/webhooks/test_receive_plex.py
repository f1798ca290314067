"""Plex: multipart/form-data with the JSON in the ``payload`` part, as Plex sends it."""
from __future__ import annotations

import io
import json

from hookutil import TOKEN, jobs_of


def _post(client, payload: str, token: str = TOKEN, thumb: bool = True):
    data = {"payload": payload}
    if thumb:  # Plex attaches the poster as a JPEG file part
        data["thumb"] = (io.BytesIO(b"\xff\xd8\xff\xe0" + b"\0" * 2048), "thumb.jpg", "image/jpeg")
    return client.post(f"/webhooks/plex?token={token}", data=data, content_type="multipart/form-data")


def test_library_new_episode_queues_a_job_with_the_rating_key_and_guids(client, hook_services, fixtures_dir):
    payload = (fixtures_dir / "plex" / "library.new_episode_captured.json").read_text()
    response = _post(client, payload)
    assert response.status_code == 202
    assert response.json["duplicate"] is False
    [job] = jobs_of(hook_services)
    assert response.json["job_id"] == job["id"]
    event = job["event"]
    assert (event["source"], event["kind"], event["item_id"]) == ("plex", "episode", "57612")
    assert (event["series"], event["season"], event["episode"]) == ("Bluey (2018)", 2, 50)
    assert event["provider_ids"] == {"imdb": "tt13429908", "tmdb": "2499236", "tvdb": "8031280"}
    assert event["path"] is None  # Plex never sends it; the plex plugin looks it up
    assert job["state"] == "queued"


def test_plex_repeats_the_same_item_and_only_one_job_exists(client, hook_services, fixtures_dir):
    payload = (fixtures_dir / "plex" / "library.new_episode_captured.json").read_text()
    first, second = _post(client, payload), _post(client, payload, thumb=False)
    assert (first.status_code, second.status_code) == (202, 202)
    assert second.json == {**first.json, "duplicate": True, "duplicates": [True]}
    assert len(jobs_of(hook_services)) == 1


def test_playback_events_are_ignored_with_a_2xx(client, hook_services, fixtures_dir):
    payload = (fixtures_dir / "plex" / "media.pause_episode_captured_trimmed.json").read_text()
    response = _post(client, payload)
    assert response.status_code == 200
    assert "media.pause" in response.json["ignored"]
    assert jobs_of(hook_services) == []


def test_library_new_for_a_show_or_track_is_ignored(client, hook_services, fixtures_dir):
    data = json.loads((fixtures_dir / "plex" / "library.new_episode_captured.json").read_text())
    for kind in ("show", "season", "track"):
        data["Metadata"]["type"] = kind
        response = _post(client, json.dumps(data))
        assert response.status_code == 200 and kind in response.json["ignored"]
    assert jobs_of(hook_services) == []


def test_a_movie_payload_becomes_a_movie_event(client, hook_services):
    payload = {"event": "library.new", "Server": {"uuid": "abc"},
               "Metadata": {"type": "movie", "ratingKey": "4321", "title": "Free Guy", "year": 2021,
                            "Guid": [{"id": "imdb://tt6264654"}, {"id": "plex://movie/5d77"}]}}
    response = _post(client, json.dumps(payload))
    assert response.status_code == 202
    event = jobs_of(hook_services)[0]["event"]
    assert (event["kind"], event["title"], event["year"], event["server"]) == ("movie", "Free Guy", 2021, "abc")
    assert event["provider_ids"] == {"imdb": "tt6264654"}


def test_form_without_payload_part_is_a_400(client, hook_services):
    response = client.post(f"/webhooks/plex?token={TOKEN}", data={"other": "x"}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "payload" in response.json["error"]
    assert jobs_of(hook_services) == []


def test_rating_key_that_is_not_a_number_is_a_400(client):
    payload = {"event": "library.new", "Metadata": {"type": "movie", "ratingKey": "../../etc"}}
    response = _post(client, json.dumps(payload))
    assert response.status_code == 400 and "ratingKey" in response.json["error"]


def test_payload_sent_as_a_file_part_is_read_too(client, hook_services, fixtures_dir):
    payload = (fixtures_dir / "plex" / "library.new_episode_captured.json").read_bytes()
    data = {"payload": (io.BytesIO(payload), "payload.json", "application/json")}
    response = client.post(f"/webhooks/plex?token={TOKEN}", data=data, content_type="multipart/form-data")
    assert response.status_code == 202
    assert jobs_of(hook_services)[0]["event"]["item_id"] == "57612"
