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
                     rounds: int = 4, fixed_slope: float | None = None) -> LineFit | None:
    """Weighted least squares with per-group intercepts and one slope; drops outliers each round."""
    used = np.ones(len(frames), dtype=bool)
    fit = None
    for _ in range(rounds):
        fit = _solve(frames, lags, groups, weights, used, fixed_slope)
        if fit is None:
            return None
        resid = lags - (np.array([fit.intercepts.get(g, np.nan) for g in groups]) + fit.slope * frames)
        spread = 1.4826 * np.median(np.abs(resid[used])) if used.any() else 0.0
        keep = np.abs(resid) <= max(3.0 * spread, 0.35)
        if np.array_equal(keep & used, used):
            break
        used = keep & used
    return fit


def _solve(frames, lags, groups, weights, used, fixed_slope) -> LineFit | None:
    ids = sorted(set(groups[used].tolist()))
    if not ids:
        return None
    col = {g: i for i, g in enumerate(ids)}
    sel = np.flatnonzero(used)
    n_par = len(ids) + (0 if fixed_slope is not None else 1)
    if len(sel) < n_par:
        return None
    a = np.zeros((len(sel), n_par))
    for row, i in enumerate(sel):
        a[row, col[groups[i]]] = 1.0
    target = lags[sel].astype(np.float64)
    if fixed_slope is None:
        a[:, -1] = frames[sel]
    else:
        target = target - fixed_slope * frames[sel]
    w = np.sqrt(weights[sel])
    sol, *_ = np.linalg.lstsq(a * w[:, None], target * w, rcond=None)
    slope = float(sol[-1]) if fixed_slope is None else fixed_slope
    pred = a @ sol if fixed_slope is None else a @ sol
    resid = target - pred
    rms = float(np.sqrt(np.sum(weights[sel] * resid ** 2) / max(np.sum(weights[sel]), 1e-9)))
    return LineFit(slope=slope, intercepts={g: float(sol[col[g]]) for g in ids}, residual=rms, used=used.copy())


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
