"""One table of media facts: /library, /wanted, /resync and `syncdub scan` agree on what a video is."""
from __future__ import annotations

import pytest

from syncdub_companion import media
from syncdub_companion.inventory import library_originals
from syncdub_companion.pipeline.scan import find_originals

# Before the table was shared, /library knew 8 of these, /resync 11 and the scan 14.
VIDEO = sorted(media.VIDEO_EXTS)


@pytest.fixture
def films(site):
    folder = site.root / "Movies"
    for i, ext in enumerate(VIDEO):
        (folder / f"Film {i} (20{i:02d}).{ext.upper() if i % 2 else ext}").write_bytes(b"x")
    (folder / "Film 0 (2000).de.mka").write_bytes(b"x")  # a sidecar dub: audio only, never an original
    (folder / "notes.txt").write_text("not media")
    return folder


def test_every_listing_finds_every_video_extension(site, user, films):
    scanned = find_originals(site.services, [str(site.root)])
    assert sorted(media.extension(p) for p in scanned) == VIDEO
    assert sorted(media.extension(p) for p in library_originals(site.services)) == VIDEO
    listing = user.get("/resync", query_string={"dir": str(films)}).get_data(as_text=True)
    originals = [name for name in (p.name for p in films.iterdir()) if f'data-pick-original="{name}"' in listing]
    assert sorted(media.extension(n) for n in originals) == VIDEO
    assert 'data-pick-dub="Film 0 (2000).de.mka"' in listing
    assert 'data-pick-original="Film 0 (2000).de.mka"' not in listing and "notes.txt" not in listing


def test_library_page_counts_the_scans_originals(site, user, films):
    html = user.get("/library").get_data(as_text=True)
    assert f"{len(VIDEO)} video file(s)" in html


@pytest.mark.parametrize("name,ext,video,any_media", [
    ("Film.MKV", "mkv", True, True), ("Film.m2ts", "m2ts", True, True), ("Film.divx", "divx", True, True),
    ("Film.de.mka", "mka", False, True), ("Film.srt", "srt", False, False), ("mkv", "", False, False),
    (".mkv", "", False, False), ("Film", "", False, False),
])
def test_extension_facts(name, ext, video, any_media):
    assert media.extension(f"/x/{name}") == ext
    assert media.is_video(name) is video and media.is_media(name) is any_media
