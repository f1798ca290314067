"""The emby plugin: the payload's own path, the API only when it lacks one, rescans like Jellyfin."""
from __future__ import annotations

import pytest

from syncdub_companion.media import LibraryEvent
from syncdub_companion.testing import make_services
from tests.servers.fake_emby import FakeEmby
from tests.servers.fake_jellyfin import movie_dto

import plugins.emby as emby_plugin


@pytest.fixture
def emby():
    item = movie_dto("Free Guy", "/mnt/user/Movies/Free Guy.mkv", ["eng"], Imdb="tt6264654")
    item["Id"] = "478"
    with FakeEmby(api_key="ek", items=[item]) as fake:
        yield fake


@pytest.fixture
def svc(tmp_path, emby):
    services = make_services(tmp_path, {"emby": {"url": emby.url, "api_key": "ek"},
                                        "paths": {"/mnt/user": str(tmp_path / "lib")}})
    yield services
    services.store.close()


def test_payload_path_is_used_without_asking_the_server(svc, emby, tmp_path):
    event = LibraryEvent(source="emby", item_id="478", path="/mnt/user/TV/Show/S01E01.mkv", kind="episode",
                         provider_ids={"tvdb": "1"})
    item = emby_plugin.syncdub_resolve_item(event, svc)
    assert item.path == str(tmp_path / "lib" / "TV" / "Show" / "S01E01.mkv") and item.provider_ids == {"tvdb": "1"}
    assert emby.requests == []


def test_payload_without_path_is_looked_up(svc, emby, tmp_path):
    item = emby_plugin.syncdub_resolve_item(LibraryEvent(source="emby", item_id="478"), svc)
    assert item.path == str(tmp_path / "lib" / "Movies" / "Free Guy.mkv")
    assert emby.requests[0]["headers"]["X-Emby-Token"] == "ek"


def test_rescan_maps_back_to_the_servers_view(svc, emby, tmp_path):
    emby_plugin.syncdub_library_changed([str(tmp_path / "lib" / "Movies" / "Free Guy.mkv")], None, svc)
    assert emby.media_updated == [[{"Path": "/mnt/user/Movies/Free Guy.mkv", "UpdateType": "Modified"}]]


def test_inert_without_url(tmp_path):
    bare = make_services(tmp_path)
    assert emby_plugin.syncdub_resolve_item(LibraryEvent(source="emby", item_id="1", path="/x.mkv"), bare) is None
    assert emby_plugin.syncdub_check(bare) == []
    bare.store.close()
