"""The probe path: windows of both files prove a map, or the full decode decides."""
from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks.corpus import build_pair
from benchmarks.evaluate import evaluate
from syncdub_companion.align import align
from syncdub_companion.align.decode import SAMPLE_RATE, bed_kinds, decode_pair, select_stream
from syncdub_companion.align.probe import CHECK_MARGIN, CHECK_S, Reader, place_check
from syncdub_companion.tools.ffprobe import FFprobe

# Windows are worth it from 20 minutes; these pairs are shorter, so the floor comes down (the
# windows then overlap, and at 60 s the ends' windows are too short for the full engine).
PROBE = {"speech": "never", "read": "probe", "probe_min_duration": 30}
FULL = {"speech": "never"}


@pytest.fixture
def pairs(pairs_dir):
    return pairs_dir


def _proved(case: str, duration: float, pairs):
    """The probe path's map of a pair, asserted to come from the windows and to meet the targets."""
    pair = build_pair(case, "es-en", duration, pairs, reuse=True)
    result = align(str(pair.original), str(pair.dubbed), PROBE)
    assert result.details["read"] == "probe", result.details.get("probe")
    metrics = evaluate(result.to_dict(), pair)
    assert metrics["passed"], (metrics["failures"], result.segments)
    return result, pair


def test_an_offset_and_a_pal_speed_up_are_proved_from_windows(pairs):
    result, _ = _proved("pal_speedup_tempo", 150, pairs)
    assert result.details["probe"]["checks"]["matched"] >= 8


def test_where_the_edits_fill_most_of_the_film_the_full_decode_decides(pairs):
    pair = build_pair("missing_scenes", "es-en", 60, pairs, reuse=True)
    probed = align(str(pair.original), str(pair.dubbed), PROBE)
    full = align(str(pair.original), str(pair.dubbed), FULL)
    assert probed.details["probe"]["fell_back"]
    assert "read" not in probed.details
    assert probed.segments == full.segments
    assert evaluate(probed.to_dict(), pair)["passed"]


def test_cut_scenes_are_mapped_from_windows_around_each_cut(pairs):
    result, pair = _proved("missing_scenes", 1200, pairs)
    # the windows on either side of each cut disagree, and the engine maps between them
    assert len(result.details["probe"]["edits"]) >= 2
    assert result.details["probe"]["decoded_s"]["dubbed"] < 1200
    offsets = sorted({round(s.orig_start - s.dub_start / s.speed, 1) for s in result.segments})
    assert len(offsets) == len(pair.truth), result.segments
    json.dumps(result.to_dict())   # what `syncdub align --json` prints: the windows' details included


def test_a_window_across_a_cut_proves_nothing(pairs):
    pair = build_pair("missing_scenes", "es-en", 900, pairs, reuse=True)
    cut = next(t["dub_end"] for t in pair.truth if t["dub_end"] > 100)
    before = pair.truth[0]["orig_start"] - pair.truth[0]["dub_start"]
    orig, dub = _reader(pair.original), _reader(pair.dubbed)
    use_bed = orig.kind != "full"

    def placed(dub_start: float, offset: float):
        d = dub.read(dub_start, CHECK_S)
        o = orig.read(dub_start + offset - CHECK_MARGIN, CHECK_S + 2 * CHECK_MARGIN)
        return place_check(d, o, use_bed, 1.0, (dub_start + offset - o.start) * 100)

    clear = placed(cut - 25.0, before)
    assert clear is not None and abs(clear.orig - clear.dub - before) < 0.02
    assert placed(cut - 6.0, before) is None   # 6 s before the cut, 9 s after it


def test_a_different_episode_is_never_aligned_by_the_windows(pairs):
    pair = build_pair("wrong_film", "en-es", 60, pairs, reuse=True)
    result = align(str(pair.original), str(pair.dubbed), PROBE)
    assert result.details["probe"]["fell_back"]
    assert result.verdict == "rejected"


def test_a_short_film_is_read_in_full(pairs):
    pair = build_pair("offset_pos", "es-en", 60, pairs, reuse=True)
    result = align(str(pair.original), str(pair.dubbed), {"speech": "never", "read": "probe"})
    assert "shorter than 1200" in result.details["probe"]["fell_back"]
    assert result.segments == align(str(pair.original), str(pair.dubbed), FULL).segments


def _reader(path) -> Reader:
    stream = select_stream(FFprobe(), str(path), None, "test")
    kind = bed_kinds(stream, stream)[0]
    return Reader("ffmpeg", str(path), stream, kind, float(stream.duration))


def _full_mix(path) -> np.ndarray:
    stream = select_stream(FFprobe(), str(path), None, "test")
    kind = bed_kinds(stream, stream)[0]
    return decode_pair("ffmpeg", [(str(path), stream, kind)])[0].full.astype(np.float64)


@pytest.mark.parametrize("case,role", [("pal_speedup_tempo", "dubbed"), ("combo", "dubbed"), ("offset_pos", "original")])
def test_a_window_lands_where_the_full_decode_has_it(case, role, pairs):
    """Opus in Matroska seeks 8 ms early off a cluster's start; the calibration must find that,
    and every other container must stay exact."""
    pair = build_pair(case, "es-en", 60, pairs, reuse=True)
    path = pair.dubbed if role == "dubbed" else pair.original
    reader = _reader(path)
    reader.calibrate()
    full = _full_mix(path)
    for start in (21.23, 37.71):
        window = reader.read(start, 5.0)
        got = window.track.full.astype(np.float64)[800:]   # past a decoder's pre-roll after the seek
        at = int(round(window.start * SAMPLE_RATE)) + 800
        errors = [np.abs(full[at + k:at + k + len(got)] - got).mean() for k in (-1, 0, 1)]
        assert min(errors) < 0.05 * np.abs(got).mean(), (path.name, reader.seek_shift, errors)


def test_what_a_window_reads_is_counted(pairs):
    pair = build_pair("offset_pos", "es-en", 60, pairs, reuse=True)
    reader = _reader(pair.original)
    reader.read(30.0, 5.0)
    # at least the window's share of the file (how little a long film's windows read is
    # measured by benchmarks/align_speed.py, on files of several GB)
    assert reader.read_bytes >= 5 / 60 * pair.original.stat().st_size
