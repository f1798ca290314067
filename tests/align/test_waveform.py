"""Segment edges placed on the waveform (align/waveform.py)."""
from __future__ import annotations

import numpy as np
import pytest

from syncdub_companion.align.timemap import Segment
from syncdub_companion.align.waveform import refine_edges

SR = 8000


def _noise(seconds: float, seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).normal(0, 3000, int(seconds * SR))).astype(np.float32)


def test_the_first_segments_start_in_silence_both_files_share_moves_to_where_the_sound_starts():
    """Dub: 3 s of digital silence (its own lead-in), then the film. Original: 2 s of silence,
    then the same film. Both silences score "no evidence", and the first of equal maxima
    moved the start back to the search's far end: 1 s of the dub's lead-in was mapped."""
    film = _noise(20.0, 1)
    dub = np.concatenate([np.zeros(3 * SR, np.float32), film])
    orig = np.concatenate([np.zeros(2 * SR, np.float32), film])
    seg = Segment(2.5, 23.0, 1.5, 22.0)   # the features left the start 0.5 s early

    (moved,) = refine_edges([seg], dub, orig, SR)

    # within half a 40 ms profile window: one that just reaches the sound matches already
    assert 2.975 <= moved.dub_start <= 3.02, moved
    assert abs((moved.orig_start - moved.dub_start) - (-1.0)) < 1e-6


@pytest.mark.parametrize("dub_lead,orig_lead,start", [
    (3.0, 2.0, 2.5),   # the features left the start 0.5 s early
    # A dub-only logo longer than the 1 s other edges are searched over (the original has
    # its own logo there): the features carried the film's offset back over all of it.
    (2.5, 2.5, 0.0),
])
def test_a_first_start_inside_sound_that_does_not_match_moves_forward_to_the_match(dub_lead, orig_lead, start):
    film = _noise(20.0, 2)
    dub = np.concatenate([_noise(dub_lead, 3), film])
    orig = np.concatenate([_noise(orig_lead, 4), film])
    offset = orig_lead - dub_lead
    seg = Segment(start, dub_lead + 20.0, start + offset, orig_lead + 20.0)

    (moved,) = refine_edges([seg], dub, orig, SR)

    assert dub_lead - 0.025 <= moved.dub_start <= dub_lead + 0.02, moved


def test_a_lead_in_keeps_a_true_start_whose_first_seconds_hold_a_line_over_the_bed():
    """A full mix: 0.5 s of bed that matches, then a 3 s line the other language does not
    share, then bed again. The start stays where the match starts; weighing the evidence
    over the line would have cut the start back to after it."""
    bed = _noise(20.0, 8)
    line = _noise(3.0, 9) * 4
    dub = np.concatenate([np.zeros(SR, np.float32), bed])
    orig = dub.copy()
    dub[int(1.5 * SR):int(4.5 * SR)] += line
    seg = Segment(1.0, 21.0, 1.0, 21.0)

    (moved,) = refine_edges([seg], dub, orig, SR)

    assert abs(moved.dub_start - 1.0) <= 0.03, moved
