"""File paths at intake (webhooks/intake.py): refused with the reason, normalised for the dedup window."""
from __future__ import annotations

import json

import pytest
from hookutil import TOKEN, jobs_of

from syncdub_companion.testing import make_services
from syncdub_companion.web.app import create_app


@pytest.fixture
def library(tmp_path):
    root = tmp_path / "media"
    (root / "Movies" / "Film (2001)").mkdir(parents=True)
    return root


@pytest.fixture
def site(tmp_path, library):
    svc = make_services(tmp_path, {"webhooks": {"token": TOKEN}, "library": {"roots": [str(library)]},
                                   "paths": {"/data/movies": str(library / "Movies")}})
    yield svc, create_app(svc).test_client()
    svc.store.close()


def radarr(client, path: str):
    body = {"eventType": "Download", "movie": {"title": "Film", "year": 2001}, "movieFile": {"path": path}}
    return client.post(f"/webhooks/radarr?token={TOKEN}", data=json.dumps(body), content_type="application/json")


def emby(client, path: str, item_id: str = "77"):
    body = {"Event": "library.new", "Item": {"Type": "Movie", "Id": item_id, "Name": "Film", "Path": path}}
    return client.post(f"/webhooks/emby?token={TOKEN}", json=body)


@pytest.mark.parametrize("path,status,needle", [
    ("/etc/passwd", 403, "outside library.roots"),
    ("..", 400, "not an absolute path"),
    ("Movies/Film (2001)/Film.mkv", 400, "not an absolute path"),
    ("C:\\Movies\\Film.mkv", 400, "not an absolute path"),
    ("/media/x\x00.mkv", 400, "NUL"),
    ("/data/movies/" + "n" * 300 + ".mkv", 400, "longer than 255 bytes"),
])
def test_bad_paths_are_refused_at_intake_with_the_reason(site, path, status, needle):
    svc, client = site
    for response in (radarr(client, path), emby(client, path)):
        assert response.status_code == status and needle in response.json["error"], response.json
    assert jobs_of(svc) == []


def test_a_dotdot_escape_from_the_library_is_outside_the_roots(site, library):
    svc, client = site
    response = radarr(client, f"{library}/Movies/" + "../" * 30 + "etc/passwd")
    assert response.status_code == 403 and "'/etc/passwd'" in response.json["error"]
    assert jobs_of(svc) == []


def test_outside_the_roots_names_the_paths_mapping_for_docker_users(site):
    _, client = site
    error = radarr(client, "/movies/Film (2001)/Film.mkv").json["error"]
    assert "[paths]" in error and "radarr" in error and "library.roots" in error
    assert "\n" not in error


def test_a_mapped_path_inside_the_roots_is_queued_as_the_server_sees_it(site):
    svc, client = site
    response = radarr(client, "/data/movies/Film (2001)/Film.mkv")
    assert response.status_code == 202
    assert jobs_of(svc)[0]["event"]["path"] == "/data/movies/Film (2001)/Film.mkv"


def test_one_bad_file_refuses_a_whole_season_pack(site, library):
    svc, client = site
    body = {"eventType": "Download", "series": {"title": "Show", "path": str(library / "TV")},
            "episodeFiles": [{"relativePath": "S01E01.mkv"}, {"path": "/etc/shadow"}]}
    response = client.post(f"/webhooks/sonarr?token={TOKEN}", json=body)
    assert response.status_code == 403 and jobs_of(svc) == []


def test_without_roots_only_the_path_text_is_checked(tmp_path):
    svc = make_services(tmp_path, {"webhooks": {"token": TOKEN}})
    client = create_app(svc).test_client()
    assert radarr(client, "relative/Film.mkv").status_code == 400
    assert radarr(client, "/anywhere/Film.mkv").status_code == 202  # the job names the missing roots
    svc.store.close()


def test_spellings_of_one_file_make_one_job(site):
    svc, client = site
    spellings = ["/data/movies/Film (2001)/Film.mkv", "/data/movies//Film (2001)//Film.mkv",
                 "/data/movies/./Film (2001)/./Film.mkv", "/data/movies/x/../Film (2001)/Film.mkv",
                 "//data/movies/Film (2001)/Film.mkv"]
    answers = [radarr(client, p).json for p in spellings]
    assert [a["duplicate"] for a in answers] == [False] + [True] * 4, answers
    assert len({a["job_id"] for a in answers}) == 1
    assert len(jobs_of(svc)) == 1


def test_windows_spellings_of_one_file_make_one_job(tmp_path, library):
    svc = make_services(tmp_path, {"webhooks": {"token": TOKEN}, "library": {"roots": [str(library)]},
                                   "paths": {"D:\\Media": str(library)}})
    client = create_app(svc).test_client()
    for path in ("D:\\Media\\Movies\\Film.mkv", "D:\\Media\\\\Movies\\.\\Film.mkv", "D:/Media/Movies/x/../Film.mkv"):
        assert radarr(client, path).status_code == 202, path
    assert len(jobs_of(svc)) == 1
    svc.store.close()


def plex_new(rating_key):
    meta = {"type": "movie", "ratingKey": rating_key, "title": "Film", "year": 2001}
    return {"payload": json.dumps({"event": "library.new", "Metadata": meta})}


def test_plex_rating_keys_with_leading_zeros_are_one_item(site):
    svc, client = site
    answers = [client.post(f"/webhooks/plex?token={TOKEN}", data=plex_new(key), content_type="multipart/form-data").json
               for key in ("12345", "012345", "0012345", 12345)]
    assert len({a["job_id"] for a in answers}) == 1, answers
    assert jobs_of(svc)[0]["event"]["item_id"] == "12345"


@pytest.mark.parametrize("key", ["²", "١٢٣", "12a", "-5", "1" * 31, " "])
def test_plex_rating_key_must_be_ascii_digits(site, key):
    svc, client = site
    response = client.post(f"/webhooks/plex?token={TOKEN}", data=plex_new(key), content_type="multipart/form-data")
    assert response.status_code == 400 and "ratingKey" in response.json["error"], response.json
    assert jobs_of(svc) == []


def test_non_ascii_digits_are_not_numbers_anywhere(site):
    svc, client = site
    body = {"Event": "library.new", "Item": {"Type": "Episode", "Id": "9", "Name": "E", "ProductionYear": "٢٠٠١",
                                             "ParentIndexNumber": "²", "IndexNumber": "٣٤"}}
    assert client.post(f"/webhooks/emby?token={TOKEN}", json=body).status_code == 202
    event = jobs_of(svc)[0]["event"]
    assert (event["year"], event["season"], event["episode"]) == (None, None, None)
    sonarr = {"eventType": "Download", "series": {"title": "Show", "path": "/data/movies/Show"},
              "episodeFile": {"relativePath": "Show.S٠١E٠٢.mkv"}}
    assert client.post(f"/webhooks/sonarr?token={TOKEN}", json=sonarr).status_code == 202
    assert (jobs_of(svc)[1]["event"]["season"], jobs_of(svc)[1]["event"]["episode"]) == (None, None)
