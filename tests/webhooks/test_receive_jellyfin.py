"""Jellyfin webhook plugin: JSON, often labelled text/plain; ItemId with or without hyphens."""
from __future__ import annotations

import json

import pytest
from hookutil import TOKEN, jobs_of

CAPTURED = "ItemAdded_Movie_SendAllProperties_captured_10.10.7.json"


def _post(client, body: bytes, content_type: str = "text/plain; charset=utf-8", token: str = TOKEN):
    return client.post("/webhooks/jellyfin", data=body,
                       headers={"Content-Type": content_type, "X-SyncDub-Token": token})


@pytest.mark.parametrize("content_type", ["text/plain; charset=utf-8", "application/json"])
def test_captured_item_added_queues_a_movie_job(client, hook_services, fixtures_dir, content_type):
    response = _post(client, (fixtures_dir / "jellyfin" / CAPTURED).read_bytes(), content_type)
    assert response.status_code == 202
    event = jobs_of(hook_services)[0]["event"]
    assert (event["source"], event["kind"], event["title"], event["year"]) == ("jellyfin", "movie", "Free Guy", 2021)
    assert event["item_id"] == "f8fa7a608e0a60f502854d0b36c2fd6d"
    assert event["provider_ids"]["imdb"] == "tt6264654" and event["provider_ids"]["tmdb"] == "550988"
    assert event["audio_languages"] == ["fre", "eng"]


def test_hyphenated_item_id_is_the_same_item_as_the_plain_one(client, hook_services, fixtures_dir):
    data = json.loads((fixtures_dir / "jellyfin" / CAPTURED).read_text())
    first = _post(client, json.dumps(data).encode())
    data["ItemId"] = "F8FA7A60-8E0A-60F5-0285-4D0B36C2FD6D"
    second = _post(client, json.dumps(data).encode())
    assert second.status_code == 202 and second.json["duplicate"] is True
    assert second.json["job_id"] == first.json["job_id"]
    assert len(jobs_of(hook_services)) == 1


def test_episode_with_zero_padded_numbers_only(client, hook_services):
    body = {"NotificationType": "ItemAdded", "ItemType": "Episode", "ItemId": "a" * 32, "Name": "Pilot",
            "SeriesName": "Severance", "SeasonNumber00": "01", "EpisodeNumber00": "07", "Provider_tvdb": "7889611"}
    assert _post(client, json.dumps(body).encode()).status_code == 202
    event = jobs_of(hook_services)[0]["event"]
    assert (event["kind"], event["series"], event["season"], event["episode"]) == ("episode", "Severance", 1, 7)


@pytest.mark.parametrize("change,reason", [
    ({"NotificationType": "PlaybackStart"}, "PlaybackStart"),
    ({"ItemType": "MusicAlbum"}, "MusicAlbum"),
])
def test_other_notifications_and_types_are_ignored(client, hook_services, fixtures_dir, change, reason):
    data = {**json.loads((fixtures_dir / "jellyfin" / CAPTURED).read_text()), **change}
    response = _post(client, json.dumps(data).encode())
    assert response.status_code == 200 and reason in response.json["ignored"]
    assert jobs_of(hook_services) == []


@pytest.mark.parametrize("item_type,kind", [("Season", "season"), ("Series", "series")])
def test_a_season_or_series_added_alone_queues_a_job_to_expand(client, hook_services, item_type, kind):
    # the plugin drops a child whose parent is in the same batch: a season pack may come as this alone
    body = {"NotificationType": "ItemAdded", "ItemType": item_type, "ItemId": "b" * 32, "Name": "Season 2",
            "SeriesName": "Severance", "SeasonNumber": 2, "Provider_tvdb": "371980"}
    response = _post(client, json.dumps(body).encode())
    assert response.status_code == 202
    event = jobs_of(hook_services)[0]["event"]
    assert (event["kind"], event["item_id"], event["episode"]) == (kind, "b" * 32, None)
    assert event["season"] == (2 if kind == "season" else None)


@pytest.mark.parametrize("item_id", ["not-an-id", "f8fa7a608e0a60f5", "../../../x"])
def test_item_id_that_is_not_a_jellyfin_id_is_a_400(client, item_id):
    body = {"NotificationType": "ItemAdded", "ItemType": "Movie", "ItemId": item_id}
    response = _post(client, json.dumps(body).encode())
    assert response.status_code == 400 and "ItemId" in response.json["error"]


def test_the_generic_template_without_notification_type_is_a_400(client, hook_services):
    body = b'{"Name": "x", "Description": "y", "Date": "", "Level": "", "Url": "", "Username": "", "UserId": ""}'
    response = _post(client, body)
    assert response.status_code == 400 and "NotificationType" in response.json["error"]
