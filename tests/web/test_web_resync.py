"""Manual re-sync: browse inside the library roots only, pick files, queue a job."""
from __future__ import annotations

import html
import os
import re

import pytest
from web_site import page_token

from syncdub_companion import jobs


@pytest.fixture
def tree(site, tmp_path):
    movies = site.root / "Movies"
    (movies / "Film (2001)").mkdir()
    (movies / "Film (2001)" / "Film (2001).mkv").write_bytes(b"x")
    (movies / "Film (2001)" / "Film.de.mka").write_bytes(b"x")
    (movies / "Film (2001)" / "notes.txt").write_text("not media")
    (movies / ".hidden.mkv").write_bytes(b"x")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.mkv").write_bytes(b"x")
    os.symlink(outside, movies / "escape")  # a folder link out of the library
    os.symlink(outside / "secret.mkv", movies / "linked.mkv")
    return movies, outside


def test_roots_are_listed_first(site, user):
    html = user.get("/resync").get_data(as_text=True)
    assert str(site.root) in html


def test_folder_lists_media_but_not_hidden_other_or_escaping_entries(site, user, tree):
    movies, _ = tree
    listing = user.get("/resync", query_string={"dir": str(movies)}).get_data(as_text=True)
    assert "Film (2001)/" in listing
    assert "escape" not in listing and "linked.mkv" not in listing and ".hidden.mkv" not in listing
    inner = user.get("/resync", query_string={"dir": str(movies / "Film (2001)")}).get_data(as_text=True)
    assert 'data-pick-original="Film (2001).mkv"' in inner
    assert 'data-pick-dub="Film.de.mka"' in inner and 'data-pick-original="Film.de.mka"' not in inner
    assert "notes.txt" not in inner


@pytest.mark.parametrize("make_path", [
    lambda root, out: f"{root}/../outside",            # ../ traversal
    lambda root, out: "/etc",                          # absolute path elsewhere
    lambda root, out: f"{root}/Movies/escape",         # symlink out of the root
    lambda root, out: f"{root}/Movies/escape/../../..",
])
@pytest.mark.parametrize("param", ["dir", "original", "dubbed"])
def test_paths_outside_the_roots_are_403(site, user, tree, make_path, param):
    response = user.get("/resync", query_string={param: make_path(site.root, tree[1])})
    assert response.status_code == 403
    # an original is written, so only the library will do; a dub (and its folder) may be in a dub root too
    expected = "outside the configured library roots" if param == "original" else \
        "outside library.roots and counterparts.dub_roots"
    assert expected in response.get_data(as_text=True)


def test_a_dub_root_outside_the_library_can_be_browsed_for_the_dub_only(site, user, tree, tmp_path):
    downloads = tmp_path / "downloads" / "de"
    downloads.mkdir(parents=True)
    (downloads / "Film.2001.German.mkv").write_bytes(b"x")
    site.services.config.data["counterparts"]["dub_roots"] = {"de": str(downloads)}
    roots = user.get("/resync").get_data(as_text=True)
    assert "Dub folders" in roots and str(downloads) in roots
    listing = user.get("/resync", query_string={"dir": str(downloads)}).get_data(as_text=True)
    assert 'data-pick-dub="Film.2001.German.mkv"' in listing
    assert 'data-pick-original="Film.2001.German.mkv"' not in listing  # never written, so never an original
    original = tree[0] / "Film (2001)" / "Film (2001).mkv"
    dub = downloads / "Film.2001.German.mkv"
    token = page_token(user, "/resync")
    assert user.post("/resync", data={"csrf_token": token, "original": str(dub)}).status_code == 403
    assert user.post("/resync", data={"csrf_token": token, "original": str(original),
                                      "dubbed": str(dub)}).status_code == 302
    [job] = jobs.list_jobs(site.services.store)
    assert (job.original, job.dubbed) == (str(original), str(dub))


def test_queue_refuses_outside_files_and_symlinked_ones(site, user, tree):
    movies, outside = tree
    token = page_token(user, "/resync")
    for original in (str(outside / "secret.mkv"), str(movies / "linked.mkv"), f"{movies}/../../outside/secret.mkv"):
        response = user.post("/resync", data={"csrf_token": token, "original": original})
        assert response.status_code == 403, original
    response = user.post("/resync", data={"csrf_token": token, "original": str(movies / "Film (2001)" / "Film (2001).mkv"),
                                          "dubbed": str(outside / "secret.mkv")})
    assert response.status_code == 403
    assert jobs.list_jobs(site.services.store) == []


def test_queue_creates_a_web_job_and_opens_it(site, user, tree):
    movies, _ = tree
    original = movies / "Film (2001)" / "Film (2001).mkv"
    dub = movies / "Film (2001)" / "Film.de.mka"
    page = user.get("/resync", query_string={"dir": str(original.parent), "original": str(original), "dubbed": str(dub)})
    picked = page.get_data(as_text=True)
    assert f'data-picked="original">{original}<' in picked and f'data-picked="dubbed">{dub}<' in picked
    response = user.post("/resync", data={"csrf_token": page_token(user, "/resync"), "original": str(original),
                                          "dubbed": str(dub), "language": "DE", "mode": "beside", "force": "on"})
    [job] = jobs.list_jobs(site.services.store)
    assert response.headers["Location"] == f"/jobs/{job.id}"
    assert (job.original, job.dubbed, job.language, job.source) == (str(original), str(dub), "de", "web")
    assert job.mode == "beside" and job.force is True and job.state == "queued"


def test_dub_is_optional(site, user, tree):
    original = tree[0] / "Film (2001)" / "Film (2001).mkv"
    user.post("/resync", data={"csrf_token": page_token(user, "/resync"), "original": str(original)})
    [job] = jobs.list_jobs(site.services.store)
    assert job.dubbed is None and job.language is None


@pytest.mark.parametrize("data, message", [
    ({}, "pick the original file first"),
    ({"language": "german!"}, "2- or 3-letter code"),
    ({"mode": "sideways"}, "mode 'sideways'"),
    ({"dubbed": "SAME"}, "the same file"),
])
def test_bad_queue_requests_are_400(site, user, tree, data, message):
    original = str(tree[0] / "Film (2001)" / "Film (2001).mkv")
    form = {"csrf_token": page_token(user, "/resync"), **({"original": original} if data else {}), **data}
    if form.get("dubbed") == "SAME":
        form["dubbed"] = original
    response = user.post("/resync", data=form)
    assert response.status_code == 400
    assert message in html.unescape(response.get_data(as_text=True))
    assert jobs.list_jobs(site.services.store) == []


def test_a_folder_is_not_a_file(site, user, tree):
    response = user.post("/resync", data={"csrf_token": page_token(user, "/resync"), "original": str(tree[0])})
    assert response.status_code == 400 and "not a file" in response.get_data(as_text=True)


def test_without_roots_nothing_can_be_browsed(site, user):
    site.services.config.data["library"]["roots"] = []
    assert "No library.roots are configured" in user.get("/resync").get_data(as_text=True)
    assert user.get("/resync", query_string={"dir": "/"}).status_code == 403


def test_picks_survive_browsing_and_picking_the_other_file(site, user, tree):
    folder = tree[0] / "Film (2001)"
    original, dub = folder / "Film (2001).mkv", folder / "Film.de.mka"
    page = user.get("/resync", query_string={"dir": str(folder), "original": str(original)})
    link = re.search(r'href="([^"]+)" data-pick-dub="Film.de.mka"', page.get_data(as_text=True)).group(1)
    picked = user.get(html.unescape(link)).get_data(as_text=True)
    assert f'data-picked="original">{original}<' in picked and f'data-picked="dubbed">{dub}<' in picked
    up = re.search(r'<li class="dir up"><a href="([^"]+)"', picked).group(1)
    parent = user.get(html.unescape(up)).get_data(as_text=True)
    assert f'data-picked="original">{original}<' in parent  # going up keeps them too


def test_nul_in_a_path_is_400_not_a_crash(site, user, tree):
    assert user.get("/resync", query_string={"dir": "/x\x00y"}).status_code == 400
    response = user.post("/resync", data={"csrf_token": page_token(user, "/resync"), "original": "a\x00b"})
    assert response.status_code == 400 and "NUL" in response.get_data(as_text=True)


@pytest.mark.parametrize("name", ["a" * 256, "ä" * 128])
def test_an_overlong_file_name_is_a_400_not_a_500(site, user, name):
    # 256 characters, or 256 bytes of UTF-8: either makes every file call raise ENAMETOOLONG
    path = str(site.root / "Movies" / name)
    browsed = user.get("/resync", query_string={"dir": path})
    assert browsed.status_code == 400 and "longer than 255 bytes" in browsed.get_data(as_text=True)
    token = page_token(user, "/resync")
    for field in ("original", "dubbed"):
        posted = user.post("/resync", data={"csrf_token": token, field: path,
                                            "original": str(site.root / "Movies" / "x.mkv") if field == "dubbed" else path})
        assert posted.status_code == 400, field
    assert site.services.store.count("jobs") == 0


def test_a_255_byte_name_is_still_a_name(site, user):
    path = site.root / "Movies" / ("b" * 255)
    path.mkdir()
    assert user.get("/resync", query_string={"dir": str(path)}).status_code == 200
