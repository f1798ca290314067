"""A slowly varying speed (a dub captured from tape): the map follows it with knots.

A tape's speed wobbles by a few tenths of a percent over tens of seconds to minutes; one
line per stretch then leaves tens of milliseconds of error. The wobble is measured as a
smooth curve through the anchors' lags (per-stretch offsets, a second-difference penalty,
knots every few seconds), with its straight part removed: the line stays the fit's job.
It is only used where it explains far more than the anchors' own noise, so a pair without
drift keeps its straight segments.

Two passes: the 20 s chunks' lags give a coarse warp, which re-times the dub's features so
the segmentation (whose tracks tolerate one frame) follows the lag; the precise anchors
then give the fine remainder. The map stays piecewise linear (docs/aligner.md): each
segment is split at the warp's knots into joined segments.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import sparse

from .features import FPS, Features, features_at, frame_time, time_frame
from .timemap import Segment

COARSE_SPACING_S = 20.0   # knots of the warp from the 20 s chunks
FINE_SPACING_S = 5.0      # knots of the remainder from the 3 s anchors
COARSE_MIN_FRAMES = 1.25  # the segmentation's tracks tolerate one frame: warp past that only
FINE_MIN_FRAMES = 0.4     # 4 ms: less is within what a line already gets right
EXPLAINED = 0.5           # the curve must remove at least half of the line's residual power
# ...and beat the line by this F ratio, counting the curve's effective degrees of freedom:
# a bend that many knots could draw through noise is not evidence. Half-overlapping anchors
# are not independent, hence a high bar (tape pairs score in the hundreds).
MIN_F = 10.0
COARSE_MIN_F = 5.0        # the 20 s chunks are few (10-30 in a short film): a lower bar
MIN_PER_KNOT = 2          # anchors per knot interval, on average: wider knots where fewer
SMOOTH = 0.1              # second-difference penalty, per unit of anchor weight per knot
SIMPLIFY_S = 0.0003       # knots whose neighbours' line is within 0.3 ms of them are dropped


@dataclass(frozen=True)
class Curve:
    """Piecewise-linear values at ``knots`` (both 1-D), linear in between; outside, the end
    slopes carry on for one knot spacing (a film's first and last seconds have no anchor
    of their own), then it stays flat."""

    knots: np.ndarray
    values: np.ndarray

    def __call__(self, x):
        x = np.asarray(x, dtype=np.float64)
        k, v = self.knots, self.values
        reach = k[1] - k[0]
        head = np.clip(k[0] - x, 0.0, reach) * (v[0] - v[1]) / (k[1] - k[0])
        tail = np.clip(x - k[-1], 0.0, reach) * (v[-1] - v[-2]) / (k[-1] - k[-2])
        return np.interp(x, k, v) + head + tail

    def scaled(self, x_scale, y_scale: float) -> "Curve":
        return Curve(x_scale(self.knots), self.values * y_scale)


@dataclass(frozen=True)
class Bend:
    """y = intercepts[group] + slope * x + curve(x), where the curve has no straight part."""

    curve: Curve
    slope: float
    intercepts: dict[int, float]
    f_ratio: float = 0.0      # how far the bend beats the line (see MIN_F)


def wobble(x: np.ndarray, y: np.ndarray, groups: np.ndarray, weights: np.ndarray, spacing: float,
           min_amplitude: float, min_f: float = MIN_F) -> Bend | None:
    """The smooth non-linear part of ``y`` against ``x`` (one offset per group), or None
    when there is none worth following.

    ``x`` and ``spacing`` share a unit, as do ``y`` and ``min_amplitude``. The line that
    comes with the bend is not the straight fit's: with several groups, each group's offset
    also absorbs the bend's mean over its own stretch.
    """
    if len(x) < 8 or x.max() - x.min() < 2 * spacing:
        return None
    keep = np.ones(len(x), dtype=bool)
    for _ in range(3):
        solved = _solve(x, y, groups, weights, keep, spacing)
        if solved is None:
            return None
        bend, resid, line_resid, edf = solved
        spread = 1.4826 * np.median(np.abs(resid[keep]))
        new = np.abs(resid) <= max(4.0 * spread, 0.35)
        if np.array_equal(new, keep):
            break
        keep = new
    w = weights[keep]
    power_line = np.sum(w * line_resid[keep] ** 2)
    power_curve = np.sum(w * resid[keep] ** 2)
    n, dof_line = int(keep.sum()), len(set(groups[keep].tolist())) + 1
    gain = (power_line - power_curve) / max(edf - dof_line, 1.0)
    f_ratio = gain / max(power_curve / max(n - edf, 1.0), 1e-12)
    # What the bend changes in the map: its fit against the straight one, at the anchors (the
    # curve's own values trade off against the offsets of stretches that a gap separates).
    amplitude = float(np.max(np.abs(line_resid[keep] - resid[keep])))
    if amplitude < min_amplitude or power_curve > EXPLAINED * power_line or f_ratio < min_f:
        return None
    return replace(bend, f_ratio=round(float(f_ratio), 1))


def _solve(x, y, groups, weights, keep, spacing):
    ids = sorted(set(groups[keep].tolist()))
    if not ids or keep.sum() < 8:
        return None
    sel = np.flatnonzero(keep)
    spacing = max(spacing, MIN_PER_KNOT * (x[sel].max() - x[sel].min()) / max(len(sel) - 1, 1))
    knots = np.linspace(x[sel].min(), x[sel].max(), max(3, int(np.ceil((x[sel].max() - x[sel].min()) / spacing)) + 1))
    basis = _hats(x, knots)
    col = {g: i for i, g in enumerate(ids)}
    inside = np.flatnonzero([g in col for g in groups])
    offsets = sparse.csr_matrix((np.ones(len(inside)), (inside, [col[g] for g in groups[inside]])),
                                shape=(len(x), len(ids)))
    # Sparse: a 2-hour film has ~1,500 knots and each anchor touches two of them; the dense
    # design matrix's products cost a quarter of a second a pass there.
    a = sparse.hstack([basis, offsets], format="csr")[sel]
    w = weights[sel]
    k = len(knots)
    d2 = sparse.diags([1.0, -2.0, 1.0], [0, 1, 2], shape=(k - 2, k))
    smooth = SMOOTH * np.sum(w) / k * (d2.T @ d2) + 1e-6 * sparse.identity(k)
    penalty = sparse.block_diag([smooth, sparse.csr_matrix((len(ids), len(ids)))])
    normal = a.T @ a.multiply(w[:, None])
    system = _factor((normal + penalty).tocsc())
    theta = system.solve(a.T @ (w * y[sel]))
    edf = float(np.trace(system.solve(normal.toarray())))   # effective parameters of the penalised fit
    values = theta[:k]
    # The straight part belongs to the speed and the offsets: keep only the bend.
    line = np.polyfit(x[sel], basis[sel] @ values, 1, w=np.sqrt(w))
    values = values - np.polyval(line, knots)
    intercept = np.array([theta[k + col[g]] if g in col else np.nan for g in groups])
    resid = y - intercept - np.polyval(line, x) - basis @ values
    line_resid = _line_residual(x, y, groups, w, sel)
    bend = Bend(Curve(knots, values), float(line[0]), {g: float(theta[k + col[g]] + line[1]) for g in ids})
    return bend, resid, line_resid, edf


def _factor(matrix: sparse.csc_matrix):
    """The penalised normal matrix, factored for solves (scipy's SuperLU).

    The knots' block is banded and the offsets come last, so in this order the factors
    fill in nothing but the offsets' rows. With 1,500 knots (2 hours) the matrix's
    condition number nears 1e8: the dense inverse this replaces left a residual of 1e-2 in
    the solution, this 1e-9; and it needs no BLAS threads, which a busy box kept waiting
    (0.7 s a pass there against 0.1 s).
    """
    from scipy.sparse.linalg import splu   # 40 ms of imports, not paid by processes that never fit a map

    return splu(matrix, permc_spec="NATURAL", diag_pivot_thresh=0.0)


def _line_residual(x, y, groups, w, sel):
    """Residuals of one shared slope with an offset per group (what the map had before)."""
    ids = sorted(set(groups[sel].tolist()))
    col = {g: i for i, g in enumerate(ids)}
    a = np.zeros((len(x), len(ids) + 1))
    inside = np.array([g in col for g in groups])
    a[np.flatnonzero(inside), [col[g] for g in groups[inside]]] = 1.0
    a[:, -1] = x
    sol, *_ = np.linalg.lstsq(a[sel] * np.sqrt(w)[:, None], y[sel] * np.sqrt(w), rcond=None)
    return y - a @ sol


def _hats(x: np.ndarray, knots: np.ndarray) -> sparse.csr_matrix:
    """Linear-interpolation weights of each knot at each x (rows sum to one; outside the
    knots, the end knot's), as ``np.interp`` weighs them."""
    left = np.clip(np.searchsorted(knots, x, side="right") - 1, 0, len(knots) - 2)
    t = np.clip((x - knots[left]) / (knots[left + 1] - knots[left]), 0.0, 1.0)
    rows = np.arange(len(x))
    return sparse.csr_matrix((np.concatenate([1.0 - t, t]), (np.concatenate([rows, rows]), np.concatenate([left, left + 1]))),
                             shape=(len(x), len(knots)))


@dataclass(frozen=True)
class Warp:
    """Dub time d -> clock time v = d + shift(d), on which the tape's wobble is gone."""

    shift: Curve

    def to_clock(self, d):
        return np.asarray(d, dtype=np.float64) + self.shift(d)

    def to_dub(self, v):
        v = np.asarray(v, dtype=np.float64)
        d = v - self.shift(v)
        for _ in range(4):  # the shift moves by well under 1 % of d: a few steps converge
            d = v - self.shift(d)
        return d

    @classmethod
    def from_lags(cls, curve: Curve, speed: float) -> "Warp":
        """A lag wobble (frames, against re-timed frames) as a shift of the dub's clock."""
        return cls(curve.scaled(lambda k: speed * frame_time(k), speed / FPS))


def retimed(feat: Features, speed: float, warp: Warp, n_frames: int) -> Features:
    """Like features.resample_features, on the wobble-free clock: frame j holds dub time
    warp.to_dub(speed * t_j)."""
    return features_at(feat, time_frame(warp.to_dub(speed * frame_time(np.arange(n_frames)))))


def retimed_envelope(env: np.ndarray, speed: float, warp: Warp, n_frames: int) -> np.ndarray:
    src = time_frame(warp.to_dub(speed * frame_time(np.arange(n_frames))))
    return np.interp(src, np.arange(len(env)), env, left=0.0, right=0.0).astype(np.float32)


@dataclass(frozen=True)
class Drift:
    """How segments found on the wobble-free clock become the dub's: ``warp`` (dub -> clock)
    and ``fine`` (seconds added to the original time, by clock time)."""

    warp: Warp | None
    fine: Curve | None

    def knots(self, v0: float, v1: float) -> np.ndarray:
        """Clock times in [v0, v1] where the map bends, ends included."""
        inner = []
        if self.warp is not None:
            inner.append(self.warp.to_clock(self.warp.shift.knots))
        if self.fine is not None:
            inner.append(self.fine.knots)
        pts = np.concatenate([[v0, v1]] + inner)
        return np.unique(pts[(pts >= v0) & (pts <= v1)])

    def to_dub(self, v):
        return v if self.warp is None else self.warp.to_dub(v)

    def unwarp(self, segments: list[Segment], start: tuple[float, float] | None = None,
               end: tuple[float, float] | None = None) -> list[Segment]:
        """Segments on the clock -> joined segments on the dub's own timeline, one per knot.

        With ``start`` (``end``), the (dub, original) times where both files start (end),
        the first (last) segment is a stretch bridged from there: it becomes one line from
        that point to where the warp puts its other end. Before the first anchor the warp
        only extrapolates, and so does the clock's line to time 0; both files starting
        together is the better evidence (seeds 5028 and 5060, an opening song swapped on a
        tape dub: 7 s and 23 s mapped 50-70 ms off; from where the clock's line met 0,
        seed 5209's PAL tape opening was 40-60 ms off).
        """
        out = []
        for i, seg in enumerate(segments):
            pieces = self._unwarp_one(seg)
            if pieces and start is not None and i == 0:
                pieces = [Segment(start[0], pieces[-1].dub_end, start[1], pieces[-1].orig_end)]
            elif pieces and end is not None and i == len(segments) - 1:
                pieces = [Segment(pieces[0].dub_start, end[0], pieces[0].orig_start, end[1])]
            out += pieces
        return out

    def _unwarp_one(self, seg: Segment) -> list[Segment]:
        vs = self.knots(seg.dub_start, seg.dub_end)
        origs = np.array([seg.to_orig(float(v)) for v in vs])
        if self.fine is not None:
            origs = origs + self.fine(vs)
        ds = np.array(self.to_dub(vs), dtype=np.float64)
        keep = _simplify(ds, origs)
        ds, origs = ds[keep], origs[keep]
        return [Segment(float(ds[i]), float(ds[i + 1]), float(origs[i]), float(origs[i + 1]))
                for i in range(len(ds) - 1) if ds[i + 1] > ds[i] and origs[i + 1] > origs[i]]


def _simplify(x: np.ndarray, y: np.ndarray, tol: float = SIMPLIFY_S) -> np.ndarray:
    """Indices of the knots to keep: greedy, each run as long as a line stays within ``tol``."""
    keep, i = [0], 0
    while i < len(x) - 1:
        j = i + 1
        while j + 1 < len(x):
            span = slice(i, j + 2)
            line = y[i] + (x[span] - x[i]) * (y[j + 1] - y[i]) / (x[j + 1] - x[i])
            if np.max(np.abs(line - y[span])) > tol:
                break
            j += 1
        keep.append(j)
        i = j
    return np.array(keep)
