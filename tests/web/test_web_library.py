"""The library page: dubs per language, counted from real MKV files' audio tags."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from syncdub_companion.inventory import LibraryCounter

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")


def mkv(path, tracks: list[dict]) -> None:
    """A 0.2 s MKV with one silent audio track per entry of ``tracks`` (its stream tags)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    argv = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "0.2"]
    for i, tags in enumerate(tracks):
        argv += ["-map", "0:a"]
        for key, value in tags.items():
            argv += [f"-metadata:s:a:{i}", f"{key}={value}"]
    subprocess.run(argv + ["-c:a", "pcm_s16le", str(path)], check=True)


@pytest.fixture
def library(site):
    movies = site.root / "Movies"
    mkv(movies / "A (2001).mkv", [{"language": "eng"}, {"language": "ger", "SYNCDUB_SOURCE": "A.de.mkv"}])
    mkv(movies / "B (2002).mkv", [{"language": "eng"}, {"language": "deu", "title": "Deutsch"}])
    mkv(movies / "C (2003).mkv", [{"language": "eng"}])
    mkv(movies / "D (2004).mkv", [{"language": "eng"}, {"language": "fre", "title": "Français (SyncDub)"}])
    dubs = site.root / "dubs" / "de"
    mkv(dubs / "A.de.mkv", [{"language": "ger"}])  # a dub source, not an original
    site.services.config.data["counterparts"]["dub_roots"] = {"de": str(dubs)}
    return movies


def test_counts_per_wanted_language(site, user, library):
    html = user.get("/library").get_data(as_text=True)
    assert "4 video file(s)" in html
    row = html[html.index("<strong>de</strong>"):]
    cells = [c.split("<")[0] for c in row.split("<td>")[1:4]]
    assert cells == ["1", "1", "2"]  # synced by us, dubbed elsewhere, lacking


def test_all_languages_when_none_are_wanted(site, library):
    site.services.config.data["library"]["languages"] = []
    rows = {r["language"]: r for r in LibraryCounter().summary(site.services)["rows"]}
    assert set(rows) == {"en", "de", "fr"}
    assert (rows["fr"]["synced"], rows["fr"]["lacking"]) == (1, 3)  # the title marks it as ours
    assert rows["en"]["lacking"] == 0


def test_files_are_probed_once_until_they_change(site, library):
    counter = LibraryCounter()
    counter.summary(site.services)
    path = library / "C (2003).mkv"
    cached = counter.facts(path)
    assert cached is not None and cached.languages == {"en"}
    mkv(path, [{"language": "eng"}, {"language": "ger"}])
    assert counter.facts(path) is None  # changed on disk: read again
    rows = {r["language"]: r for r in counter.summary(site.services)["rows"]}
    assert rows["de"]["other"] == 2


def test_probe_budget_leaves_files_for_the_next_view(site, library):
    summary = LibraryCounter().summary(site.services, budget=0)
    assert summary["unread"] == 4 and summary["files"] == 4


def test_unreadable_file_counts_as_lacking(site, library):
    (library / "broken.mkv").write_bytes(b"not a matroska file")
    rows = {r["language"]: r for r in LibraryCounter().summary(site.services)["rows"]}
    assert rows["de"]["total"] == 5 and rows["de"]["lacking"] == 3
