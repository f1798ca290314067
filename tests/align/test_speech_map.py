"""Speech as map evidence, end to end: a talk-heavy pair whose bed matches over less than
half the film (the dub's music differs in the middle), so the bed alone rejects it, and a
different film with the same music where it is shared. Real drascula speech, real
Whisper; each pair is aligned once per module.
"""
from __future__ import annotations

import numpy as np
import pytest

from syncdub_companion.align import align
from syncdub_companion.testing import cache_dir
from tests.align.speech_clips import LINES, OTHER_LINES, RATE, codec_delay, encode, music, place, stereo, timeline, \
    write_wav

pytestmark = pytest.mark.slow

SETTINGS = {"model_dir": str(cache_dir() / "models")}
NAMES = list(LINES)
GAPS = [1.5] * len(NAMES)
DUB_DELAY = 1.7
# Master seconds where the dub has other music over the same lines (a localised score):
# from 21 s to the end, over half of the ~46 s film. The bed places the first 20 s; no
# stretch after the swap matches, so nothing but speech says the rest is the same film.
SWAPPED = (21.0, 90.0)


def _bed_for_dub(bed: np.ndarray, other: np.ndarray, length: int) -> np.ndarray:
    """The original's bed on the dub's timeline (DUB_DELAY later), other music over SWAPPED."""
    out = np.zeros(length, np.float32)
    shift = int(DUB_DELAY * RATE)
    out[shift:] = bed[: length - shift]
    a, b = (min(length, int((t + DUB_DELAY) * RATE)) for t in SWAPPED)
    out[a:b] = other[a:b]
    return out


@pytest.fixture(scope="module")
def pairs(tmp_path_factory, drascula):
    """The Spanish original, its English dub and a different English film: stereo, the
    lines in the middle, the music in the side signal (a dialogue-free bed)."""
    folder = tmp_path_factory.mktemp("talky")
    master = timeline(drascula, NAMES, GAPS)
    orig = place(drascula, "es", master)
    dub = place(drascula, "en", {n: master[n] + DUB_DELAY for n in NAMES})
    other = place(drascula, "en", {o: master[n] + DUB_DELAY for o, n in zip(OTHER_LINES, NAMES)})
    n = max(len(dub.audio), len(other.audio))
    dub_audio, other_audio = (np.pad(x.audio, (0, n - len(x.audio))) for x in (dub, other))
    bed = music(drascula, 3, n / RATE + 1, level=0.15)
    dub_bed = _bed_for_dub(bed, music(drascula, 9, n / RATE + 1, level=0.15), n)
    mixes = {"orig": stereo(orig.audio, bed, phase=-1.0), "dub": stereo(dub_audio, dub_bed, phase=-1.0),
             "other": stereo(other_audio, dub_bed, phase=-1.0)}
    codecs = {"orig": ("ac3", "spa"), "dub": ("aac", "eng"), "other": ("aac", "eng")}
    paths = {k: str(encode(write_wav(folder / f"{k}.wav", mixes[k]), folder / f"{k}.mkv", *codecs[k]))
             for k in mixes}
    # the decoded timelines include encoder priming (AAC 1024 samples, AC3 256)
    lag = codec_delay(paths["orig"], mixes["orig"]) - codec_delay(paths["dub"], mixes["dub"])
    return {"paths": paths, "truth": lambda t: t - DUB_DELAY + lag, "dub": dub}


@pytest.fixture(scope="module")
def without_speech(pairs):
    p = pairs["paths"]
    return align(p["orig"], p["dub"], {"speech": "never"})


@pytest.fixture(scope="module")
def with_speech(pairs):
    p = pairs["paths"]
    return align(p["orig"], p["dub"], {"speech": "auto", "speech_settings": SETTINGS, "device": "cpu"})


def test_the_bed_alone_rejects_on_coverage_and_keeps_its_candidates(without_speech):
    assert without_speech.verdict == "rejected", without_speech.reason
    assert "of the dub matches the original" in without_speech.reason
    assert without_speech.segments == [] and without_speech.details["candidates"]
    assert 0.3 <= without_speech.details["coverage"] < 0.5


def test_matched_lines_carry_the_map_over_the_swapped_music_at_the_beds_offset(pairs, with_speech):
    """Speech confirms that the lines after the bed's segment land on its line: the edge is
    carried over them, aligned, and every mapped point within 40 ms of the truth (the
    offset stays the bed's)."""
    result = with_speech
    assert result.verdict == "aligned", result.reason
    assert result.details["coverage"] >= 0.9, result.details.get("speech_mapped_s")
    assert result.details["speech_mapped_s"]["edge"] > 20
    truth = pairs["truth"]
    for seg in result.segments:
        for t in np.linspace(seg.dub_start, seg.dub_end, 25):
            assert abs(seg.to_orig(t) - truth(t)) <= 0.04, (seg, t)
    # nothing mapped from the dub's lead-in, which the original lacks
    assert min(s.dub_start for s in result.segments) >= DUB_DELAY - 0.3


def test_a_different_film_sharing_the_music_stays_rejected_with_speech(pairs):
    p = pairs["paths"]
    # two 12 s windows of the original are enough to find that nothing matches
    settings = {**SETTINGS, "windows": 2, "window_seconds": 12.0}
    result = align(p["orig"], p["other"], {"speech": "auto", "speech_settings": settings, "device": "cpu"})
    assert result.verdict == "rejected" and result.segments == [], result.reason
    assert "speech" in result.reason
