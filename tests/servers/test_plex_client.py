"""PlexClient through plexapi against a local server answering in Plex's XML shape."""
from __future__ import annotations

import pytest
from fake_jellyfin import FakeJellyfin
from fake_plex import FakePlex, episode, movie, show

from syncdub_companion.errors import ServerError
from syncdub_companion.servers.plex import PlexClient

TOKEN = "plex-secret-token"


@pytest.fixture
def plex():
    items = [
        movie(100, "Free Guy", "/data/movies/Free Guy (2021)/Free Guy.mkv", ["eng"], imdb="tt6264654", tmdb="550988"),
        movie(101, "Free Guy", "/data/movies/Free Guy (2021)/Free Guy.FRENCH.mkv", ["fre"], tmdb="550988"),
        movie(102, "Tenet", "/data/movies/Tenet (2020)/Tenet.mkv", ["eng"], year=2020, imdb="tt6723592"),
        show(200, "Bluey (2018)", tvdb="353546"),
        episode(201, "Baby Race", "/data/tv/Bluey/Season 02/Bluey S02E50.mkv", ["eng"], 200, "Bluey (2018)", 2, 50,
                imdb="tt13429908", tvdb="8031280"),
        episode(202, "Baby Race", "/data/tv/Bluey/Season 02/Bluey S02E50.de.mkv", ["ger"], 200, "Bluey (2018)", 2, 50),
    ]
    with FakePlex(token=TOKEN, items=items) as fake:
        yield fake


def _client(fake, token=TOKEN):
    return PlexClient(fake.url, token, retries=0)


def test_fetch_item_gives_path_guids_languages(plex):
    item = _client(plex).item("100")
    assert item.path == "/data/movies/Free Guy (2021)/Free Guy.mkv"
    assert item.provider_ids == {"imdb": "tt6264654", "tmdb": "550988"}
    assert (item.kind, item.title, item.year, item.audio_languages) == ("movie", "Free Guy", 2021, ["eng"])
    assert ("GET", "/library/metadata/100") in plex.requests


def test_episode_has_numbers_and_its_show_ids(plex):
    item = _client(plex).item(201)
    assert (item.series, item.season, item.episode) == ("Bluey (2018)", 2, 50)
    assert item.provider_ids == {"imdb": "tt13429908", "tvdb": "8031280", "series_tvdb": "353546"}


def test_refresh_scans_only_the_changed_folder_in_its_library(plex):
    assert _client(plex).refresh_folder("/data/tv/Bluey/Season 02") == "TV Shows"
    assert plex.scans == [(2, "/data/tv/Bluey/Season 02")]
    assert _client(plex).refresh_folder("/elsewhere/Movie") is None
    assert _client(plex).refresh_folder("/data/moviesX/A") is None  # a prefix is not a parent folder
    assert len(plex.scans) == 1


def test_find_by_ids_matches_guids_and_show_plus_numbers(plex):
    client = _client(plex)
    movies = client.find_by_ids(client.item(100))
    assert sorted(m.item_id for m in movies) == ["100", "101"]
    sonarr_like = client.item(201)
    sonarr_like.provider_ids = {"series_tvdb": "353546"}
    assert sorted(m.item_id for m in client.find_by_ids(sonarr_like)) == ["201", "202"]


def test_wrong_token_is_permanent_with_fix_and_hides_the_token(plex):
    with pytest.raises(ServerError) as caught:
        _client(plex, token="wrong-token").item(100)
    assert not caught.value.transient and "plex.token" in str(caught.value)
    assert "wrong-token" not in str(caught.value)


def test_unknown_rating_key_and_bad_key(plex):
    with pytest.raises(ServerError, match="not found") as caught:
        _client(plex).item(999)
    assert not caught.value.transient
    with pytest.raises(ServerError, match="ratingKey"):
        _client(plex).item("abc")


def test_unreachable_plex_is_transient():
    with pytest.raises(ServerError) as caught:
        PlexClient("http://127.0.0.1:9", TOKEN, retries=0).item(1)
    assert caught.value.transient and "plex.url" in str(caught.value)


def test_check_lines(plex):
    ok, message = _client(plex).check()
    assert ok and "Fake Plex" in message and "2 libraries" in message
    ok, message = _client(plex, token="bad").check()
    assert not ok and "answers" in message and "plex.token" in message
    with FakeJellyfin() as not_plex:
        ok, message = PlexClient(not_plex.url, TOKEN, retries=0).check()
    assert not ok and "Plex Media Server" in message


def test_token_travels_in_the_header_not_the_url(plex):
    _client(plex).item(100)
    assert all(TOKEN not in path for _, path in plex.requests)
