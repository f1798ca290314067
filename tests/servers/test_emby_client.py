"""EmbyClient: Emby's X-Emby-Token header and numeric ids on the shared Media Browser calls."""
from __future__ import annotations

import pytest
from fake_emby import FakeEmby
from fake_jellyfin import movie_dto

from syncdub_companion.errors import ServerError
from syncdub_companion.servers.emby import EmbyClient


@pytest.fixture
def emby():
    item = movie_dto("Free Guy", "/mnt/user/Movies/Free Guy.mkv", ["eng", "ger"], Imdb="tt6264654")
    item["Id"] = "478"
    with FakeEmby(api_key="emby-key", items=[item]) as fake:
        yield fake


def test_lookup_sends_x_emby_token_and_keeps_numeric_ids(emby):
    item = EmbyClient(emby.url, "emby-key", retries=0).item("478")
    assert item.path == "/mnt/user/Movies/Free Guy.mkv" and item.item_id == "478"
    assert item.audio_languages == ["eng", "ger"] and item.server == "emby"
    assert emby.requests[0]["headers"]["X-Emby-Token"] == "emby-key"
    assert dict(emby.requests[0]["query"])["ids"] == "478"


def test_rescan_and_refresh(emby):
    client = EmbyClient(emby.url, "emby-key", retries=0)
    client.media_updated(["/mnt/user/Movies/Free Guy.mkv"])
    client.refresh_item("478")
    assert emby.media_updated[0][0]["Path"] == "/mnt/user/Movies/Free Guy.mkv"
    assert emby.refreshed == ["478"]


def test_bad_key_fails_with_fix(emby):
    with pytest.raises(ServerError, match="emby.api_key"):
        EmbyClient(emby.url, "bad", retries=0).item("478")
    ok, message = EmbyClient(emby.url, "bad", retries=0).check()
    assert not ok and "emby.api_key" in message
