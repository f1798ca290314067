"""The segmentation's Viterbi pass: its block-wise recurrence gives the step-by-step one's path."""
import numpy as np
import pytest

from syncdub_companion.align.segment import OUTSIDE, SWITCH_PENALTY, best_path, runs


def step_by_step(emis: np.ndarray, penalty: float) -> np.ndarray:
    """The recurrence as first written (one numpy step per coarse frame): the reference."""
    score = emis[0].copy()
    back = np.zeros(emis.shape, dtype=np.int64)
    states = np.arange(emis.shape[1])
    for t in range(1, len(emis)):
        best = int(np.argmax(score))
        switch = score[best] - penalty
        stay = score >= switch
        back[t] = np.where(stay, states, best)
        score = np.where(stay, score, switch) + emis[t]
    path = np.empty(len(emis), dtype=np.int64)
    path[-1] = int(np.argmax(score))
    for t in range(len(emis) - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


def emissions(seed: int, frames: int, states: int, rounded: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    emis = rng.normal(-0.1, 0.3, (frames, states))
    if rounded:   # many exact ties, as silence (every state scoring zero) gives
        emis = np.round(emis, 1)
        emis[rng.random(frames) < 0.3] = 0.0
    for j in range(states - 1):   # each state matches for a while, one after another
        lo = rng.integers(0, frames - 500)
        emis[lo:lo + rng.integers(100, 3000), j] += 0.6
    emis[rng.integers(0, frames, frames // 50), 0] = OUTSIDE
    emis[:, -1] = 0.0
    return emis


@pytest.mark.parametrize("states", [2, 3, 8, 14])
@pytest.mark.parametrize("rounded", [True, False])
def test_best_path_is_the_step_by_step_one(states, rounded):
    for seed in range(3):
        emis = emissions(seed, 6000, states, rounded)
        got = best_path(emis, SWITCH_PENALTY)
        assert np.array_equal(got, step_by_step(emis, SWITCH_PENALTY)), seed
        assert len(runs(got)) > 1   # not a trivial case: the path switches


def test_best_path_of_pure_noise_is_the_step_by_step_one():
    """Noise changes the best state every few frames: the fallback, one frame at a time."""
    emis = np.random.default_rng(7).normal(0.0, 1.0, (4000, 5))
    emis[:, -1] = 0.0
    assert np.array_equal(best_path(emis, SWITCH_PENALTY), step_by_step(emis, SWITCH_PENALTY))
