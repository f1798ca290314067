"""JellyfinClient against a local server that enforces the Jellyfin 12 OpenAPI spec."""
from __future__ import annotations

import pytest
from fake_jellyfin import FakeJellyfin, episode_dto, movie_dto, series_dto

from syncdub_companion.errors import ServerError
from syncdub_companion.servers.jellyfin import JellyfinClient

KEY = "0123abcd-key"
SERIES_ID = "5" * 32


@pytest.fixture
def jellyfin():
    items = [
        movie_dto("Free Guy", "/media/movies/Free Guy (2021)/Free Guy.mkv", ["eng"], Imdb="tt6264654", Tmdb="550988"),
        movie_dto("Free Guy", "/media/dubs/fr/Free Guy (2021).mkv", ["fra"], Imdb="tt6264654"),
        movie_dto("Tenet", "/media/movies/Tenet (2020)/Tenet.mkv", ["eng"], year=2020, Imdb="tt6723592"),
        series_dto("Bluey", SERIES_ID, Tvdb="353546"),
        episode_dto("Baby Race", "/media/tv/Bluey/Season 02/Bluey S02E50.mkv", ["eng"], "Bluey", 2, 50, SERIES_ID,
                    Tvdb="8031280"),
    ]
    with FakeJellyfin(api_key=KEY, items=items) as fake:
        yield fake


def _client(fake, key=KEY, **kw):
    return JellyfinClient(fake.url, key, retries=0, **kw)


def test_item_lookup_uses_the_documented_request_and_auth_header(jellyfin):
    item_id = jellyfin.items[0]["Id"]
    item = _client(jellyfin).item(item_id)
    assert item.path == "/media/movies/Free Guy (2021)/Free Guy.mkv"
    assert item.provider_ids == {"imdb": "tt6264654", "tmdb": "550988"}
    assert item.audio_languages == ["eng"] and item.item_id == item_id and item.kind == "movie"
    [request] = jellyfin.requests
    assert request["method"] == "GET" and request["path"] == "/Items"
    query = dict(request["query"])
    assert query["fields"] == "Path,ProviderIds,MediaSources"
    assert query["ids"] == f"{item_id[:8]}-{item_id[8:12]}-{item_id[12:16]}-{item_id[16:20]}-{item_id[20:]}"
    assert request["headers"]["Authorization"] == f'MediaBrowser Token="{KEY}"'
    assert "X-Emby-Token" not in request["headers"]
    assert jellyfin.rejections == []


def test_hyphenated_and_plain_ids_find_the_same_item(jellyfin):
    plain = jellyfin.items[2]["Id"]
    hyphenated = f"{plain[:8]}-{plain[8:12]}-{plain[12:16]}-{plain[16:20]}-{plain[20:]}".upper()
    assert _client(jellyfin).item(hyphenated).path == _client(jellyfin).item(plain).path


def test_episode_carries_its_show_ids(jellyfin):
    item = _client(jellyfin).item(jellyfin.items[4]["Id"])
    assert (item.kind, item.series, item.season, item.episode) == ("episode", "Bluey", 2, 50)
    assert item.provider_ids == {"tvdb": "8031280", "series_tvdb": "353546"}
    assert jellyfin.rejections == []


def test_find_videos_narrows_by_year_or_episode_numbers(jellyfin):
    client = _client(jellyfin)
    assert sorted(m.path for m in client.find_videos("movie", year=2021)) == [
        "/media/dubs/fr/Free Guy (2021).mkv", "/media/movies/Free Guy (2021)/Free Guy.mkv"]
    [episode] = client.find_videos("episode", season=2, episode=50)
    assert episode.provider_ids["series_tvdb"] == "353546"
    assert client.find_videos("episode", season=3, episode=1) == []
    assert jellyfin.rejections == []


def test_media_updated_posts_the_paths_and_refresh_targets_one_item(jellyfin):
    client = _client(jellyfin)
    client.media_updated(["/media/movies/Tenet (2020)/Tenet.mkv"])
    client.refresh_item(jellyfin.items[2]["Id"])
    assert jellyfin.media_updated == [[{"Path": "/media/movies/Tenet (2020)/Tenet.mkv", "UpdateType": "Modified"}]]
    assert jellyfin.refreshed == [jellyfin.items[2]["Id"]]
    assert jellyfin.rejections == []


def test_wrong_api_key_is_a_permanent_error_naming_the_fix(jellyfin):
    with pytest.raises(ServerError) as caught:
        _client(jellyfin, key="wrong").item(jellyfin.items[0]["Id"])
    assert caught.value.transient is False
    assert "jellyfin.api_key" in str(caught.value) and "wrong" not in str(caught.value)


def test_unknown_item_and_server_errors(jellyfin):
    client = _client(jellyfin)
    with pytest.raises(ServerError, match="not found"):
        client.item("f" * 32)
    with pytest.raises(ServerError) as caught:
        client.refresh_item("e" * 32)
    assert "404" in str(caught.value) and not caught.value.transient
    jellyfin.fail_media_updated = 503
    with pytest.raises(ServerError) as caught:
        client.media_updated(["/x.mkv"])
    assert caught.value.transient is True


def test_item_id_that_is_not_an_id_is_refused_before_any_request(jellyfin):
    with pytest.raises(ServerError, match="32 hex"):
        _client(jellyfin).item("../System/Info")
    assert jellyfin.requests == []


def test_unreachable_server_is_transient():
    client = JellyfinClient("http://127.0.0.1:9", KEY, retries=0)
    with pytest.raises(ServerError) as caught:
        client.public_info()
    assert caught.value.transient and "jellyfin.url" in str(caught.value)


def test_check_reports_success_and_the_fix(jellyfin):
    ok, message = _client(jellyfin).check()
    assert ok and "Fake Jellyfin" in message and "12.0.0" in message
    ok, message = _client(jellyfin, key="nope").check()
    assert not ok and "answers, but" in message and "Dashboard > API Keys" in message


def test_the_fake_refuses_what_the_spec_does_not_allow(jellyfin):
    # The checks above mean something only if the fake really rejects off-spec requests.
    import requests

    auth = {"Authorization": f'MediaBrowser Token="{KEY}"'}
    url = jellyfin.url
    assert requests.get(f"{url}/Items?ids=nothex&fields=Path", headers=auth).status_code == 400
    assert requests.get(f"{url}/Items?itemIds=1", headers=auth).status_code == 400
    assert requests.get(f"{url}/Items?fields=NotAField", headers=auth).status_code == 400
    assert requests.get(f"{url}/Items", headers={"X-Emby-Token": KEY}).status_code == 401
    assert requests.get(f"{url}/Items").status_code == 401
    assert requests.post(f"{url}/Library/Media/Updated", json={"Paths": ["/x"]}, headers=auth).status_code == 400
    assert requests.put(f"{url}/Library/Media/Updated", json={"Updates": []}, headers=auth).status_code == 405
    assert requests.get(f"{url}/Library/Media/Changed", headers=auth).status_code == 404
    assert requests.post(f"{url}/Items/{'a' * 32}/Refresh?metadataRefreshMode=Everything", headers=auth).status_code == 400
    assert requests.get(f"{url}/System/Info/Public").status_code == 200
    assert len(jellyfin.rejections) == 9
