"""Anchors to lines: a shared speed with one offset per stretch, fitted robustly.

Every real conversion runs the whole film at one rate, so all stretches share the slope;
a short stretch between two cuts then needs only enough anchors to fix its offset.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class LineFit:
    """lag = intercepts[group] + slope * frame, in frames; residual in frames (weighted RMS)."""

    slope: float
    intercepts: dict[int, float]
    residual: float
    used: np.ndarray  # bool mask over the anchors that survived outlier removal


def fit_shared_slope(frames: np.ndarray, lags: np.ndarray, groups: np.ndarray, weights: np.ndarray,
                     rounds: int = 4) -> LineFit | None:
    """Weighted least squares with per-group intercepts and one slope; drops outliers each round."""
    used = np.ones(len(frames), dtype=bool)
    fit = None
    for _ in range(rounds):
        fit = _solve(frames, lags, groups, weights, used)
        if fit is None:
            return None
        resid = lags - (np.array([fit.intercepts.get(g, np.nan) for g in groups]) + fit.slope * frames)
        spread = 1.4826 * np.median(np.abs(resid[used])) if used.any() else 0.0
        keep = np.abs(resid) <= max(3.0 * spread, 0.35)
        if np.array_equal(keep & used, used):
            break
        used = keep & used
    return fit


def _solve(frames, lags, groups, weights, used) -> LineFit | None:
    ids = sorted(set(groups[used].tolist()))
    sel = np.flatnonzero(used)
    if not ids or len(sel) < len(ids) + 1:
        return None
    col = {g: i for i, g in enumerate(ids)}
    # One column per group (its intercept), the last for the shared slope.
    a = np.zeros((len(sel), len(ids) + 1))
    a[np.arange(len(sel)), [col[g] for g in groups[sel]]] = 1.0
    a[:, -1] = frames[sel]
    target = lags[sel].astype(np.float64)
    w = np.sqrt(weights[sel])
    sol, *_ = np.linalg.lstsq(a * w[:, None], target * w, rcond=None)
    resid = target - a @ sol
    rms = float(np.sqrt(np.sum(weights[sel] * resid ** 2) / max(np.sum(weights[sel]), 1e-9)))
    return LineFit(slope=float(sol[-1]), intercepts={g: float(sol[col[g]]) for g in ids}, residual=rms,
                   used=used.copy())


# A stretch's run goes on past this many anchors of other lags between two of its own: a
# stray chunk matched elsewhere (a reused cue) does not end a stretch, a run of them does.
RUN_LOOKBACK = 3


def stretch_runs(centres: np.ndarray, lags: np.ndarray, gap: float) -> np.ndarray:
    """Group ids for anchors: in dub order, an anchor carries on the run of one of the
    RUN_LOOKBACK anchors before it whose lag is within ``gap`` of its own (the nearest),
    and else starts a new one.

    Grouping the lag values alone (:func:`cluster_lags`) joins stretches far apart in
    the film whose offsets happen to be close. With a dozen short cuts and a speed still
    off by 2e-4 (a probe's 1000/1001 for a true 2503/2500), each stretch's lag drifts by
    a frame a minute, and stretches an hour apart fell into one group; their intercept
    then fitted none of them and the shared slope came out at a ninth of the true
    error (2-hour seed 2002).
    """
    order = np.argsort(centres, kind="stable")
    groups = np.empty(len(lags), dtype=np.int64)
    count = 0
    for i, idx in enumerate(order):
        before = order[max(0, i - RUN_LOOKBACK):i]
        near = [j for j in before if abs(lags[idx] - lags[j]) <= gap]
        if near:
            groups[idx] = groups[min(near, key=lambda j: abs(lags[idx] - lags[j]))]
        else:
            groups[idx], count = count, count + 1
    return groups


def cluster_lags(lags: np.ndarray, gap: float) -> np.ndarray:
    """Group ids for lags: sorted lags split wherever neighbours differ by more than ``gap``."""
    order = np.argsort(lags)
    groups = np.empty(len(lags), dtype=np.int64)
    g = 0
    for i, idx in enumerate(order):
        if i and lags[idx] - lags[order[i - 1]] > gap:
            g += 1
        groups[idx] = g
    return groups
