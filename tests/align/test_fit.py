"""The shared-slope fit and how anchors are grouped into stretches for it."""
import numpy as np

from syncdub_companion.align.fit import cluster_lags, fit_shared_slope, stretch_runs

HOP = 1000          # one 20 s chunk every 10 s, in 100 Hz frames
SPEED_ERROR = -2e-4  # a probe's 1000/1001 where the dub runs 2503/2500


def _film(offsets, per_stretch=30, noise=0.1, seed=0):
    """Anchors of consecutive stretches at ``offsets`` (frames), drifting by SPEED_ERROR."""
    rng = np.random.default_rng(seed)
    centres, lags, truth = [], [], []
    t = 0
    for k, offset in enumerate(offsets):
        c = t + HOP * np.arange(per_stretch)
        centres.append(c)
        lags.append(offset + SPEED_ERROR * c + rng.normal(0, noise, per_stretch))
        truth.append(np.full(per_stretch, k))
        t += HOP * per_stretch
    return np.concatenate(centres).astype(float), np.concatenate(lags), np.concatenate(truth)


# Offsets of a film with many short cuts: stretches far apart whose offsets differ by
# less than the drift a wrong speed adds over the film, so their lag values interleave.
OFFSETS = [0, 600, 40, 1700, 80, 1900, 20, 2800, 60, 3000, 100, 640, 30, 1720]


def test_runs_follow_each_stretch_in_dub_order():
    centres, lags, truth = _film(OFFSETS)
    groups = stretch_runs(centres, lags, gap=30.0)
    assert len(np.unique(groups)) == len(OFFSETS)
    for k in range(len(OFFSETS)):
        assert len(np.unique(groups[truth == k])) == 1


def test_the_shared_slope_is_found_where_lag_values_of_distant_stretches_coincide():
    centres, lags, _ = _film(OFFSETS)
    weights = np.ones(len(lags))
    by_runs = fit_shared_slope(centres, lags, stretch_runs(centres, lags, gap=30.0), weights)
    assert abs(by_runs.slope - SPEED_ERROR) < 2e-6
    # Grouped by lag value alone, the stretches an hour apart share an intercept that
    # fits none of them, and the slope is far off: what seed 2002 at 2 hours met.
    by_value = fit_shared_slope(centres, lags, cluster_lags(lags, gap=30.0), weights)
    assert abs(by_value.slope - SPEED_ERROR) > 5e-5


def test_a_stray_anchor_inside_a_stretch_does_not_end_its_run():
    centres, lags, truth = _film([0, 900], per_stretch=20)
    lags[5] += 400.0   # a chunk that matched a reused cue elsewhere
    groups = stretch_runs(centres, lags, gap=30.0)
    first = np.delete(groups[truth == 0], 5)
    assert len(np.unique(first)) == 1
    assert groups[5] not in set(first.tolist())
    fit = fit_shared_slope(centres, lags, groups, np.ones(len(lags)))
    assert abs(fit.slope - SPEED_ERROR) < 2e-6


def test_a_stretch_that_returns_after_others_is_a_new_run():
    centres, lags, truth = _film([0, 700, 1500, 10])
    groups = stretch_runs(centres, lags, gap=30.0)
    assert groups[truth == 0][0] != groups[truth == 3][0]
