"""The jellyfin plugin: webhook event -> lookup -> local path; targeted rescans with a fallback."""
from __future__ import annotations

import json
import logging

import pytest

from syncdub_companion.errors import ServerError
from syncdub_companion.media import LibraryEvent, MediaItem
from syncdub_companion.testing import make_services
from syncdub_companion.web.app import create_app
from tests.servers.fake_jellyfin import FakeJellyfin, movie_dto

import plugins.jellyfin as jellyfin_plugin

KEY = "jf-key-1"
FREE_GUY_ID = "f8fa7a608e0a60f502854d0b36c2fd6d"  # the captured webhook's ItemId


@pytest.fixture
def jellyfin():
    item = movie_dto("Free Guy", "/media/movies/Free Guy (2021)/Free Guy.mkv", ["fre", "eng"], Imdb="tt6264654")
    item["Id"] = FREE_GUY_ID
    with FakeJellyfin(api_key=KEY, items=[item]) as fake:
        yield fake


@pytest.fixture
def svc(tmp_path, jellyfin):
    services = make_services(tmp_path, {"jellyfin": {"url": jellyfin.url, "api_key": KEY},
                                        "webhooks": {"token": "hook"},
                                        "paths": {"/media": str(tmp_path / "nfs")}})
    yield services
    services.store.close()


def test_captured_webhook_to_resolved_local_item(svc, jellyfin, fixtures_dir, tmp_path):
    body = (fixtures_dir / "jellyfin" / "ItemAdded_Movie_SendAllProperties_captured_10.10.7.json").read_bytes()
    response = create_app(svc).test_client().post("/webhooks/jellyfin?token=hook", data=body, content_type="text/plain")
    assert response.status_code == 202
    job = svc.store.get("jobs", response.json["job_id"])
    item = svc.hook.syncdub_resolve_item(event=LibraryEvent.from_dict(job["event"]), services=svc)
    assert item.path == str(tmp_path / "nfs" / "movies" / "Free Guy (2021)" / "Free Guy.mkv")
    assert item.audio_languages == ["fre", "eng"] and item.item_id == FREE_GUY_ID
    assert jellyfin.rejections == []


def test_library_changed_reports_server_paths(svc, jellyfin, tmp_path):
    local = str(tmp_path / "nfs" / "movies" / "Free Guy (2021)" / "Free Guy.mkv")
    jellyfin_plugin.syncdub_library_changed([local], None, svc)
    assert jellyfin.media_updated == [[{"Path": "/media/movies/Free Guy (2021)/Free Guy.mkv", "UpdateType": "Modified"}]]
    assert jellyfin.refreshed == [] and jellyfin.rejections == []


def test_when_media_updated_fails_the_item_is_refreshed(svc, jellyfin, tmp_path):
    jellyfin.fail_media_updated = 500
    item = MediaItem(path=str(tmp_path / "nfs/movies/x.mkv"), server="jellyfin", item_id=FREE_GUY_ID)
    jellyfin_plugin.syncdub_library_changed([item.path], item, svc)
    assert jellyfin.refreshed == [FREE_GUY_ID]


def test_fallback_needs_a_jellyfin_item(svc, jellyfin, caplog):
    jellyfin.fail_media_updated = 400
    caplog.set_level(logging.WARNING)
    item = MediaItem(path="/x.mkv", server="plex", item_id="100")
    jellyfin_plugin.syncdub_library_changed(["/x.mkv"], item, svc)
    assert jellyfin.refreshed == [] and "could not report" in caplog.text


def test_a_transient_failure_without_a_fallback_is_raised_for_the_retry(svc, jellyfin):
    jellyfin.fail_media_updated = 503
    with pytest.raises(ServerError) as err:
        jellyfin_plugin.syncdub_library_changed(["/x.mkv"], None, svc)
    assert err.value.transient and "503" in str(err.value)


def test_a_transient_failure_of_the_fallback_too_is_raised(svc, jellyfin):
    jellyfin.fail_media_updated = 503
    jellyfin.fail_refresh = 502
    item = MediaItem(path="/x.mkv", server="jellyfin", item_id=FREE_GUY_ID)
    with pytest.raises(ServerError, match="502"):
        jellyfin_plugin.syncdub_library_changed(["/x.mkv"], item, svc)


def test_check_and_inert_without_url(svc, tmp_path):
    [(name, ok, message)] = jellyfin_plugin.syncdub_check(svc)
    assert (name, ok) == ("jellyfin", True) and "API key accepted" in message
    (tmp_path / "bare").mkdir()
    bare = make_services(tmp_path / "bare")
    assert jellyfin_plugin.syncdub_check(bare) == []
    assert jellyfin_plugin.syncdub_resolve_item(LibraryEvent(source="jellyfin", item_id=FREE_GUY_ID), bare) is None
    bare.store.close()


def test_api_key_never_logged(svc, jellyfin, caplog):
    caplog.set_level(logging.DEBUG)
    jellyfin.fail_media_updated = 401
    jellyfin_plugin.syncdub_library_changed(["/media/a.mkv"], None, svc)
    jellyfin_plugin.syncdub_resolve_item(LibraryEvent(source="jellyfin", item_id=FREE_GUY_ID), svc)
    assert caplog.records and all(KEY not in r.getMessage() for r in caplog.records)
    assert json.dumps(svc.config.redacted()).count(KEY) == 0
