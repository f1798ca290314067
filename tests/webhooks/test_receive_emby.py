"""Emby: the JSON in a multipart ``data`` field (before 4.9) or as the raw body."""
from __future__ import annotations

import json

import pytest
from hookutil import TOKEN, jobs_of

ITEM = {"Name": "The Road to Hell", "ServerId": "2965b319f8a849ebb156e4ea01e9a5c5", "Id": "478",
        "Path": "/mnt/user/TV/Billy the Kid/Season 02/Billy the Kid - S02E01 - The Road to Hell.mkv",
        "ProductionYear": 2023, "IndexNumber": 1, "ParentIndexNumber": 2, "SeriesName": "Billy the Kid",
        "ProviderIds": {"Tvdb": "9944695"}, "Type": "Episode",
        "MediaStreams": [{"Type": "Video", "Index": 0}, {"Type": "Audio", "Index": 1, "Language": "eng"},
                         {"Type": "Audio", "Index": 2, "Language": "spa"}]}


def _library_new(item=ITEM) -> dict:
    return {"Title": "New item", "Date": "2023-10-26T03:11:02Z", "Event": "library.new", "Item": item,
            "Server": {"Name": "emby", "Id": "2965b319f8a849ebb156e4ea01e9a5c5"}}


def test_multipart_data_field_queues_an_episode_with_its_path(client, hook_services):
    response = client.post(f"/webhooks/emby?token={TOKEN}", data={"data": json.dumps(_library_new())},
                           content_type="multipart/form-data")
    assert response.status_code == 202
    event = jobs_of(hook_services)[0]["event"]
    assert event["path"] == ITEM["Path"] and event["item_id"] == "478"
    assert (event["season"], event["episode"], event["series"]) == (2, 1, "Billy the Kid")
    assert event["provider_ids"] == {"tvdb": "9944695"}
    assert event["audio_languages"] == ["eng", "spa"]


def test_json_body_works_the_same(client, hook_services):
    response = client.post(f"/webhooks/emby?token={TOKEN}", json=_library_new())
    assert response.status_code == 202
    assert jobs_of(hook_services)[0]["event"]["path"] == ITEM["Path"]


def test_the_truncated_captured_excerpt_is_a_400_not_a_500(client, hook_services, fixtures_dir):
    text = (fixtures_dir / "emby" / "playback.stop_form_data_field_EXCERPT_truncated.txt").read_text()
    excerpt = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    response = client.post(f"/webhooks/emby?token={TOKEN}", data={"data": excerpt}, content_type="multipart/form-data")
    assert response.status_code == 400 and "not JSON" in response.json["error"]
    assert jobs_of(hook_services) == []


@pytest.mark.parametrize("payload,expect", [
    ({"Event": "playback.stop", "Item": ITEM}, "playback.stop"),
    ({"Event": "library.new", "Item": {**ITEM, "Type": "Series"}}, "Series"),
])
def test_other_events_and_types_are_ignored(client, hook_services, payload, expect):
    response = client.post(f"/webhooks/emby?token={TOKEN}", json=payload)
    assert response.status_code == 200 and expect in response.json["ignored"]
    assert jobs_of(hook_services) == []
