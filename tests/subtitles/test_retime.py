"""The cue rules: stretch with the speed, drop outside the map, clip at a cut, no flashes."""
from __future__ import annotations

import pytest

from subs_media import CUES, DUB_START, FRAME, ORIG_START, PAL, truth_map
from syncdub_companion.align.timemap import Segment, TimeMap
from syncdub_companion.subtitles.retime import MIN_SECONDS, Retimer, RetimeReport


@pytest.mark.parametrize("label,start,end,expected", CUES, ids=[c[0] for c in CUES])
def test_cue_lands_where_the_true_map_puts_it(label, start, end, expected):
    placement = Retimer(truth_map(), DUB_START, ORIG_START).place(start, end)
    if expected is None:
        assert placement is None
    else:
        assert placement is not None
        assert abs(placement.start - expected[0]) <= FRAME and abs(placement.end - expected[1]) <= FRAME


def test_clipped_only_where_the_map_cut_the_cue():
    retimer = Retimer(truth_map(), DUB_START, ORIG_START)
    flags = {label: retimer.place(s, e).clipped for label, s, e, want in CUES if want is not None}
    assert flags == {"out of the logo": True, "plain": False, "across the cut": True, "after the cut": False}


def test_a_speed_up_stretches_the_cue():
    placement = Retimer(truth_map()).place(5.0, 5.0 + 2 * PAL)
    assert placement.end - placement.start == pytest.approx(2.0, abs=1e-9)


def test_a_piece_too_short_to_read_is_dropped():
    # a cue that leaves the logo only 50 ms before it ends
    retimer = Retimer(TimeMap("aligned", 1, "", 1.0, [Segment(3.0, 20.0, 0.0, 17.0)]))
    assert retimer.place(1.0, 3.0 + MIN_SECONDS / 2) is None
    assert retimer.place(1.0, 3.0 + 2 * MIN_SECONDS) is not None


def test_report_counts():
    retimer, report = Retimer(truth_map(), DUB_START, ORIG_START), RetimeReport()
    for _, s, e, _ in CUES:
        report.add(retimer.place(s, e))
    assert (report.kept, report.dropped, report.clipped) == (4, 1, 2)
    assert report.text() == "4 cues kept (2 clipped at a cut), 1 dropped"
