"""A slowly varying speed (a dub captured from tape) followed with knots, and never invented."""
from __future__ import annotations

import numpy as np

from benchmarks.corpus import build_pair
from benchmarks.evaluate import evaluate
from syncdub_companion.align import align
from syncdub_companion.align.drift import Curve, Drift, Warp, wobble
from syncdub_companion.align.timemap import Segment


def test_a_tape_wobbled_dub_aligns_within_a_frame_of_the_true_warp(tmp_path, drascula):
    pair = build_pair("tape_wobble", "es-en", 90, tmp_path)
    result = align(str(pair.original), str(pair.dubbed), {"speech": "never"})
    metrics = evaluate(result.to_dict(), pair)
    assert metrics["p95_ms"] <= 40.0 and metrics["coverage"] >= 0.98, metrics
    assert len(result.segments) > 3  # a straight line cannot follow it (it misses by 40-60 ms)
    # No cut in this pair: where segments meet, the original's time may not jump (two
    # stretches placed apart may differ by the anchors' noise, a few ms).
    joins = [(a, b) for a, b in zip(result.segments, result.segments[1:]) if abs(a.dub_end - b.dub_start) < 1e-9]
    assert len(joins) == len(result.segments) - 1
    assert max(abs(a.orig_end - b.orig_start) for a, b in joins) < 0.005


def test_noise_about_a_line_is_no_wobble():
    rng = np.random.default_rng(3)
    for _ in range(20):
        x = np.arange(0, 60000, 150.0)                    # anchors every 1.5 s over 10 minutes
        y = 12.0 + 3e-5 * x + rng.normal(0, 0.3, len(x))  # 3 ms of noise around one line
        groups = (x > 30000).astype(int)                  # a cut halfway
        assert wobble(x, y + 200 * groups, groups, np.ones(len(x)), 500.0, 0.4) is None


def test_a_slow_bend_is_found_whatever_the_offsets_of_the_stretches():
    x = np.arange(0, 60000, 150.0)
    bend = 5.0 * np.sin(2 * np.pi * x / 9700)
    groups = (x > 30000).astype(int)
    y = 7.0 + bend + 200 * groups + np.random.default_rng(4).normal(0, 0.3, len(x))
    found = wobble(x, y, groups, np.ones(len(x)), 500.0, 0.4)
    assert found is not None
    rebuilt = np.array([found.intercepts[g] for g in groups]) + found.slope * x + found.curve(x)
    assert np.abs(rebuilt - (y - np.random.default_rng(4).normal(0, 0.3, len(x)))).max() < 0.5  # 5 ms on a 100 ms bend


def test_knots_join_and_follow_the_warp():
    warp = Warp(Curve(np.array([0.0, 10.0, 20.0, 30.0]), np.array([0.0, 0.02, -0.01, 0.0])))
    drift = Drift(warp, None)
    out = drift.unwarp([Segment(0.5, 29.0, 100.5, 129.0)])
    assert len(out) == 3  # bends at clock 10.02 and 19.99 s
    for a, b in zip(out, out[1:]):
        assert a.dub_end == b.dub_start and a.orig_end == b.orig_start
    for seg in out:  # clock time v = d + shift(d) maps linearly onto the original
        for d in (seg.dub_start, seg.dub_end):
            assert abs(seg.to_orig(d) - (100.0 + float(warp.to_clock(d)))) < 1e-9


def test_a_stretch_bridged_from_both_files_start_runs_straight_from_there():
    """An opening song swapped on a tape dub: no anchor before 20 s, where the warp only
    extrapolates. Both files start together, so the map starts at (0, 0) and runs straight
    to where the warp puts the stretch's other end (seeds 5028 and 5060 of the randomized
    corpus: 7 s and 23 s of opening mapped 50-70 ms off)."""
    warp = Warp(Curve(np.array([20.0, 30.0, 40.0, 50.0]), np.array([0.06, 0.03, 0.01, 0.0])))
    drift = Drift(warp, None)
    opening, film = Segment(0.0, 20.0, 0.0, 20.0), Segment(20.0, 50.0, 20.0, 50.0)
    free = drift.unwarp([opening, film])
    assert abs(free[0].dub_start - 0.0) > 0.03, "unpinned, the warp's extrapolation moves the start"
    pinned = drift.unwarp([Segment(0.05, 20.0, 0.0, 20.0), film], start=(0.0, 0.0))
    assert (pinned[0].dub_start, pinned[0].orig_start) == (0.0, 0.0), "from where both files start"
    assert pinned[0].dub_end == pinned[1].dub_start and pinned[0].orig_end == pinned[1].orig_start
    assert pinned[1:] == free[len(free) - len(pinned) + 1:], "the measured film is unwarped as before"
    ending = Segment(50.0, 60.0, 50.0, 60.0)
    last = drift.unwarp([film, ending], end=(60.02, 60.0))[-1]
    assert (last.dub_end, last.orig_end) == (60.02, 60.0)


def test_only_a_bridged_stretch_is_taken_for_one():
    from syncdub_companion.align.engine import bridged_ends

    measured = [Segment(0.06, 64.4, 0.0, 64.34), Segment(93.3, 131.8, 86.1, 124.6)]
    head = Segment(0.0, 0.06, 0.0, 0.0)
    assert bridged_ends([head] + measured, measured) == (True, False)
    # the few-ms bridge pulled in and gone: the measured first segment stays as measured
    pulled = [Segment(0.06, 64.38, 0.0, 64.32), Segment(93.32, 131.8, 86.12, 124.6)]
    assert bridged_ends(pulled, measured) == (False, False)
    tail = Segment(131.8, 140.0, 124.6, 132.8)
    assert bridged_ends(measured + [tail], measured) == (False, True)


def test_a_two_hour_bend_through_many_knots_and_stretches_is_followed():
    # 1,440 knots and eight stretches: the size of the fine bend of a 2-hour tape, where the
    # penalised normal equations are ill-conditioned (condition number near 1e8).
    x = np.arange(0, 720000, 150.0)
    groups = np.searchsorted(np.linspace(0, 720000, 9)[1:-1], x)
    noise = np.random.default_rng(5).normal(0, 0.3, len(x))
    bend = 4.0 * np.sin(2 * np.pi * x / 61000) + 2.0 * np.sin(2 * np.pi * x / 17000)
    y = 3.0 + 2e-5 * x + bend + 150.0 * groups + noise
    found = wobble(x, y, groups, np.ones(len(x)), 500.0, 0.4)
    assert found is not None and len(found.curve.values) > 1400
    rebuilt = np.array([found.intercepts[g] for g in groups]) + found.slope * x + found.curve(x)
    assert np.abs(rebuilt - (y - noise)).max() < 0.5
