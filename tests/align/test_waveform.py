"""Segment edges placed on the waveform (align/waveform.py)."""
from __future__ import annotations

import numpy as np

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


def test_a_start_inside_sound_that_does_not_match_moves_forward_to_the_match():
    film = _noise(20.0, 2)
    dub = np.concatenate([_noise(3.0, 3), film])
    orig = np.concatenate([_noise(2.0, 4), film])
    seg = Segment(2.5, 23.0, 1.5, 22.0)

    (moved,) = refine_edges([seg], dub, orig, SR)

    assert 2.975 <= moved.dub_start <= 3.02, moved
