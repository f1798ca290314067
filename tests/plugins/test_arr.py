"""The arr plugin: Sonarr/Radarr events resolve from the payload alone, through the path map."""
from __future__ import annotations

import json

import pytest

from syncdub_companion.media import LibraryEvent
from syncdub_companion.testing import make_services
from syncdub_companion.web.app import create_app

import plugins.arr as arr_plugin


@pytest.fixture
def svc(tmp_path):
    services = make_services(tmp_path, {"webhooks": {"token": "t"}, "paths": {"/TV": str(tmp_path / "tv"),
                                                                             "/Movies": str(tmp_path / "movies")}})
    yield services
    services.store.close()


def test_sonarr_import_complete_resolves_each_file(svc, tmp_path):
    body = {"eventType": "Download", "series": {"title": "Westworld", "path": "/TV/Westworld", "tvdbId": 296762},
            "episodes": [{"seasonNumber": 1, "episodeNumber": 1}, {"seasonNumber": 1, "episodeNumber": 2}],
            "episodeFiles": [{"relativePath": "Season 1/Westworld.S01E01.mkv", "mediaInfo": {"audioLanguages": ["eng"]}},
                             {"relativePath": "Season 1/Westworld.S01E02.mkv"}]}
    response = create_app(svc).test_client().post("/webhooks/sonarr", data=json.dumps(body),
                                                  content_type="application/json", auth=("x", "t"))
    assert response.status_code == 202
    items = [svc.hook.syncdub_resolve_item(event=LibraryEvent.from_dict(svc.store.get("jobs", i)["event"]), services=svc)
             for i in response.json["job_ids"]]
    assert [i.path for i in items] == [str(tmp_path / "tv" / "Westworld" / "Season 1" / f"Westworld.S01E0{n}.mkv")
                                       for n in (1, 2)]
    assert items[0].audio_languages == ["eng"] and items[0].provider_ids == {"series_tvdb": "296762"}
    assert (items[1].season, items[1].episode, items[1].server) == (1, 2, "sonarr")


def test_radarr_fixture_resolves_through_the_map(svc, tmp_path, fixtures_dir):
    body = (fixtures_dir / "radarr" / "autoscan_testdata_interstellar_Download_trimmed.json").read_bytes()
    job_id = create_app(svc).test_client().post("/webhooks/radarr?token=t", data=body,
                                                content_type="application/json").json["job_id"]
    event = LibraryEvent.from_dict(svc.store.get("jobs", job_id)["event"])
    item = arr_plugin.syncdub_resolve_item(event, svc)
    assert item.path == str(tmp_path / "movies" / "Interstellar (2014)" / "Interstellar.2014.UHD.BluRay.2160p.REMUX.mkv")


def test_other_sources_are_not_ours(svc):
    assert arr_plugin.syncdub_resolve_item(LibraryEvent(source="plex", item_id="1", path="/TV/x.mkv"), svc) is None
