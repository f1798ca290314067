"""Property-based fuzzing of every webhook receiver through the real app: never a 5xx.

Payloads start from a real one per source, so the parsers are driven past their first
check, and then have values swapped for hostile ones (wrong types, NUL, "..", huge or
non-ASCII numbers, lone surrogates, deep nesting); raw bodies and forms are fuzzed too.
Example counts are bounded so the suite stays fast; the database is off so nothing is
written into the checkout.
"""
from __future__ import annotations

import copy
import json
import os

import pytest
from hookutil import TOKEN
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncdub_companion.paths import is_inside, server_to_local
from syncdub_companion.testing import make_services
from syncdub_companion.web.app import create_app

FUZZ = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
ANSWERS = {200, 202, 400, 403, 413}

EMBY = {"Event": "library.new", "Server": {"Id": "srv"},
        "Item": {"Type": "Episode", "Id": "4242", "Name": "Pilot", "Path": "/media/TV/Show/Season 01/Show - S01E01.mkv",
                 "SeriesName": "Show", "ParentIndexNumber": 1, "IndexNumber": 1, "ProductionYear": 2020,
                 "ProviderIds": {"Tvdb": "1", "Imdb": "tt1"},
                 "MediaStreams": [{"Type": "Audio", "Language": "eng"}]}}
BASES = {
    "plex": "plex/library.new_episode_captured.json",
    "jellyfin": "jellyfin/ItemAdded_Movie_SendAllProperties_captured_10.10.7.json",
    "sonarr": "sonarr/autoscan_testdata_westworld_Download_trimmed.json",
    "radarr": "radarr/autoscan_testdata_interstellar_Download_trimmed.json",
}
NASTY = ["", " ", "\x00", "..", "/", "/etc/passwd", "relative/Film.mkv", "/media/../../etc/shadow", "²", "٣٤",
         "0012345", "9" * 40, "/media/x\n2030 forged", "\ud800", "C:\\Movies\\x.mkv", "\\\\nas\\share\\x.mkv",
         "a" * 300, "/media/" + "b" * 256, "library.new", "Download", "ItemAdded", "Test", "Movie", "Episode",
         "movie", "episode"]
scalars = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
           | st.sampled_from(NASTY))
# Text no json.dumps of a Python value produces: nesting past the recursion limit, integers
# past Python's 4,300-digit limit.
hostile_bodies = (st.integers(900, 120_000).map(lambda n: "[" * n + "]" * (n % 2))
                  | st.integers(900, 60_000).map(lambda n: '{"a": ' * n)
                  | st.integers(31, 6000).map(lambda n: '{"year": ' + "7" * n + "}")
                  | st.integers(4301, 6000).map(lambda n: '{"Event": "library.new", "Item": {"Id": -' + "1" * n + "}}"))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=12) | st.sampled_from(NASTY), inner, max_size=4),
                           max_leaves=20)


def key_paths(node, trail=()):
    """Every path to a value in ``node``, containers included."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield trail + (key,)
        yield from key_paths(value, trail + (key,))


def apply_edits(base: dict, edits) -> dict:
    out = copy.deepcopy(base)
    for trail, value in edits:
        node = out
        for step in trail[:-1]:
            try:
                node = node[step]
            except (KeyError, IndexError, TypeError):
                break
        else:
            if isinstance(node, dict) or (isinstance(node, list) and isinstance(trail[-1], int)
                                          and trail[-1] < len(node)):
                node[trail[-1]] = value
    return out


def mutated(base: dict):
    paths = sorted(set(key_paths(base)), key=repr)
    return st.lists(st.tuples(st.sampled_from(paths), json_values), min_size=1, max_size=4).map(
        lambda edits: apply_edits(base, edits))


@pytest.fixture
def served(tmp_path):
    (tmp_path / "media").mkdir()
    svc = make_services(tmp_path, {"webhooks": {"token": TOKEN, "dedup_window": 0},
                                   "library": {"roots": [str(tmp_path / "media")]},
                                   "paths": {"/TV": str(tmp_path / "media"), "/Movies": str(tmp_path / "media")}})
    yield svc, create_app(svc).test_client()
    svc.store.close()


def base_payload(source: str, fixtures_dir) -> dict:
    return copy.deepcopy(EMBY) if source == "emby" else json.loads((fixtures_dir / BASES[source]).read_text())


def post(client, source: str, body: str | bytes, as_form: bool):
    if as_form:
        field = "payload" if source == "plex" else "data"
        return client.post(f"/webhooks/{source}?token={TOKEN}", data={field: body}, content_type="multipart/form-data")
    return client.post(f"/webhooks/{source}?token={TOKEN}", data=body, content_type="application/json")


def check(response, body) -> None:
    assert response.status_code in ANSWERS, (response.status_code, str(body)[:300])
    assert response.is_json and "\n" not in json.dumps(response.json), response.get_data(as_text=True)[:300]


def queued_paths_are_inside_the_roots(svc) -> None:
    """Whatever was queued names a file the worker may touch: intake refused the rest."""
    for job in svc.store.all("jobs"):
        path = (job.get("event") or {}).get("path")
        if path:
            local = server_to_local(path, svc.config.path_map)
            assert os.path.isabs(local) and is_inside(local, svc.config.library_roots), path


@pytest.mark.parametrize("source", ["plex", "jellyfin", "emby", "sonarr", "radarr"])
def test_mutated_real_payloads_never_cause_a_5xx(served, fixtures_dir, source):
    svc, client = served
    as_form = source in ("plex", "emby")

    @FUZZ
    @given(payload=mutated(base_payload(source, fixtures_dir)))
    def run(payload):
        body = json.dumps(payload)
        check(post(client, source, body, as_form), body)

    run()
    queued_paths_are_inside_the_roots(svc)


@pytest.mark.parametrize("source", ["plex", "jellyfin", "emby", "sonarr", "radarr"])
def test_arbitrary_json_and_bytes_never_cause_a_5xx(served, source):
    _, client = served

    @FUZZ
    @given(body=json_values.map(json.dumps) | st.binary(max_size=300) | st.text(max_size=200) | hostile_bodies,
           as_form=st.booleans())
    def run(body, as_form):
        if as_form and source not in ("plex", "emby"):
            as_form = False
        if as_form and isinstance(body, bytes):
            body = body.decode("latin-1")
        check(post(client, source, body, as_form), body)

    run()
