"""The tape capture of the corpus: the audio and the truth follow one exact warp."""
from __future__ import annotations

import numpy as np

from benchmarks.tape import SR, Tape, Wobble, warp_truth

WOBBLE = Wobble(((0.0028, 97.0, 0.4), (0.0012, 31.0, 2.2)))


class Tone:
    channels, length = 1, SR * 40

    def render(self, start, n):
        return np.sin(2 * np.pi * 440 * np.arange(start, start + n) / SR)[:, None].astype(np.float32)


def test_the_tape_plays_source_time_at_the_warped_moment_block_by_block():
    tape = Tape(Tone(), WOBBLE)
    whole = tape.render(0, SR * 12)[:, 0]
    block = tape.render(SR * 7, SR)[:, 0]
    assert np.abs(whole[SR * 7:SR * 8] - block).max() < 1e-5   # blocks are slices of one render
    t = np.arange(SR * 5, SR * 11) / SR
    expected = np.sin(2 * np.pi * 440 * WOBBLE.source(t))
    # what is left is the hiss (-58 dBFS) and the low-pass ripple; a 0.1 ms slip would be 0.28
    assert np.abs(whole[SR * 5:SR * 11] - expected).max() < 0.01
    assert float(np.max(np.abs(WOBBLE.source(t) - t))) > 0.015  # the warp is tens of ms


def test_the_warped_truth_has_its_knots_on_the_warp_and_keeps_dub_only_stretches_out():
    truth, dub_only = warp_truth([{"dub_start": 2.0, "dub_end": 30.0, "orig_start": 5.0, "orig_end": 33.0}],
                                 [(0.0, 2.0)], WOBBLE)
    assert len(truth) >= 55
    for a, b in zip(truth, truth[1:]):
        assert a["dub_end"] == b["dub_start"] and a["orig_end"] == b["orig_start"]
    for seg in truth:
        assert abs(seg["orig_start"] - (3.0 + float(WOBBLE.source(seg["dub_start"])))) < 1e-9
    assert dub_only[0][0] == 0.0 and abs(dub_only[0][1] - truth[0]["dub_start"]) < 1e-12
