"""Matched lines as map evidence (``speechmap.extend``, ``verify.built_with_speech``), on
stand-in segments and lines: what is bridged, carried or left out, and the verdicts."""
from __future__ import annotations

import pytest

from syncdub_companion.align.speechmap import SPEECH_WEIGHT, Line, extend
from syncdub_companion.align.timemap import Anchor, Segment, TimeMap
from syncdub_companion.align.verify import apply_speech, wants_speech

# The bed's map: dub t plays at original t - 2 over two segments of one line.
A, B = Segment(2.0, 20.0, 0.0, 18.0), Segment(80.0, 100.0, 78.0, 98.0)


def _line(dub, offset=-2.0, length=3.0):
    return Line(dub, dub + offset, dub + length)


def test_lines_on_the_line_bridge_a_gap_longer_than_the_beds_evidence():
    ext = extend([A, B], [_line(30), _line(52, -2.8), _line(70)], 1.0, 120.0, 118.0)
    assert [(s.dub_start, s.dub_end) for s in ext.segments] == [(2.0, 100.0)]
    assert ext.seconds("continuity") == pytest.approx(60.0)
    assert all(abs(s.to_orig(50.0) - 48.0) < 1e-9 for s in ext.segments if s.dub_start <= 50 <= s.dub_end)


def test_a_line_elsewhere_in_the_gap_stops_the_bridge_and_bounds_the_carried_edges():
    """After a cut the lines land seconds off the line: the edges are carried up to it, not past."""
    ext = extend([A, B], [_line(30), _line(50, +6.0), _line(70)], 1.0, 120.0, 118.0)
    assert ext.seconds("continuity") == 0
    first, *_ = ext.segments
    assert first.dub_end == pytest.approx(33.0)          # over the line at 30, to its end
    assert all(not (s.dub_start < 50.0 < s.dub_end) for s in ext.segments)
    assert any(s.dub_start == pytest.approx(70.0 - 0.2) for s in ext.segments)  # B carried back to 70


def test_lines_with_an_offset_no_segment_has_make_a_speech_segment_counted_at_half():
    """A scene between two cuts with no bed: three lines agree on +10 s."""
    lines = [_line(40, 10.0), _line(45, 10.2), _line(50, 9.9)]
    ext = extend([A, B], lines, 1.0, 120.0, 118.0)
    speech = [s for s, k in ext.pieces if k == "speech"]
    assert len(speech) == 1 and speech[0].orig_start - speech[0].dub_start == pytest.approx(10.0)
    assert ext.weighted_seconds() == pytest.approx(38.0 + SPEECH_WEIGHT * ext.seconds("speech"))
    assert not any(k == "speech" for _, k in extend([A, B], lines, 1.0, 120.0, 118.0, speech_segments=False).pieces)


def test_a_carried_edge_never_leaves_either_file():
    first = Segment(10.0, 30.0, 3.0, 23.0)   # dub t plays at t - 7: the dub's first 7 s are its own
    ext = extend([first], [_line(7.5, -7.0), _line(1.0, -7.0)], 1.0, 40.0, 33.0)
    assert min(s.dub_start for s in ext.segments) >= 7.0 and min(s.orig_start for s in ext.segments) >= 0.0


# --- the verdict -----------------------------------------------------------------------


class _Evidence:
    dub_language = "en"
    matches: list = []
    outliers: list = []

    def __init__(self, pairs, same=True):
        self.anchors = [Anchor(dub=d, orig=o, kind="speech") for d, o in pairs]
        self.same = same

    def same_content(self):
        if not self.same:
            return False, "different content: only 0 of 9 lines matched by meaning (0%)"
        return True, f"{len(self.anchors)} of 9 lines matched by meaning; {len(self.anchors)} consistent line starts"

    def to_dict(self):
        return {"anchors": len(self.anchors)}


def _rejected_on_coverage(segments, coverage=0.4):
    details = {"rejected_on": "coverage", "coverage": coverage, "strength": 1.0, "signal": "side",
               "candidates": [s.__dict__ for s in segments],
               "basis": {"possible_s": 118.0, "orig_s": 118.0, "dub_s": 120.0, "min_coverage": 0.5,
                         "min_confidence": 0.5}}
    return TimeMap("rejected", 0.44, f"only {coverage:.0%} of the dub matches the original (needs 50%)", 1.0,
                   [], [], details)


def test_a_coverage_rejection_near_the_threshold_goes_to_speech_in_auto():
    assert wants_speech("auto", _rejected_on_coverage([A, B], 0.4))
    assert not wants_speech("auto", _rejected_on_coverage([A, B], 0.2))
    assert not wants_speech("never", _rejected_on_coverage([A, B], 0.4))
    assert not wants_speech("auto", TimeMap("rejected", 0.0, "no stretch matches", 1.0))


def test_speech_confirming_the_gap_turns_a_coverage_rejection_into_an_aligned_map():
    result = apply_speech(_rejected_on_coverage([A, B]), _Evidence([(30, 28), (52, 50.3), (70, 68)]))
    assert result.verdict == "aligned", result.reason
    assert result.segments == [Segment(2.0, 100.0, 0.0, 98.0)]
    assert result.details["speech_mapped_s"]["continuity"] == pytest.approx(60.0)


def test_a_different_film_stays_rejected_and_says_why():
    result = apply_speech(_rejected_on_coverage([A, B]), _Evidence([(30, 28), (70, 68), (90, 88)], same=False))
    assert result.verdict == "rejected" and result.segments == []
    assert "speech: different content" in result.reason


def test_lines_the_segments_put_elsewhere_keep_the_rejection():
    result = apply_speech(_rejected_on_coverage([A, B]), _Evidence([(30, 60), (50, 10), (70, 100)]))
    assert result.verdict == "rejected" and result.segments == [], result.reason


def test_a_map_that_rests_on_speechs_own_offset_is_held_for_review():
    """Only one short bed segment; the rest of the film is lines at another offset (a cut)."""
    short = Segment(2.0, 40.0, 0.0, 38.0)
    lines = [(45, 43), (50, 48.2), (60, 68), (70, 78.1), (80, 88), (90, 98.2), (100, 108)]
    result = apply_speech(_rejected_on_coverage([short], 0.32), _Evidence(lines))
    assert result.verdict == "review" and not result.aligned, result.reason
    assert result.segments and result.details["speech_mapped_s"]["speech"] > 20
    assert "held for review" in result.reason


def test_a_lone_wrong_match_does_not_stop_a_carried_edge_but_a_cut_does():
    lines = [_line(25), _line(30, +4.0), _line(35), _line(40)]   # 30: a look-alike sentence matched
    ext = extend([A], lines, 1.0, 120.0, 118.0)
    assert ext.segments[-1].dub_end == pytest.approx(43.0)
    after_cut = [_line(25), _line(30, +4.0), _line(35, +4.1), _line(40, +3.9)]
    ext = extend([A], after_cut, 1.0, 120.0, 118.0, speech_segments=False)
    assert ext.segments[-1].dub_end == pytest.approx(28.0)   # the line at 25 to its end, not past the cut
