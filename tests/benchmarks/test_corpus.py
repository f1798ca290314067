"""The benchmark corpus itself: its truth must be exactly what the files contain."""
from __future__ import annotations

import math
import resource
import shutil
import zlib
from dataclasses import replace

import numpy as np
import pytest
from scipy import signal

from benchmarks.corpus import CASES, SR, Pair, build_pair, decode, phase_vocoder
from syncdub_companion.errors import UsageError

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")


@pytest.fixture(scope="module")
def pairs(tmp_path_factory, drascula):
    """Pairs built on first use and shared by the tests of this module."""
    folder = tmp_path_factory.mktemp("corpus")
    built: dict[tuple, Pair] = {}

    def get(case: str, direction: str = "es-en", duration: float = 30) -> Pair:
        key = (case, direction, duration)
        if key not in built:
            built[key] = build_pair(case, direction, duration, folder)
        return built[key]
    return get


def _side(x: np.ndarray) -> np.ndarray:
    """The bed without dialogue: L-R of stereo; the same fold-down of a 5.1 or 7.1 file."""
    out = x[:, 0] - x[:, 1]
    for left in range(4, x.shape[1], 2):
        out = out + math.sqrt(0.5) * (x[:, left] - x[:, left + 1])
    return out


def _lag_ms(orig: np.ndarray, dub: np.ndarray, dub_t: float, orig_t: float, up: int, down: int) -> float | None:
    """Where the dub's bed around ``dub_t`` is found in the original, relative to ``orig_t``."""
    half, margin = SR // 2, SR // 20
    span = int(half * up / down)
    window = dub[int(round(dub_t * SR)) - span:int(round(dub_t * SR)) + span]
    if up != down:
        window = signal.resample_poly(window, down, up)
    window = window[:2 * half]
    c = int(round(orig_t * SR))
    region = orig[c - half - margin:c + half + margin]
    if len(region) < 2 * half + 2 * margin or np.sqrt(np.mean(window ** 2)) < 3e-3:
        return None
    corr = signal.correlate(region, window, "valid", method="fft")
    i = int(np.clip(np.argmax(corr), 1, len(corr) - 2))
    a, b, e = corr[i - 1], corr[i], corr[i + 1]
    return (i + 0.5 * (a - e) / (a - 2 * b + e) - margin) / SR * 1000


@pytest.mark.parametrize("case, duration", [("combo", 30), ("quiet_bed", 30), ("offset_neg", 30), ("pal_slowdown", 30),
                                            ("directors_cut", 60), ("ad_breaks", 60), ("flac_71", 30),
                                            ("remixed_bed", 30)])
def test_truth_matches_the_audio_within_2ms(pairs, case, duration):
    """Also where the original lacks the dub's short scenes, around ad breaks, in 7.1, and
    under a remixed bed (EQ, compression, new foley: the timeline must not move)."""
    pair = pairs(case, duration=duration)
    orig, dub = _side(decode(pair.original)), _side(decode(pair.dubbed))
    up, down = pair.meta["speed_ratio"]
    lags = []
    for seg in pair.truth:
        for f in (0.2, 0.4, 0.6, 0.8):
            dub_t = seg["dub_start"] + f * (seg["dub_end"] - seg["dub_start"])
            lag = _lag_ms(orig, dub, dub_t, pair.orig_time(dub_t), up, down)
            if lag is not None:
                lags.append(lag)
    assert len(lags) >= 4
    assert max(abs(x) for x in lags) < 2.0, lags


def test_segment_lengths_follow_the_speed(pairs):
    pair = pairs("combo")
    assert pair.meta["speed"] == pytest.approx(23.976 / 25)
    assert len(pair.truth) >= 3        # two cuts split the film
    for seg in pair.truth:
        ratio = (seg["dub_end"] - seg["dub_start"]) / (seg["orig_end"] - seg["orig_start"])
        assert ratio == pytest.approx(2997 / 3125, rel=1e-9)


def test_priming_is_measured_and_in_the_truth(pairs):
    pair = pairs("offset_pos")             # 5.1 AC3 in MKV against stereo AAC in MKV
    orig, dub = pair.meta["original"], pair.meta["dubbed"]
    assert orig["codec"] == "ac3" and orig["delay_samples"] == 256
    assert dub["codec"] == "aac" and dub["delay_samples"] == 1024
    seg = pair.truth[0]
    assert seg["orig_start"] == pytest.approx(256 / SR)
    assert seg["dub_start"] == pytest.approx(pair.meta["dub_preroll_s"] + 1024 / SR)


def test_dub_only_intervals_lie_outside_the_truth(pairs):
    pair = pairs("extra_scenes")
    assert len(pair.dub_only) >= 2         # the logo and at least one inserted scene
    for a, b in pair.dub_only:
        assert b > a
        for seg in pair.truth:
            assert b <= seg["dub_start"] + 1e-9 or a >= seg["dub_end"] - 1e-9
    covered = sum(s["dub_end"] - s["dub_start"] for s in pair.truth) + sum(b - a for a, b in pair.dub_only)
    assert covered == pytest.approx(pair.meta["dubbed"]["duration"], abs=0.05)


def test_segments_are_ordered_on_both_timelines(pairs):
    pair = pairs("missing_scenes")
    assert len(pair.truth) == 3
    for prev, nxt in zip(pair.truth, pair.truth[1:]):
        assert nxt["dub_start"] >= prev["dub_end"] - 1e-9
        assert nxt["orig_start"] > prev["orig_end"] + 4.0   # a cut of at least ~5 s between


def test_quiet_stretch_has_a_silent_bed_and_a_cut_at_it(pairs):
    pair = pairs("quiet_bed")
    (qa, qb), = pair.meta["quiet_orig_s"]
    assert qb - qa >= 15
    orig = decode(pair.original)
    bed = _side(orig)[int((qa + 0.5) * SR):int((qb - 0.5) * SR)]
    speech = orig[int(qa * SR):int(qb * SR), 2]
    assert np.sqrt(np.mean(bed ** 2)) < 1e-3 < np.sqrt(np.mean(speech ** 2))
    pre = pair.meta["orig_preroll_s"] + pair.meta["original"]["delay_s"]
    (ca, cb), = pair.meta["cuts_master_s"]
    assert ca + pre <= qb + 1.5 and cb + pre >= qa - 1.5


def test_wrong_film_shares_only_its_opening_theme(pairs):
    pair = pairs("wrong_film")
    assert pair.expect == "rejected" and pair.truth == []
    orig, dub = _side(decode(pair.original)), _side(decode(pair.dubbed))
    shift = pair.meta["dub_preroll_s"] + pair.meta["dubbed"]["delay_s"] - pair.meta["original"]["delay_s"]

    def similarity(t: float) -> float:
        a = orig[int(t * SR):int((t + 2) * SR)]
        b = dub[int((t + shift) * SR):int((t + shift + 2) * SR)]
        return float(np.dot(a, b) / math.sqrt(np.dot(a, a) * np.dot(b, b) + 1e-12))
    assert similarity(1.0) > 0.9            # the shared theme
    assert abs(similarity(25.0)) < 0.3      # then another episode


def test_both_directions_share_one_master(pairs):
    there, back = pairs("offset_pos", "es-en", 20), pairs("offset_pos", "en-es", 20)
    assert [s["orig_start"] for s in there.truth] == [s["orig_start"] for s in back.truth]
    assert there.meta["original"]["language"] == back.meta["dubbed"]["language"] == "es"
    a, b = decode(there.original), decode(back.original)
    assert not np.allclose(a[:, 2], b[:, 2], atol=1e-2)     # other dialogue in the centre


def test_thirty_second_pair_builds_in_a_few_cpu_seconds(tmp_path, drascula):
    build_pair("missing_scenes", "es-en", 30, tmp_path / "warm")   # decoded tracks get cached
    before = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    pair = build_pair("missing_scenes", "en-es", 30, tmp_path)
    after = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    cpu = sum(a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime for a, b in zip(after, before))
    assert pair.original.stat().st_size > 100_000
    assert cpu < 6.0


def test_reuse_loads_the_pair_without_rebuilding(pairs, tmp_path):
    pair = pairs("offset_pos")
    again = build_pair("offset_pos", "es-en", 30, pair.original.parent, reuse=True)
    assert again.truth == pair.truth and again.meta["build_seconds"] == pair.meta["build_seconds"]


def test_phase_vocoder_maps_time_linearly():
    rng = np.random.default_rng(0)
    ratio = 2997 / 3125
    x = 0.02 * np.sin(2 * np.pi * 440 * np.arange(12 * SR) / SR)[:, None].repeat(2, 1)
    clicks = np.arange(SR // 2, 11 * SR, SR // 2) + rng.integers(0, 1000, 21)
    for p in clicks:
        x[p:p + 48] += rng.standard_normal((48, 1)) * 0.5
    y = phase_vocoder(x.astype(np.float32), ratio)
    assert len(y) == round(len(x) * ratio)
    t = np.arange(-1200, 1200)
    for p in clicks:
        energy = y[int(round((p + 24) * ratio)) + t, 0] ** 2
        excess = np.clip(energy - np.median(energy), 0, None)
        assert abs((t * excess).sum() / excess.sum()) < 10      # samples: 0.2 ms


def test_unknown_case_or_direction_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="unknown case"):
        build_pair("nope", "es-en", 30, tmp_path)
    with pytest.raises(UsageError, match="direction"):
        build_pair("combo", "es-fr", 30, tmp_path)
    assert "wrong_film" in CASES and CASES["wrong_film"].expect == "rejected"


def test_evaluate_scores_the_truth_as_perfect_and_catches_errors(pairs):
    from benchmarks.evaluate import evaluate

    pair = pairs("extra_scenes")
    perfect = evaluate({"verdict": "aligned", "segments": pair.truth}, pair)
    assert perfect["passed"] and perfect["median_ms"] == 0 and perfect["coverage"] == 1.0

    late = [{**s, "orig_start": s["orig_start"] + 0.05, "orig_end": s["orig_end"] + 0.05} for s in pair.truth]
    assert evaluate({"verdict": "aligned", "segments": late}, pair)["failures"] == [
        "median 50.0 ms", "p95 50.0 ms", "misplaced 100.0 %"]

    # 3 % of the mapped film 5 s off: within the p95, still a false map.
    total = sum(s["dub_end"] - s["dub_start"] for s in pair.truth)
    first = pair.truth[0]
    assert first["dub_end"] - first["dub_start"] > 0.04 * total
    cut = first["dub_start"] + 0.03 * total
    wrong = [{**first, "dub_end": cut, "orig_end": first["orig_start"] + 5.0 + (cut - first["dub_start"]),
              "orig_start": first["orig_start"] + 5.0},
             {**first, "dub_start": cut, "orig_start": first["orig_start"] + (cut - first["dub_start"])}] + pair.truth[1:]
    scored = evaluate({"verdict": "aligned", "segments": wrong}, pair)
    assert scored["failures"] == [f"misplaced {100 * scored['misplaced']:.1f} %"], scored
    assert 0.025 < scored["misplaced"] < 0.035 and scored["p95_ms"] < 40

    # One segment bridging everything, as a single-offset tool would: maps the extra scenes.
    first, last = pair.truth[0], pair.truth[-1]
    bridged = evaluate({"verdict": "aligned", "segments": [{**first, "dub_end": last["dub_end"],
                                                            "orig_end": last["orig_end"]}]}, pair)
    assert bridged["dub_only_mapped_s"] > 3 and not bridged["passed"]

    rejected = evaluate({"verdict": "rejected", "segments": []}, pair)
    assert rejected["failures"] == ["verdict rejected (expected aligned)"]
    assert evaluate({"verdict": "rejected", "segments": []}, pairs("wrong_film"))["passed"]


def test_peer_nodes_become_segments_on_the_decoded_timeline():
    from benchmarks.peer import nodes_to_segments

    segs = nodes_to_segments([0.0, 10.0, 10.0, 20.0], [1.0, 11.0, 15.0, 25.0], dub_shift=0.5, orig_shift=1.0)
    assert segs == [{"dub_start": -0.5, "dub_end": 9.5, "orig_start": 0.0, "orig_end": 10.0},
                    {"dub_start": 9.5, "dub_end": 19.5, "orig_start": 14.0, "orig_end": 24.0}]


def _ncc_at(orig: np.ndarray, dub: np.ndarray, orig_t: float, dub_t: float, half: float = 1.0) -> float:
    """Normalised correlation of the two beds around the truth's pair of times."""
    a = orig[int((orig_t - half) * SR):int((orig_t + half) * SR)]
    b = dub[int((dub_t - half) * SR):int((dub_t + half) * SR)]
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


def test_swapped_music_differs_inside_its_stretches_and_only_there(pairs):
    """The dub's bed is the original's outside the swapped stretches, another song inside
    (the effects stay, so a moment dominated by one still matches)."""
    pair = pairs("songs_swapped", duration=90)
    stretches = pair.meta["swapped_orig_s"]
    assert len(stretches) == 3 and stretches[0][0] < 0.05      # the opening and two scenes
    orig, dub = _side(decode(pair.original)), _side(decode(pair.dubbed))
    inside, outside = [], []
    for a, b in stretches:
        for t in np.linspace(a + 2, b - 2, 4):
            inside.append(_ncc_at(orig, dub, t, pair.dub_time(t)))
    for seg in pair.truth:
        for t in np.linspace(seg["orig_start"] + 1.5, seg["orig_end"] - 1.5, 25):
            if all(t < a - 2 or t > b + 2 for a, b in stretches) and np.std(orig[int(t * SR):int((t + .1) * SR)]) > 1e-3:
                outside.append(_ncc_at(orig, dub, t, pair.dub_time(t)))
    assert len(outside) >= 5 and np.median(outside) > 0.8, outside
    assert np.median(inside) < 0.3, inside


def test_short_scenes_only_in_the_dub_are_dub_only(pairs):
    """A director's cut dub: each scene the original lacks is a dub-only gap between two
    segments that meet on the original's timeline."""
    pair = pairs("directors_cut", duration=60)
    cuts = pair.meta["orig_cuts_master_s"]
    assert len(cuts) >= 2 and all(1.0 <= b - a <= 10.0 for a, b in cuts)
    assert len(pair.truth) == len(cuts) + 1
    for prev, nxt, (a, b) in zip(pair.truth, pair.truth[1:], cuts):
        assert nxt["orig_start"] == pytest.approx(prev["orig_end"], abs=1e-9)
        gap = (nxt["dub_start"] - prev["dub_end"]) / pair.meta["speed"]
        assert gap == pytest.approx(b - a, abs=1e-6)
        assert any(x == pytest.approx(prev["dub_end"]) and y == pytest.approx(nxt["dub_start"])
                   for x, y in pair.dub_only)


def test_ad_breaks_are_dub_only_and_unlike_the_film(pairs):
    pair = pairs("ad_breaks", duration=60)
    length = pair.meta["ad_breaks_s"][0]
    assert 15 <= length <= 61
    (a, b), = [(x, y) for x, y in pair.dub_only if y - x == pytest.approx(length, abs=1e-6)]
    dub = _side(decode(pair.dubbed))
    orig = _side(decode(pair.original))
    window = dub[int((a + 1) * SR):int((a + 4) * SR)]
    assert np.sqrt(np.mean(window ** 2)) > 3e-3            # an ident, then adverts: not silence
    assert _best_ncc(orig, window)[0] < 0.5


def _best_ncc(x: np.ndarray, window: np.ndarray) -> tuple[float, float]:
    """The best normalised correlation of ``window`` anywhere in ``x``, and where (s)."""
    corr = signal.correlate(x, window, "valid", method="fft")
    run = np.concatenate([[0.0], np.cumsum(x.astype(np.float64) ** 2)])
    ncc = corr / (np.sqrt(run[len(window):] - run[:-len(window)]) * np.linalg.norm(window) + 1e-9)
    return float(ncc.max()), int(np.argmax(ncc)) / SR


def test_sequel_shares_the_theme_at_another_place(pairs):
    pair = pairs("wrong_sequel", duration=60)
    assert pair.expect == "rejected" and pair.truth == [] and pair.meta["sequel"]
    orig, dub = _side(decode(pair.original)), _side(decode(pair.dubbed))
    best, found = _best_ncc(dub, orig[int(2 * SR):int(5 * SR)])
    assert best > 0.6 and abs(found - 2.0) > 5.0       # the theme, elsewhere than at the start


def test_specs_without_the_late_options_hash_as_before():
    """Cached pairs of the older cases stay valid: the later fields hash only when set."""
    from benchmarks.corpus import _spec_crc

    spec = CASES["combo"]
    text = repr(spec)
    for name in ("wobble=None", "ad_breaks=0", "short_cuts=0", "short_cuts_in='dub'", "remix=False",
                 "rerecorded_effects=0.0", "sequel=False"):
        text = text.replace(f", {name}", "")
    from benchmarks.corpus import PLAN_REVISION
    assert _spec_crc(spec) == zlib.crc32(f"{text} {PLAN_REVISION}".encode())
    assert _spec_crc(CASES["ad_breaks"]) != _spec_crc(replace(CASES["ad_breaks"], ad_breaks=0))
