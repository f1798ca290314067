"""The job page's listening clips: players per moment, served behind the login, cached,
and made only from the job's own files."""
from __future__ import annotations

import os
import re
import subprocess

import pytest
from web_site import make_site

from syncdub_companion import jobs
from syncdub_companion.align.timemap import Segment, TimeMap
from tests.test_preview import _click_times, _clicks, _decode, _write

MAP = TimeMap("aligned", 0.9, "", 1.0, [Segment(0.0, 14.0, 1.5, 15.5), Segment(16.0, 29.0, 16.0, 29.0)])


@pytest.fixture
def clip_job(site):
    folder = site.root / "Movies"
    original = _write(folder / "Film (2001).mkv", _clicks(30.0, (10.0,)))
    dubbed = _write(folder / "Film (2001).de.mkv", _clicks(30.0, (8.5,)))
    job_id = jobs.create(site.services.store, original=str(original), language="de", source="web")
    entry = {"status": "done", "output_path": str(original), "timemap": MAP.to_dict(with_anchors=True),
             "plan": {"orig_track": 0, "dub_track": 0}}
    jobs.update(site.services.store, job_id, merged={"de": entry}, plan={"de": {"path": str(dubbed)}})
    jobs.set_state(site.services.store, job_id, "done", progress=100.0, result={"languages": {"de": entry}})
    return job_id, original, dubbed


def _clip_urls(html: str) -> list[str]:
    return re.findall(r'<audio[^>]*\bsrc="([^"]+)"', html)


def test_the_job_page_offers_three_moments_with_three_clips_each(site, user, clip_job):
    job_id, *_ = clip_job
    html = user.get(f"/jobs/{job_id}").get_data(as_text=True)
    urls = _clip_urls(html)
    assert len(urls) == 9 and urls[0] == f"/jobs/{job_id}/clips/de/0/original.m4a"
    assert "segment edge 15.5 s" in html  # the first third's clip is centred on the map's cut


def test_a_clip_is_served_as_audio_and_cached(site, user, clip_job):
    job_id, _, dubbed = clip_job
    url = f"/jobs/{job_id}/clips/de/0/mix.m4a"
    first = user.get(url)
    assert first.status_code == 200 and first.mimetype == "audio/mp4"
    body = first.get_data()
    assert body[4:8] == b"ftyp" and len(body) > 20_000  # an MP4 of 8 s of stereo AAC
    cached = list((site.services.config.data_dir / "previews").rglob("*.m4a"))
    assert len(cached) == 1
    inode = cached[0].stat().st_ino
    partial = user.get(url, headers={"Range": "bytes=0-99"})  # what <audio> asks for
    assert partial.status_code == 206 and len(partial.get_data()) == 100
    assert cached[0].stat().st_ino == inode  # served again from the cache, not rendered again
    os.utime(dubbed, ns=(1, 1))  # the dub changed: its clips are made again
    assert user.get(url).status_code == 200
    again = list((site.services.config.data_dir / "previews").rglob("*.m4a"))
    assert len(again) == 1 and again[0] != cached[0]


def test_clips_need_a_login(site, clip_job):
    job_id, *_ = clip_job
    response = site.client().get(f"/jobs/{job_id}/clips/de/0/dub.m4a")
    assert response.status_code == 403
    assert not (site.services.config.data_dir / "previews").exists()


@pytest.mark.parametrize("tail", ["fr/0/dub.m4a", "de/3/dub.m4a", "de/0/passwd.m4a", "de/..%2F..%2Fetc/0/dub.m4a"])
def test_anything_but_the_jobs_own_clips_is_404(site, user, clip_job, tail):
    job_id, *_ = clip_job
    assert user.get(f"/jobs/{job_id}/clips/{tail}").status_code == 404
    assert user.get(f"/jobs/{job_id + 1}/clips/de/0/dub.m4a").status_code == 404


def test_a_dub_outside_the_roots_is_refused(site, user, clip_job, tmp_path):
    job_id, _, dubbed = clip_job
    outside = tmp_path / "elsewhere.mkv"
    outside.write_bytes(dubbed.read_bytes())
    jobs.update(site.services.store, job_id, plan={"de": {"path": str(outside)}})
    assert user.get(f"/jobs/{job_id}/clips/de/0/dub.m4a").status_code == 403


def test_a_map_held_for_review_has_clips_from_its_own_dub_track(site, user):
    """The align step's entry alone (no plan, no named dub: a finished job keeps neither) names
    the dub; of its two tracks the one tagged with the job's language is heard."""
    folder = site.root / "Movies"
    original = _write(folder / "Held (2003).mkv", _clicks(30.0, (10.0,)))
    eng = _write(folder / "eng.mkv", _clicks(30.0, ()))
    ger = _write(folder / "ger.mkv", _clicks(30.0, (4.0,)))  # plays at 5.5 s, inside moment 0 (0-8 s)
    dubbed = folder / "Held (2003).multi.mkv"
    subprocess.run(["mkvmerge", "-q", "-o", str(dubbed), "--language", "0:eng", str(eng), "--language", "0:ger",
                    str(ger)], check=True)
    store = site.services.store
    job_id = jobs.create(store, original=str(original), language="de", source="web")
    jobs.update(store, job_id, maps={"de": {"status": "review", "dubbed": str(dubbed),
                                            "timemap": TimeMap("review", 0.4, "weak", 1.0, MAP.segments).to_dict()}})
    jobs.set_state(store, job_id, "needs_review")
    assert len(_clip_urls(user.get(f"/jobs/{job_id}").get_data(as_text=True))) == 9
    clip = user.get(f"/jobs/{job_id}/clips/de/0/dub.m4a")
    assert clip.status_code == 200
    heard = site.root / "heard.m4a"
    heard.write_bytes(clip.get_data())
    times = _click_times(_decode(heard)[:, 0])
    assert len(times) == 1 and abs(times[0] - 5.5) < 0.004, times  # the ger track, not the first (eng)
