"""The last-resort resolver: events that carry a path become items inside the library roots."""
from __future__ import annotations

import pytest

from syncdub_companion.errors import PathNotAllowedError
from syncdub_companion.media import LibraryEvent
from syncdub_companion.testing import make_services


@pytest.fixture
def services(tmp_path):
    root = tmp_path / "media"
    (root / "tv/Show (2008)/Season 02").mkdir(parents=True)
    svc = make_services(tmp_path, {"library": {"roots": [str(root)]}, "paths": {"/data/tv": str(root / "tv")}})
    yield svc
    svc.store.close()


def resolve(services, event):
    return services.hook.syncdub_resolve_item(event=event, services=services)


def test_a_server_path_is_mapped_and_parsed(services, tmp_path):
    event = LibraryEvent(source="sonarr-like", path="/data/tv/Show (2008)/Season 02/Show - S02E05 - Name.mkv",
                         provider_ids={"tvdb": "81189"}, audio_languages=["eng"])
    item = resolve(services, event)
    assert item.path == str(tmp_path / "media/tv/Show (2008)/Season 02/Show - S02E05 - Name.mkv")
    assert (item.kind, item.series, item.season, item.episode, item.year) == ("episode", "Show", 2, 5, 2008)
    assert item.provider_ids == {"tvdb": "81189"} and item.audio_languages == ["eng"]


def test_the_event_metadata_wins_over_the_name(services, tmp_path):
    path = str(tmp_path / "media/tv/Show (2008)/Season 02/odd name.mkv")
    item = resolve(services, LibraryEvent(source="cli", kind="episode", path=path, series="Show", season=2, episode=7))
    assert (item.kind, item.season, item.episode) == ("episode", 2, 7)


def test_a_path_outside_the_roots_is_refused(services, tmp_path):
    with pytest.raises(PathNotAllowedError, match="outside the configured library roots"):
        resolve(services, LibraryEvent(source="cli", path=str(tmp_path / "elsewhere/film.mkv")))


def test_a_symlink_out_of_the_roots_is_refused(services, tmp_path):
    (tmp_path / "secret").mkdir()
    (tmp_path / "media/link").symlink_to(tmp_path / "secret")
    with pytest.raises(PathNotAllowedError):
        resolve(services, LibraryEvent(source="cli", path=str(tmp_path / "media/link/film.mkv")))


def test_an_event_without_a_path_is_left_to_other_plugins(services):
    assert resolve(services, LibraryEvent(source="plex", item_id="123")) is None
