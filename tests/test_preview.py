"""Listening clips: rendered with real ffmpeg, the dub's clicks land where the map puts them."""
from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from syncdub_companion import preview
from syncdub_companion.align.timemap import Segment, TimeMap

SR = 48000
# A cut, then a PAL-like speed: dub 0-8 s plays at original 3-11 s; original 11-13 s has no
# dub; dub 8-20 s plays at original 13-25.5 s (24/25 dub seconds per original second).
MAP = TimeMap("aligned", 0.9, "", 0.96, [Segment(0.0, 8.0, 3.0, 11.0), Segment(8.0, 20.0, 13.0, 25.5)])
DUB_CLICKS = (3.0, 7.0, 9.0, 11.0)  # dub seconds
ORIG_CLICKS = (12.0,)  # original seconds


def _clicks(seconds: float, at, channels: int = 2) -> np.ndarray:
    audio = np.random.default_rng(3).standard_normal((int(seconds * SR), channels)).astype(np.float32) * 0.002
    for t in at:
        i = int(round(t * SR))
        audio[i: i + 48] = 0.8  # 1 ms square click
    return audio


def _write(path: Path, audio: np.ndarray) -> Path:
    """A FLAC-in-Matroska file (lossless, so a click stays where it was written)."""
    wav = path.with_suffix(".wav")
    with wave.open(str(wav), "wb") as out:
        out.setnchannels(audio.shape[1])
        out.setsampwidth(2)
        out.setframerate(SR)
        out.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(wav), "-c:a", "flac", str(path)], check=True)
    return path


def _decode(path: Path) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-f", "f32le", "-ac", "2", "-ar", str(SR),
                          "pipe:1"], check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.float32).reshape(-1, 2)


def _click_times(channel: np.ndarray, threshold: float = 0.3) -> list[float]:
    """Seconds of each click: the loudest sample of each run above ``threshold``."""
    loud = np.flatnonzero(np.abs(channel) > threshold)
    groups = np.split(loud, np.flatnonzero(np.diff(loud) > SR // 20) + 1) if len(loud) else []
    return [float(g[np.argmax(np.abs(channel[g]))]) / SR for g in groups]


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    original = _write(folder / "orig.mkv", _clicks(28.0, ORIG_CLICKS))
    dubbed = _write(folder / "dub.mkv", _clicks(20.0, DUB_CLICKS))
    return preview.ClipSource(original, dubbed, MAP)


def _expected(moment: preview.Moment) -> list[float]:
    """Clip times of the dub clicks the map puts inside the window."""
    out = []
    for t in DUB_CLICKS:
        orig = MAP.to_orig(t)
        if orig is not None and moment.start <= orig < moment.start + moment.length:
            out.append(orig - moment.start)
    return out


def test_the_dub_clip_puts_each_click_where_the_map_says(source, tmp_path):
    moment = preview.Moment(9.0, 8.0)
    clip = preview.render(source, moment, "dub", tmp_path / "dub.m4a")
    audio = _decode(clip)
    assert len(audio) == pytest.approx(8.0 * SR, abs=SR * 0.05)
    got = _click_times(audio[:, 0])
    want = _expected(moment)  # 1.0 (speed 1), then 5.042 and 7.125 (after the cut, at 24/25)
    assert len(want) == 3 and len(got) == len(want), (got, want)
    assert np.abs(np.array(got) - want).max() < 0.004, (got, want)
    gap = audio[int(2.2 * SR): int(3.8 * SR)]  # original 11.2-12.8 s: the cut, where the map has no dub
    assert np.abs(gap).max() < 0.05


def test_the_mix_has_the_original_left_and_the_dub_right(source, tmp_path):
    moment = preview.Moment(9.0, 8.0)
    audio = _decode(preview.render(source, moment, "mix", tmp_path / "mix.m4a"))
    left, right = _click_times(audio[:, 0], 0.15), _click_times(audio[:, 1], 0.15)
    assert len(left) == 1 and abs(left[0] - (ORIG_CLICKS[0] - moment.start)) < 0.004, left
    assert len(right) == 3 and np.abs(np.array(right) - _expected(moment)).max() < 0.004, right


def test_the_original_clip_is_the_original_at_that_moment(source, tmp_path):
    audio = _decode(preview.render(source, preview.Moment(10.0, 8.0), "original", tmp_path / "o.m4a"))
    got = _click_times(audio[:, 0])
    assert len(got) == 1 and abs(got[0] - 2.0) < 0.004


def test_moments_are_spread_and_centred_on_segment_edges():
    # edges at original 40 s (a cut starts), 52 s (the dub resumes) and 200 s
    timemap = TimeMap("review", 0.6, "", 1.0, [Segment(0, 40, 0, 40), Segment(40, 188, 52, 200),
                                               Segment(188, 290, 200, 302)])
    found = preview.moments(timemap, 300.0)
    assert len(found) == 4  # 4 minutes or more: four moments, one per quarter
    edges = [m.edge for m in found]
    assert edges[0] == 40.0 and found[0].start == pytest.approx(36.0)  # of 40 and 52, the nearer the middle (37.5)
    assert edges[1] is None and found[1].start == pytest.approx(112.5 - 4.0)  # no edge: the middle
    assert edges[2] == 200.0 and found[2].start == pytest.approx(196.0)
    assert all(0 <= m.start <= 300 - m.length for m in found)
    assert all(b.start >= a.start + a.length for a, b in zip(found, found[1:]))


def test_short_and_long_films_get_three_to_five_moments():
    one = TimeMap("aligned", 0.9, "", 1.0, [Segment(0, 7200, 1, 7201)])
    assert len(preview.moments(one, 60.0)) == 3
    assert len(preview.moments(one, 7200.0)) == 5
    assert len(preview.moments(one, 12.0)) == 1  # only one 8 s clip fits


def test_the_cache_keeps_under_its_limit_and_drops_stale_maps(tmp_path):
    cache = preview.ClipCache(tmp_path, limit=250_000)

    def make(out: Path) -> None:
        out.write_bytes(b"x" * 100_000)

    first = cache.get("7-de-aaaa", "0-8000-dub.m4a", make)
    again = cache.get("7-de-aaaa", "0-8000-dub.m4a", make)
    assert again == first and cache.rendered == 1  # a hit renders nothing
    cache.get("7-de-aaaa", "1-8000-dub.m4a", make)
    cache.get("8-de-cccc", "0-8000-dub.m4a", make)  # 300 kB: the oldest clip goes
    assert not first.exists() and sum(p.stat().st_size for p in tmp_path.rglob("*.m4a")) <= 250_000
    cache.get("7-de-bbbb", "0-8000-dub.m4a", make)  # job 7's map changed: its old folder goes
    assert not (tmp_path / "7-de-aaaa").exists() and (tmp_path / "8-de-cccc").exists()
