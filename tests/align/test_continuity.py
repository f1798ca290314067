"""Bridging stretches whose bed differs (a swapped song) between segments of one map."""
from __future__ import annotations

import pytest

from syncdub_companion.align.continuity import bridge, wobble_tolerance
from syncdub_companion.align.timemap import Segment

PAL = 23.976 / 25  # dub seconds per original second


def line(d0: float, d1: float, offset: float, speed: float = 1.0) -> Segment:
    """Dub [d0, d1] on the map orig = dub / speed + offset."""
    return Segment(d0, d1, d0 / speed + offset, d1 / speed + offset)


def covered(segments: list[Segment]) -> float:
    return sum(s.dub_end - s.dub_start for s in segments)


@pytest.mark.parametrize("speed", [1.0, PAL])
def test_a_swapped_song_between_two_pieces_of_one_map_is_bridged(speed):
    segs = [line(10, 100, 3.0, speed), line(160, 300, 3.0, speed)]
    out, added = bridge(segs, orig_duration=400, dub_duration=400)
    assert added == pytest.approx(60)
    assert [(s.dub_start, s.dub_end) for s in out] == [(10, 100), (100, 160), (160, 300)]
    middle = out[1]
    assert middle.to_orig(130) == pytest.approx(130 / speed + 3.0, abs=1e-6)


def test_a_cut_or_an_inserted_scene_between_them_is_not_bridged():
    for second_offset in (3.0 + 1.0, 3.0 - 4.0):  # a 1 s cut in the dub, a 4 s inserted scene
        segs = [line(10, 100, 3.0), line(160, 300, second_offset)]
        out, added = bridge(segs, 400, 400)
        assert out == segs and added == 0


def test_offsets_that_differ_by_more_than_a_frame_are_not_joined():
    segs = [line(10, 100, 3.0), line(160, 300, 3.05)]
    assert bridge(segs, 400, 400)[0] == segs


def test_on_a_wobbling_tape_the_stretches_of_one_line_meet_within_twice_its_bend():
    """Each stretch's offset takes in the bend's mean over it: a tape bending 50 ms either
    way put a swapped song's two neighbours 114 ms apart (seed 5163), where a cut or an
    inserted scene moves the offset by its own length, a second or more."""
    segs = [line(10, 100, 3.0), line(160, 300, 3.0 - 0.09)]
    assert bridge(segs, 400, 400)[1] == 0
    assert bridge(segs, 400, 400, join_tolerance=wobble_tolerance(0.05))[1] == pytest.approx(60)
    cut = [line(10, 100, 3.0), line(160, 300, 4.0)]
    assert bridge(cut, 400, 400, join_tolerance=wobble_tolerance(0.05))[1] == 0


def test_a_different_speed_on_either_side_is_not_bridged():
    segs = [Segment(10, 100, 13, 103), Segment(160, 300, 163.0, 163.0 + 140 / 1.001)]
    assert bridge(segs, 400, 400)[0] == segs


def test_two_episodes_sharing_only_their_songs_are_not_bridged_across_the_episode():
    """Opening and ending themes at the same offsets, 20 minutes of different film between."""
    segs = [line(0, 60, 0.0), line(1260, 1320, 0.0)]
    out, added = bridge(segs, 1320, 1320)
    assert out == segs and added == 0


def test_a_gap_as_long_as_the_evidence_around_it_is_bridged_and_no_longer():
    assert bridge([line(0, 50, 0.0), line(150, 200, 0.0)], 400, 400)[1] == pytest.approx(100)
    assert bridge([line(0, 50, 0.0), line(151, 200, 0.0)], 400, 400)[1] == 0


def test_a_run_of_bridged_segments_counts_as_evidence_for_the_next_gap():
    segs = [line(0, 100, 0.0), line(130, 160, 0.0), line(250, 300, 0.0)]
    out, added = bridge(segs, 400, 400)
    # 100 + 30 + the bridge of 30 on the left, 50 on the right: the 90 s gap is bridged too.
    assert added == pytest.approx(30 + 90)
    assert covered(out) == pytest.approx(300)


def test_a_swapped_opening_song_is_bridged_when_both_files_start_together():
    out, added = bridge([line(40, 300, 0.02, PAL)], orig_duration=400, dub_duration=400 * PAL + 30)
    assert added == pytest.approx(40, abs=0.03)
    assert out[0].dub_start == pytest.approx(0, abs=0.03) and out[0].orig_start == pytest.approx(0, abs=0.03)


def test_a_logo_before_the_dub_is_never_mapped_into_the_film():
    """The dub's first 5 s are a logo: the map reaches the original's time 0 only at 5 s."""
    out, added = bridge([line(40, 300, -5.0)], orig_duration=400, dub_duration=420)
    assert added == 0 and out[0].dub_start == 40


def test_a_swapped_ending_song_is_bridged_when_both_files_end_together():
    out, added = bridge([line(0, 330, 1.0)], orig_duration=400, dub_duration=399)
    assert added == pytest.approx(69)
    assert out[-1].dub_end == pytest.approx(399) and out[-1].orig_end == pytest.approx(400)


def test_an_extra_scene_at_the_dubs_end_is_not_mapped():
    out, added = bridge([line(0, 330, 1.0)], orig_duration=360, dub_duration=399)
    assert added == 0 and out[-1].dub_end == 330


def test_no_segments_stay_none():
    assert bridge([], 100, 100) == ([], 0.0)


def test_an_opening_song_longer_than_the_first_stretch_is_bridged_up_to_a_title_songs_length():
    """A swapped 41 s opening, then 25 s of film before a cut."""
    segs = [line(41, 66, 0.0), line(66, 200, 3.0)]
    out, added = bridge(segs, orig_duration=400, dub_duration=420)
    assert added == pytest.approx(41) and out[0].dub_start == 0
    assert bridge([line(95, 120, 0.0)], 400, 420)[1] == 0  # longer than any title song
