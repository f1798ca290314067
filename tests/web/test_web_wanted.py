"""/wanted: per film, which wanted dub language it lacks, with a Sync button that queues its job."""
from __future__ import annotations

import html
import re
import shutil

import pytest
from test_web_library import mkv
from web_site import page_token

from syncdub_companion import jobs
from syncdub_companion.web import library as library_views

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")


@pytest.fixture
def films(site):
    movies = site.root / "Movies"
    mkv(movies / "Has (2001).mkv", [{"language": "eng"}, {"language": "ger"}])
    mkv(movies / "Lacks (2002).mkv", [{"language": "eng"}])
    mkv(movies / "Untagged (2003).mkv", [{}])
    site.services.config.data["library"]["languages"] = ["de", "fr"]
    return movies


def rows(page: str) -> dict[str, str]:
    """File name -> its table row's HTML."""
    return {html.unescape(m.group(1)): m.group(0)
            for m in re.finditer(r'<tr data-wanted="([^"]+)">.*?</tr>', page, re.S)}


def test_lists_each_film_with_the_languages_it_lacks(site, user, films):
    page = user.get("/wanted").get_data(as_text=True)
    found = rows(page)
    assert set(found) == {"Has (2001).mkv", "Lacks (2002).mkv", "Untagged (2003).mkv"}
    lacking = {name: re.findall(r'<code class="tag lacking">(\w+)</code>', row) for name, row in found.items()}
    assert lacking == {"Has (2001).mkv": ["fr"], "Lacks (2002).mkv": ["de", "fr"], "Untagged (2003).mkv": ["de", "fr"]}
    only_de = rows(user.get("/wanted", query_string={"language": "de"}).get_data(as_text=True))
    assert set(only_de) == {"Lacks (2002).mkv", "Untagged (2003).mkv"}


def test_sync_queues_the_films_job_once(site, user, films):
    original = films / "Lacks (2002).mkv"
    token = page_token(user, "/wanted")
    answer = user.post("/wanted/sync", data={"csrf_token": token, "original": str(original), "page": "1"})
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/wanted")
    queued = jobs.list_jobs(site.services.store)
    assert [(j.original, j.language, j.source, j.state) for j in queued] == [
        (str(original), None, "web", "queued")]
    page = user.get("/wanted").get_data(as_text=True)
    assert f"Job {queued[0].id} queued for Lacks (2002).mkv." in html.unescape(page)
    row = rows(page)["Lacks (2002).mkv"]
    assert "queued" in row and "disabled" in row and ">Queued</button>" in row  # the row shows its open job
    assert "disabled" not in rows(page)["Has (2001).mkv"]
    user.post("/wanted/sync", data={"csrf_token": token, "original": str(original)})
    assert len(jobs.list_jobs(site.services.store)) == 1  # already open: no second job
    assert f"Job {queued[0].id} is already open" in html.unescape(user.get("/wanted").get_data(as_text=True))


@pytest.mark.parametrize("original,status", [("/etc/passwd", 403), ("", 400), ("{root}/Movies/none.mkv", 400),
                                             ("{root}/../outside.mkv", 403)])
def test_sync_refuses_files_outside_the_library_or_missing(site, user, films, original, status):
    answer = user.post("/wanted/sync", data={"csrf_token": page_token(user, "/wanted"),
                                             "original": original.format(root=site.root)})
    assert answer.status_code == status
    assert jobs.list_jobs(site.services.store) == []


def test_sync_needs_the_csrf_token(site, user, films):
    answer = user.post("/wanted/sync", data={"original": str(films / "Lacks (2002).mkv")})
    assert answer.status_code == 400 and jobs.list_jobs(site.services.store) == []


def test_paginated(site, user, films, monkeypatch):
    for i in range(7):
        (films / f"Extra {i} (2010).mkv").write_bytes(b"not media: reads as untagged")
    monkeypatch.setattr(library_views, "PER_PAGE", 4)
    first = user.get("/wanted").get_data(as_text=True)
    second = user.get("/wanted", query_string={"page": 2}).get_data(as_text=True)
    last = user.get("/wanted", query_string={"page": 99}).get_data(as_text=True)
    assert "page 1 of 3 (10 files)" in first and 'rel="next"' in first and 'rel="prev"' not in first
    assert len(rows(first)) == 4 and len(rows(second)) == 4 and len(rows(last)) == 2  # 99 shows the last page
    assert not set(rows(first)) & set(rows(second))
    assert 'rel="prev"' in last and 'rel="next"' not in last


def test_nothing_wanted_without_languages(site, user, films):
    site.services.config.data["library"]["languages"] = []
    page = user.get("/wanted").get_data(as_text=True)
    assert "No dub language is wanted" in page and not rows(page)
