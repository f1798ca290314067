"""The media_server finder: same provider ids in another library, audio in a language the original lacks."""
from __future__ import annotations

import logging

import pytest

from syncdub_companion.media import MediaItem
from syncdub_companion.testing import make_services
from tests.servers.fake_jellyfin import FakeJellyfin, episode_dto, movie_dto, series_dto
from tests.servers.fake_plex import FakePlex, movie

import plugins.media_server as finder

PLEX_TOKEN, JF_KEY = "ptok", "jkey"
SERIES_ID = "7" * 32


@pytest.fixture
def plex():
    items = [
        movie(100, "Free Guy", "/data/movies/Free Guy (2021)/Free Guy.mkv", ["eng"], imdb="tt6264654", tmdb="550988"),
        movie(101, "Free Guy", "/data/dubs/Free Guy (2021)/Free Guy.FRENCH.mkv", ["fre"], section=3, tmdb="550988"),
        movie(102, "Free Guy", "/data/dubs/Free Guy (2021)/Free Guy.GERMAN.mkv", ["ger", "eng"], section=3,
              imdb="tt6264654"),
        movie(103, "Free Guy 2", "/data/dubs/Free Guy 2/Free Guy 2.mkv", ["fre"], section=3, imdb="tt9999999"),
        movie(104, "Free Guy", "/data/dubs/Mislabelled.mkv", ["spa"], section=3, imdb="tt6264654", tmdb="1"),
        movie(105, "Free Guy", "/data/movies/Free Guy (2021)/Free Guy.eng2.mkv", ["eng"], imdb="tt6264654"),
    ]
    sections = [{"key": 1, "type": "movie", "title": "Movies", "locations": ["/data/movies"]},
                {"key": 3, "type": "movie", "title": "Dubs", "locations": ["/data/dubs"]}]
    with FakePlex(token=PLEX_TOKEN, items=items, sections=sections) as fake:
        yield fake


@pytest.fixture
def jellyfin():
    items = [
        series_dto("Westworld", SERIES_ID, Tvdb="296762"),
        episode_dto("The Original", "/jf/tv/Westworld/S01E01.mkv", ["eng"], "Westworld", 1, 1, SERIES_ID, Tvdb="5622136"),
        episode_dto("The Original", "/jf/dubs/Westworld/S01E01.de.mkv", ["deu"], "Westworld", 1, 1, SERIES_ID),
        episode_dto("Chestnut", "/jf/dubs/Westworld/S01E02.de.mkv", ["deu"], "Westworld", 1, 2, SERIES_ID),
        movie_dto("Free Guy", "/jf/dubs/Free Guy (2021)/Free Guy.FRENCH.mkv", ["fra"], Tmdb="550988"),
    ]
    with FakeJellyfin(api_key=JF_KEY, items=items) as fake:
        yield fake


def _services(tmp_path, **sections):
    overrides = {"paths": {"/data": str(tmp_path / "plexdata"), "/jf": str(tmp_path / "plexdata")}, **sections}
    return make_services(tmp_path, overrides)


def _original(tmp_path) -> MediaItem:
    return MediaItem(path=str(tmp_path / "plexdata/movies/Free Guy (2021)/Free Guy.mkv"), kind="movie",
                     title="Free Guy", year=2021, provider_ids={"imdb": "tt6264654", "tmdb": "550988"},
                     audio_languages=["eng"], server="plex", item_id="100")


def test_plex_dubs_by_provider_id_in_new_languages_only(tmp_path, plex):
    svc = _services(tmp_path, plex={"url": plex.url, "token": PLEX_TOKEN})
    found = finder.syncdub_find_counterparts(_original(tmp_path), svc)
    by_lang = {c.language: c for c in found}
    assert set(by_lang) == {"fre", "ger"}  # not eng (the original has it), not spa (tmdb disagrees)
    assert by_lang["fre"].path == str(tmp_path / "plexdata/dubs/Free Guy (2021)/Free Guy.FRENCH.mkv")
    assert by_lang["fre"].finder == "media_server" and by_lang["fre"].score == finder.SCORE
    assert "tmdb 550988" in by_lang["fre"].reason
    svc.store.close()


def test_library_languages_limit_the_candidates(tmp_path, plex):
    svc = _services(tmp_path, plex={"url": plex.url, "token": PLEX_TOKEN}, library={"languages": ["de"]})
    assert [c.language for c in finder.syncdub_find_counterparts(_original(tmp_path), svc)] == ["ger"]
    svc.store.close()


def test_sonarr_episode_finds_the_dub_through_its_show_ids(tmp_path, jellyfin):
    svc = _services(tmp_path, jellyfin={"url": jellyfin.url, "api_key": JF_KEY})
    item = MediaItem(path=str(tmp_path / "plexdata/tv/Westworld/S01E01.mkv"), kind="episode", series="Westworld",
                     season=1, episode=1, provider_ids={"series_tvdb": "296762"}, audio_languages=["eng"], server="sonarr")
    [candidate] = finder.syncdub_find_counterparts(item, svc)
    assert candidate.path == str(tmp_path / "plexdata/dubs/Westworld/S01E01.de.mkv") and candidate.language == "ger"
    assert jellyfin.rejections == []
    svc.store.close()


def test_both_servers_indexing_one_file_give_one_candidate(tmp_path, plex, jellyfin):
    svc = _services(tmp_path, plex={"url": plex.url, "token": PLEX_TOKEN},
                    jellyfin={"url": jellyfin.url, "api_key": JF_KEY}, library={"languages": ["fr"]})
    found = finder.syncdub_find_counterparts(_original(tmp_path), svc)
    assert [(c.language, c.reason.split(":")[0]) for c in found] == [("fre", "plex")]
    svc.store.close()


def test_a_failing_server_is_skipped(tmp_path, jellyfin, caplog):
    svc = _services(tmp_path, plex={"url": "http://127.0.0.1:9", "token": PLEX_TOKEN, "timeout": 1},
                    jellyfin={"url": jellyfin.url, "api_key": JF_KEY})
    caplog.set_level(logging.WARNING)
    found = finder.syncdub_find_counterparts(_original(tmp_path), svc)
    assert [c.language for c in found] == ["fre"] and "plex: counterpart search failed" in caplog.text
    svc.store.close()


def test_no_ids_or_no_servers_means_no_requests(tmp_path, plex):
    svc = _services(tmp_path, plex={"url": plex.url, "token": PLEX_TOKEN})
    bare = MediaItem(path="/x.mkv", kind="movie", title="Free Guy")
    assert finder.syncdub_find_counterparts(bare, svc) == [] and plex.requests == []
    svc.store.close()
    (tmp_path / "none").mkdir()
    unconfigured = make_services(tmp_path / "none")
    assert finder.syncdub_find_counterparts(_original(tmp_path), unconfigured) == []
    unconfigured.store.close()


def test_through_the_hook(tmp_path, plex):
    svc = _services(tmp_path, plex={"url": plex.url, "token": PLEX_TOKEN})
    batches = svc.hook.syncdub_find_counterparts(item=_original(tmp_path), services=svc)
    ours = [c for batch in batches for c in batch or [] if c.finder == "media_server"]
    assert {c.language for c in ours} == {"fre", "ger"}
    svc.store.close()


@pytest.mark.parametrize("other,expected", [
    (MediaItem(path="a", kind="movie", provider_ids={"imdb": "tt1"}), True),
    (MediaItem(path="a", kind="movie", provider_ids={"imdb": "tt1", "tmdb": "9"}), False),
    (MediaItem(path="a", kind="movie", provider_ids={"tvdb": "5"}), False),
    (MediaItem(path="a", kind="episode", provider_ids={"imdb": "tt1"}), False),
])
def test_same_content_needs_agreement(other, expected):
    item = MediaItem(path="o", kind="movie", provider_ids={"imdb": "TT1", "tmdb": "8"})
    assert finder.same_content(item, other) is expected
