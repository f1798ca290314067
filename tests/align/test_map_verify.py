"""Speech as a second opinion on an audio map (``verify.apply_speech``), with stand-in evidence."""
from __future__ import annotations

from syncdub_companion.align.timemap import Anchor, Segment, TimeMap
from syncdub_companion.align.verify import WEAK_CONFIDENCE, apply_speech, hold_without_speech


class _Evidence:
    """What apply_speech reads from SpeechEvidence: line starts judged only against each other."""

    dub_language = "en"

    def __init__(self, anchors, outliers):
        self.anchors, self.outliers = anchors, outliers

    def same_content(self):
        if len(self.outliers) > len(self.anchors):
            return False, (f"different content: 9 of 60 lines matched by meaning (15%), but their times "
                           f"disagree ({len(self.anchors)} consistent, {len(self.outliers)} not)")
        return True, "9 of 60 lines matched by meaning (15%)"

    def agreement(self, to_orig, tolerance=0.6):
        hits = [to_orig(a.dub) is not None and abs(to_orig(a.dub) - a.orig) <= tolerance for a in self.anchors]
        return sum(hits) / len(hits) if hits else 0.0

    def to_dict(self):
        return {"anchors": len(self.anchors), "outliers": len(self.outliers)}


def _full_mix_map():
    """Two pieces with a 10 s cut between them: each piece has its own offset."""
    segments = [Segment(2.0, 100.0, 0.0, 98.0), Segment(100.0, 300.0, 108.0, 308.0)]
    return TimeMap("aligned", 0.95, "2 segment(s) cover 99% of the dub", 1.0, segments, [], {"signal": "full"})


def _starts(pairs):
    return [Anchor(dub=d, orig=o, kind="speech") for d, o in pairs]


def test_line_starts_the_map_places_keep_a_full_mix_map():
    """Pieces with one or two lines each look inconsistent to each other, yet the map explains them."""
    anchors = _starts([(10.0, 8.0), (50.0, 48.1)])
    outliers = _starts([(120.0, 128.0), (200.0, 208.2), (250.0, 257.9)])
    result = apply_speech(_full_mix_map(), _Evidence(anchors, outliers))
    assert result.verdict == "aligned", result.reason
    assert "the audio map places them" in result.reason


def test_line_starts_at_unrelated_times_hold_a_confident_full_mix_map_for_review():
    """Neither signal decides alone: never merged, never thrown away; the user listens."""
    anchors = _starts([(10.0, 8.0), (50.0, 48.1)])
    outliers = _starts([(120.0, 40.0), (200.0, 15.0), (250.0, 290.0)])
    result = apply_speech(_full_mix_map(), _Evidence(anchors, outliers))
    assert result.verdict == "review" and not result.aligned
    assert result.segments, "kept for the listening check"
    assert "speech disagrees" in result.reason and result.confidence < WEAK_CONFIDENCE


def test_line_starts_at_unrelated_times_veto_a_weak_full_mix_map():
    anchors = _starts([(10.0, 8.0), (50.0, 48.1)])
    outliers = _starts([(120.0, 40.0), (200.0, 15.0), (250.0, 290.0)])
    result = apply_speech(_weak_full_mix_map(), _Evidence(anchors, outliers))
    assert result.verdict == "rejected" and result.segments == []
    assert result.reason.startswith("speech:")


# --- without speech ------------------------------------------------------------------


def _bed_map(confidence):
    return TimeMap("aligned", confidence, "1 segment(s) cover 60% of the dub", 1.0,
                   [Segment(0.0, 180.0, 2.0, 182.0)], [], {"signal": "side"})


def test_a_weak_map_is_held_for_review_when_speech_does_not_run():
    """A different episode sharing the score: 60 % coverage, confidence 0.66, no speech."""
    held = hold_without_speech(_bed_map(0.66), "is off")
    assert held.verdict == "review" and not held.aligned
    assert held.segments, "kept for inspection"
    assert "held for review" in held.reason and "speech is off" in held.reason
    assert held.details["held"] == "is off"


def test_a_confident_map_and_a_rejection_pass_through_unchanged():
    strong = _bed_map(WEAK_CONFIDENCE)
    assert hold_without_speech(strong, "is off") is strong
    rejected = TimeMap("rejected", 0.1, "no stretch matches", 1.0)
    assert hold_without_speech(rejected, "failed (OSError: no model)") is rejected


class _FewMatches(_Evidence):
    """Whisper's translation matched only a couple of lines."""

    def same_content(self):
        return False, f"different content: only {len(self.anchors) + len(self.outliers)} of 27 lines matched by meaning (7%)"


def _weak_full_mix_map():
    return TimeMap("aligned", 0.7, "2 segment(s) cover 70% of the dub", 1.0,
                   [Segment(2.0, 100.0, 0.0, 98.0), Segment(100.0, 300.0, 108.0, 308.0)], [], {"signal": "full"})


def test_a_few_matches_the_map_places_decide_nothing_a_confident_map_is_kept():
    result = apply_speech(_full_mix_map(), _FewMatches(_starts([(30.0, 28.0), (150.0, 158.0)]), []))
    assert result.aligned, result.reason


def test_a_few_matches_leave_a_weak_map_held_for_review_not_rejected():
    result = apply_speech(_weak_full_mix_map(), _FewMatches(_starts([(30.0, 28.0)]), []))
    assert result.verdict == "review" and "matched too few lines" in result.reason


def test_matched_lines_the_map_puts_elsewhere_still_reject_a_weak_map():
    """Three chance matches in a different film, each far from where the map puts it."""
    elsewhere = _starts([(30.0, 70.0), (150.0, 20.0), (250.0, 120.0)])
    result = apply_speech(_weak_full_mix_map(), _FewMatches(elsewhere, []))
    assert result.verdict == "rejected" and result.segments == []


def test_one_consistent_line_that_misses_the_map_does_not_reject_it():
    """Most line starts land on the map; the single one judged consistent does not."""
    anchors = _starts([(10.0, 30.0)])
    outliers = _starts([(120.0, 128.0), (200.0, 208.2), (250.0, 257.9)])
    result = apply_speech(_full_mix_map(), _Evidence(anchors, outliers))
    assert result.verdict == "aligned", result.reason
    assert result.segments


def test_three_consistent_lines_elsewhere_still_reject_a_weak_map():
    anchors = _starts([(10.0, 30.0), (50.0, 70.0), (80.0, 100.0)])
    result = apply_speech(_weak_full_mix_map(), _Evidence(anchors, []))
    assert result.verdict == "rejected" and "speech disagrees with the audio map" in result.reason


def test_line_starts_a_sentence_split_away_do_not_hold_a_confident_map():
    """Whisper splits a line into sentences differently in each language, so matched onsets
    sit up to a second or two off a map that is right to the millisecond (blind seed 5103)."""
    anchors = _starts([(10.0, 9.1), (50.0, 46.9)])
    outliers = _starts([(120.0, 129.1), (200.0, 206.7), (250.0, 259.3)])
    result = apply_speech(_full_mix_map(), _Evidence(anchors, outliers))
    assert result.verdict == "aligned", result.reason
    assert result.segments == _full_mix_map().segments
