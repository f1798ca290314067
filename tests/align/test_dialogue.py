"""The dialogue's rhythm carrying stretches into silent-bed gaps (align/dialogue.py).

Activity is drawn frame by frame here, as the full mixes' level would give it, so that each
test states exactly which lines agree under which offset.
"""
from __future__ import annotations

import numpy as np

from syncdub_companion.align.dialogue import BED_MIN_RUN, Rhythm, bed_sounding, carry
from syncdub_companion.align.features import Features

N = 3000          # frames at 100 Hz on both timelines
LAGS = [0, 600]   # stretch 0 maps dub frame f to original f; stretch 1 to f + 600


def _rhythm(dub_lines, orig_lines, bed=()):
    dub, orig = np.zeros(N + 700, bool), np.zeros(N + 700, bool)
    for s, e in dub_lines:
        dub[s:e] = True
    for s, e in orig_lines:
        orig[s:e] = True
    dub_bed = np.zeros(N + 700, bool)
    for s, e in bed:
        dub_bed[s:e] = True
    return Rhythm(dub_active=dub, orig_active=orig, dub_bed=dub_bed, orig_bed=np.zeros(N + 700, bool))


def _path(gap=(1000, 2000)):
    path = np.zeros(N, np.int64)
    path[gap[0]:gap[1]] = -1
    path[gap[1]:] = 1
    return path


# Dub lines in the gap: three before the cut (at 1400), three after it.
BEFORE = [(1040, 1120), (1200, 1260), (1320, 1370)]
AFTER = [(1450, 1560), (1620, 1700), (1760, 1900)]


def _shifted(lines, lag, delay=20):
    """The original's lines under ``lag``: same starts (a little late), other lengths."""
    return [(s + lag + delay, e + lag + delay + 10) for s, e in lines]


def test_a_cut_in_a_silent_bed_goes_to_the_pause_between_the_two_stretches_lines():
    rhythm = _rhythm(BEFORE + AFTER, _shifted(BEFORE, 0) + _shifted(AFTER, 600))
    path, carried = carry(_path(), LAGS, rhythm)
    assert (path[1000:2000] != -1).all(), "every frame of the gap belongs to one of the two"
    cut = 1000 + int(np.argmax(path[1000:2000] == 1))
    assert 1370 <= cut <= 1450, cut          # inside the pause around the true cut
    assert (path[1000:cut] == 0).all() and (path[cut:2000] == 1).all()
    assert carried[1000:2000].all() and not carried[:1000].any()


def test_an_inserted_scenes_lines_stay_unmapped():
    """Lines in the middle that neither original place speaks: dub-only, never carried over."""
    insert = [(1450, 1560), (1620, 1700)]          # the original is silent there under both offsets
    rhythm = _rhythm(BEFORE + insert + [(1760, 1900)], _shifted(BEFORE, 0) + _shifted([(1760, 1900), (1930, 1990)], 600))
    path, _ = carry(_path(), LAGS, rhythm)
    assert (path[1450:1700] == -1).all(), "no frame of the inserted lines is mapped"
    assert (path[1000:1370] == 0).all(), "the stretch before is carried over its own lines"


def test_a_sounding_bed_is_left_to_the_bed():
    rhythm = _rhythm(BEFORE + AFTER, _shifted(BEFORE, 0) + _shifted(AFTER, 600), bed=[(1000, 2000)])
    path, carried = carry(_path(), LAGS, rhythm)
    assert (path[1000:2000] == -1).all() and not carried.any()


def test_one_agreeing_line_start_by_chance_carries_nothing():
    """Elsewhere the original speaks at other times: a single start landing near one of
    them is chance, and a line facing silence stops the stretch."""
    dub = [(1040, 1120), (1300, 1370), (1620, 1700)]
    orig = [(1050, 1200)] + [(1500 + 600, 1560 + 600)]
    path, carried = carry(_path(), LAGS, _rhythm(dub, orig))
    assert (path[1000:2000] == -1).all() and not carried.any()


def test_a_gap_between_two_pieces_of_one_offset_is_left_to_continuity():
    path = _path()
    path[2000:] = 0
    rhythm = _rhythm(BEFORE + AFTER, _shifted(BEFORE + AFTER, 0))
    out, carried = carry(path, LAGS, rhythm)
    assert (out == path).all() and not carried.any()


def test_a_line_that_agrees_under_both_offsets_is_evidence_for_neither():
    """The cut scene goes on in the original and one of its lines starts where the next
    stretch's line does: carried on by that, the first stretch would map it 6 s off."""
    dub = [(1040, 1120), (1450, 1560)]
    orig = [(1060, 1130), (1460, 1530)] + [(1470 + 600, 1550 + 600)]
    path, carried = carry(_path(), LAGS, _rhythm(dub, orig))
    assert not (path[1450:1560] == 0).any(), "the shared line is not carried by the stretch before"


def test_an_inserted_scene_with_its_own_bed_between_two_carried_stretches_stays_unmapped():
    """Both stretches are carried over their lines up to a stretch where the dub's bed
    sounds (an inserted scene's music): that is no cut in a pause, and stays unmapped."""
    before, after = [(1040, 1120), (1200, 1260)], [(1760, 1830), (1880, 1950)]
    rhythm = _rhythm(before + after, _shifted(before, 0) + _shifted(after, 600), bed=[(1400, 1700)])
    path, _ = carry(_path(), LAGS, rhythm)
    assert (path[1400:1700] == -1).all(), "no frame of the inserted scene is mapped"
    assert (path[1000:1260] == 0).all() and (path[1760:2000] == 1).all()


def test_a_dub_bed_that_sounds_only_while_the_dub_speaks_is_its_dialogue_leaking():
    """A tape dub's hiss or a stereo dub's centre left in the side channels makes the bed
    estimate sound under every line (seed 1: 19 s left unmapped at a cut); in the
    pauses it is silent, and the rhythm decides as it would with a silent bed."""
    rhythm = _rhythm(BEFORE + AFTER, _shifted(BEFORE, 0) + _shifted(AFTER, 600), bed=BEFORE + AFTER)
    path, carried = carry(_path(), LAGS, rhythm)
    assert (path[1000:2000] != -1).all() and carried[1000:2000].all()
    cut = 1000 + int(np.argmax(path[1000:2000] == 1))
    assert 1370 <= cut <= 1450, cut


def test_a_bed_sounding_in_a_pause_still_stops_the_rhythm():
    """Sound in the dub's bed between its lines is something the original lacks there."""
    pauses = [(1120, 1200), (1260, 1320), (1560, 1620)]
    rhythm = _rhythm(BEFORE + AFTER, _shifted(BEFORE, 0) + _shifted(AFTER, 600), bed=pauses)
    path, _ = carry(_path(), LAGS, rhythm)
    assert (path[1120:1620] == -1).all()


def _bed(levels_db):
    """Features whose one band has the given level per frame."""
    log_energy = (np.asarray(levels_db, dtype=np.float64) / 10.0)[:, None]
    return Features(log_energy=log_energy, loud=np.ones(len(levels_db), bool))


def test_a_bed_sounding_for_a_frame_or_two_is_noise_not_sound():
    levels = np.full(2000, -80.0)
    levels[100:400] = 0.0                          # a cue: the bed's loud level
    levels[1000:1000 + BED_MIN_RUN - 1] = 0.0      # a click or a burst of hiss
    levels[1500:1500 + BED_MIN_RUN] = 0.0          # a short sound, just long enough
    mask = bed_sounding(_bed(levels))
    assert mask[100:400].all()
    assert not mask[1000:1000 + BED_MIN_RUN].any()
    assert mask[1500:1500 + BED_MIN_RUN].all()
