"""The plex plugin: resolve webhook events through Plex, rescan only changed folders, `syncdub check`."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from syncdub_companion.errors import ServerError
from syncdub_companion.media import LibraryEvent, MediaItem
from syncdub_companion.testing import make_services
from tests.servers.fake_plex import FakePlex, movie

import plugins.plex as plex_plugin

TOKEN = "plex-token-xyz"


@pytest.fixture
def plex():
    items = [movie(100, "Free Guy", "/data/movies/Free Guy (2021)/Free Guy.mkv", ["eng"], imdb="tt6264654")]
    with FakePlex(token=TOKEN, items=items) as fake:
        yield fake


@pytest.fixture
def svc(tmp_path, plex):
    local = tmp_path / "library" / "movies"
    services = make_services(tmp_path, {"plex": {"url": plex.url, "token": TOKEN},
                                        "paths": {"/data/movies": str(local)},
                                        "library": {"roots": [str(tmp_path / "library")]}})
    yield services
    services.store.close()


def test_resolve_maps_the_server_path_to_the_local_one(svc, tmp_path):
    item = svc.hook.syncdub_resolve_item(event=LibraryEvent(source="plex", item_id="100"), services=svc)
    assert item.path == str(tmp_path / "library" / "movies" / "Free Guy (2021)" / "Free Guy.mkv")
    assert item.provider_ids["imdb"] == "tt6264654" and item.server == "plex"


def test_resolve_ignores_other_sources_and_is_inert_without_url(svc, tmp_path, plex):
    assert plex_plugin.syncdub_resolve_item(LibraryEvent(source="jellyfin", item_id="100"), svc) is None
    (tmp_path / "bare").mkdir()
    bare = make_services(tmp_path / "bare")
    assert plex_plugin.syncdub_resolve_item(LibraryEvent(source="plex", item_id="100"), bare) is None
    assert plex_plugin.syncdub_check(bare) == []
    bare.store.close()
    assert len(plex.requests) == 0


def test_resolve_failure_is_a_typed_error(svc):
    with pytest.raises(ServerError, match="not found"):
        plex_plugin.syncdub_resolve_item(LibraryEvent(source="plex", item_id="555"), svc)


def test_library_changed_scans_each_folder_once_in_the_servers_view(svc, plex, tmp_path):
    local = tmp_path / "library" / "movies" / "Free Guy (2021)"
    paths = [str(local / "Free Guy.mkv"), str(local / "Free Guy.multi.mkv")]
    svc.hook.syncdub_library_changed(paths=paths, item=None, services=svc)
    assert plex.scans == [(1, "/data/movies/Free Guy (2021)")]


def test_library_changed_has_plex_analyse_a_file_rewritten_in_place(svc, plex, tmp_path):
    # a Sonarr or scan job: no ratingKey, so the item is found by its file in the library listing
    local = tmp_path / "library" / "movies" / "Free Guy (2021)"
    paths = [str(local / "Free Guy.mkv"), str(local / "Free Guy.multi.mkv")]  # the .multi file is new to Plex
    svc.hook.syncdub_library_changed(paths=paths, item=MediaItem(paths[0]), services=svc)
    assert plex.scans == [(1, "/data/movies/Free Guy (2021)")]
    assert plex.analyzed == [100]
    assert [m for m, raw in plex.requests if raw.startswith("/library/metadata/100/analyze")] == ["PUT"]
    order = [raw.split("?")[0] for _, raw in plex.requests if "/refresh" in raw or "/analyze" in raw]
    assert order == ["/library/sections/1/refresh", "/library/metadata/100/analyze"]  # the folder scan first


def test_library_changed_analyses_the_webhooks_item_by_its_rating_key(svc, plex, tmp_path):
    item = svc.hook.syncdub_resolve_item(event=LibraryEvent(source="plex", item_id="100"), services=svc)
    plex.requests.clear()
    svc.hook.syncdub_library_changed(paths=[item.path], item=item, services=svc)
    assert plex.analyzed == [100]
    assert not [raw for _, raw in plex.requests if "/all" in raw]  # no search through the listing


def test_library_changed_outside_every_library_warns_and_scans_nothing(svc, plex, caplog):
    caplog.set_level(logging.WARNING)
    plex_plugin.syncdub_library_changed(["/unmapped/x/y.mkv"], None, svc)
    assert plex.scans == [] and plex.analyzed == [] and "[paths]" in caplog.text


def test_library_changed_with_plex_down_raises_a_transient_error_for_the_retry(tmp_path, caplog):
    services = make_services(tmp_path, {"plex": {"url": "http://127.0.0.1:9", "token": TOKEN, "timeout": 1}})
    caplog.set_level(logging.WARNING)
    with pytest.raises(ServerError) as err:
        plex_plugin.syncdub_library_changed(["/data/movies/A/a.mkv"], None, services)
    assert err.value.transient and "cannot reach" in str(err.value)
    assert "will retry" in caplog.text and TOKEN not in caplog.text + str(err.value)
    services.store.close()


def test_library_changed_refused_by_plex_is_logged_not_raised(svc, plex, tmp_path, caplog):
    plex.token = "rotated"  # every request but /identity now answers 401
    caplog.set_level(logging.WARNING)
    local = tmp_path / "library" / "movies" / "Free Guy (2021)" / "Free Guy.mkv"
    plex_plugin.syncdub_library_changed([str(local)], None, svc)
    assert plex.scans == [] and "could not scan" in caplog.text


def _syncdub(*args, cwd):
    # The real console script, as a user runs it; no SYNCDUB_* variables leak in.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCDUB")}
    return subprocess.run([str(Path(sys.executable).parent / "syncdub"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def test_syncdub_check_prints_one_line_per_server(plex, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'[server]\ndata_dir = "{tmp_path / "data"}"\n[plex]\nurl = "{plex.url}"\ntoken = "{TOKEN}"\n')
    result = _syncdub("check", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok   plex: Fake Plex")
    config.write_text(config.read_text().replace(TOKEN, "wrong"))
    result = _syncdub("check", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 1 and "FAIL plex:" in result.stdout and "plex.token" in result.stdout
    assert "wrong" not in result.stdout + result.stderr


def test_registered_settings_validate_and_redact(svc):
    assert svc.config.get("plex.verify_ssl") is True and svc.config.get("plex.timeout") == 10
    assert svc.config.redacted()["plex"]["token"] == "********"


def test_localised_item_type(svc):
    item = plex_plugin.syncdub_resolve_item(LibraryEvent(source="plex", item_id="100"), svc)
    assert isinstance(item, MediaItem)
