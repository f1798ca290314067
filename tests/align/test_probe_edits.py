"""The probe path's knots and stretches: how windows' offsets become one map."""
from __future__ import annotations

import pytest

from syncdub_companion.align.probe_edits import (EDGE_DOUBT, EDIT_SPAN, ENGINE_PAD, MAX_ORIG_SPAN, ORIG_PAD, Claim,
                                                 Knot, Line, NoProof, Stretch, assembled, edit_window,
                                                 joined_stretch, line_of, pairwise_speed, runs_of, shared_speed,
                                                 stretches)

PAL = 25 / 23.976


def _on(line: Line, *dubs: float) -> list[Knot]:
    return [Knot(d, line.orig(d), 0.8) for d in dubs]


def test_knots_split_into_runs_where_the_offset_moves():
    before, after = Line(1.0, 4.0), Line(1.0, 4.5)   # a 0.5 s cut between 300 and 400 s
    knots = _on(before, 100, 200, 300) + [Knot(350, None)] + _on(after, 400, 500)
    runs = runs_of(knots, 1.0)
    assert [[k.dub for k in run] for run in runs] == [[100, 200, 300], [400, 500]]


def test_a_knot_a_frame_off_over_a_long_distance_stays_in_its_run():
    line = Line(1.0, 4.0)
    knots = _on(line, 100) + [Knot(1100, line.orig(1100) + 0.05, 0.8)]   # 5 frames over 1000 s: the speed's doubt
    assert len(runs_of(knots, 1.0)) == 1
    knots[-1].orig += 0.1   # 15 frames is an edit
    assert len(runs_of(knots, 1.0)) == 2


def test_one_speed_through_runs_with_their_own_offsets():
    truth = [Line(1.0012, 2.0), Line(1.0012, -40.0)]
    runs = [_on(truth[0], 100, 500, 900), _on(truth[1], 1500, 2500, 3500)]
    assert shared_speed(runs, 1.0) == pytest.approx(1.0012, abs=1e-7)


def test_neighbouring_knots_agree_on_a_speed_the_scouts_only_guessed():
    truth = Line(1.0012, 0.0)
    knots = _on(truth, 100, 640, 1180, 1720) + [Knot(2260, truth.orig(2260) - 40.0, 0.8)] \
        + _on(Line(1.0012, -40.0), 2800, 3340)
    assert pairwise_speed(knots, 1.0) == pytest.approx(1.0012, abs=2e-6)
    assert pairwise_speed(knots[:3], 1.0) == 1.0   # two pairs are not enough to overrule the scouts


def test_short_runs_keep_the_scouts_speed():
    runs = [_on(Line(1.0012, 2.0), 100, 200), _on(Line(1.0012, -40.0), 300)]
    assert shared_speed(runs, PAL) == PAL


def test_a_line_through_knots_that_bend_is_refused():
    line = Line(1.0, 3.0)
    knots = _on(line, 100, 200, 300)
    assert line_of(knots, 1.0, 2.0).offset == pytest.approx(3.0)
    knots[1].orig += 0.05   # 5 frames: a varying speed, or a look-alike a few frames off
    with pytest.raises(NoProof, match="speed varies") as refused:
        line_of(knots, 1.0, 2.0)
    assert refused.value.knot is knots[1]   # a tentative one is dropped, and the stretch fitted again


def test_a_window_that_matched_nowhere_is_mapped_by_the_engine_around_it():
    a, b = Line(1.0, 0.0), Line(1.0, 30.0)
    knots = _on(a, 100) + [Knot(200, None)] + _on(a, 300) + [Knot(350, None)] + _on(b, 400)
    lines = {id(k): a for k in knots[:3]} | {id(knots[4]): b}
    spans = stretches(knots, lines)
    half = EDIT_SPAN / 2
    # on one line: straight up to EDIT_SPAN around the window, the engine there, straight on;
    # between two lines it is one more reason for the engine (halving still allowed)
    assert [(s.start.dub, s.end.dub, s.blind, s.straight) for s in spans] == [
        (100, 200 - half, False, True), (200 - half, 200 + half, True, False), (200 + half, 300, False, True),
        (300, 400, True, False)]
    assert all(s.start.orig == a.orig(s.start.dub) for s in spans[:3])


def test_windows_that_matched_nowhere_close_together_share_one_engine_stretch():
    a = Line(1.0, 0.0)
    knots = _on(a, 100) + [Knot(150, None), Knot(170, None)] + _on(a, 400)
    spans = stretches(knots, {id(knots[0]): a, id(knots[3]): a})
    lo, hi = 150 - EDIT_SPAN / 2, 170 + EDIT_SPAN / 2
    assert [(s.start.dub, s.end.dub, s.blind) for s in spans] == [(100, lo, False), (lo, hi, True), (hi, 400, False)]


def test_an_edit_longer_than_the_original_window_allows_is_refused():
    a, b = Line(1.0, 0.0), Line(1.0, MAX_ORIG_SPAN)
    with pytest.raises(NoProof, match="spans"):
        edit_window(Stretch(_on(a, 1000)[0], _on(b, 1050)[0], a, b), 7200, 7200 + MAX_ORIG_SPAN)
    dub_window, orig_window = edit_window(Stretch(_on(a, 1000)[0], _on(a, 1050)[0], a, a), 7200, 7200)
    assert dub_window == (1000 - ENGINE_PAD, 1050 + ENGINE_PAD)
    assert orig_window == (1000 - ENGINE_PAD - ORIG_PAD, 1050 + ENGINE_PAD + ORIG_PAD)


def _stretch(a_dub: float, b_dub: float, before: Line, after: Line) -> Stretch:
    return Stretch(_on(before, a_dub)[0], _on(after, b_dub)[0], before, after)


def test_the_engine_map_of_an_edit_joins_both_lines():
    before, after = Line(1.0, 10.0), Line(1.0, 40.0)
    span = _stretch(100, 160, before, after)
    engine = [before.on(70, 131.2), after.on(131.25, 190)]
    claim = joined_stretch(engine, span, slack=7.5)
    assert claim.segments[0].orig_start == before.orig(claim.start)
    assert claim.segments[-1].orig_end == after.orig(claim.end)
    # the edges next to the unmapped 50 ms move inward by the engine's doubt on windows
    assert [(round(s.dub_start, 2), round(s.dub_end, 2)) for s in claim.segments] == [
        (claim.start, round(131.2 - EDGE_DOUBT, 2)), (round(131.25 + EDGE_DOUBT, 2), claim.end)]


def test_an_edit_inside_the_last_window_is_claimed_past_it():
    # the last knot's window (160 +- 7.5 s) straddles the cut at 163 s: the knot found the
    # later line, the engine shows the earlier one holds to 163 s
    before, after = Line(1.0, 10.0), Line(1.0, 40.0)
    span = _stretch(100, 160, before, after)
    claim = joined_stretch([before.on(70, 163.0), after.on(163.0, 190)], span, slack=7.5)
    assert claim.end == 190 and claim.segments[-1].dub_start == 163.0


def test_an_engine_map_that_leaves_a_knots_line_is_refused():
    before, after, elsewhere = Line(1.0, 10.0), Line(1.0, 40.0), Line(1.0, 25.0)
    span = _stretch(100, 160, before, after)
    with pytest.raises(NoProof, match="start off the line"):
        joined_stretch([elsewhere.on(70, 130), after.on(130, 190)], span, slack=7.5)
    with pytest.raises(NoProof, match="does not reach"):
        joined_stretch([before.on(70, 130), elsewhere.on(130, 190)], span, slack=7.5)
    with pytest.raises(NoProof, match="does not reach"):   # the later line only from past the last window
        joined_stretch([before.on(70, 130), after.on(175, 190)], span, slack=7.5)


def test_straight_stretches_give_way_to_the_engine_and_the_pieces_join():
    before, after = Line(1.0, 10.0), Line(1.0, 40.0)
    claims = [Claim(0.0, 60.0, [before.on(2.0, 60.0)]),
              Claim(60.0, 100.0, [before.on(60.0, 100.0)], yields=True),
              Claim(95.0, 170.0, [before.on(95.0, 131.2), after.on(131.25, 170.0)]),
              Claim(160.0, 300.0, [after.on(160.0, 300.0)], yields=True)]
    out = assembled(claims)
    assert [(s.dub_start, s.dub_end) for s in out] == [(2.0, 131.2), (131.25, 300.0)]
    assert all(abs((s.orig_start - s.dub_start) - line.offset) < 1e-9 for s, line in zip(out, (before, after)))


def test_an_engine_claim_keeps_what_it_left_unmapped():
    line = Line(1.0, 0.0)
    claims = [Claim(0.0, 100.0, [line.on(0.0, 100.0)], yields=True),
              Claim(90.0, 200.0, [line.on(90.0, 120.0), Line(1.0, -30.0).on(150.0, 200.0)])]
    out = assembled(claims)
    assert [(s.dub_start, s.dub_end) for s in out] == [(0.0, 120.0), (150.0, 200.0)]
    assert abs(out[0].orig_end - out[0].dub_end) < 1e-9 and out[0].speed == 1.0
