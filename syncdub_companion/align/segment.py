"""Splitting the dub into stretches that follow one lag each, or none (dub-only content).

For every candidate lag a similarity track says, frame by frame, how well the dub matches
the original at that lag (local NCC of the band-energy detail over +-1 s). A Viterbi pass
at 10 Hz picks, per frame, one lag or "no match", paying a penalty per switch; frames with
no sound in either file score zero for every choice, so a stretch carries on through
silence instead of breaking. Boundaries are then refined at 100 Hz.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.ndimage import uniform_filter1d

SIM_HALF = 100        # +-1 s window of the similarity tracks (frames at 100 Hz)
DP_STEP = 10          # Viterbi runs at 10 Hz
SWITCH_PENALTY = 2.5  # in (similarity - threshold) x 10 Hz frames
OUTSIDE = -1.0        # per-frame score for mapping onto a moment the original doesn't have


@dataclass
class Track:
    """Similarity of the dub to the original at one lag, per dub frame, and where it means anything.

    ``evidence`` is false only where neither side has sound within the window: there
    every lag is equally plausible and the segmentation carries the current one on.
    """

    lag: int
    sim: np.ndarray       # float32, local NCC
    evidence: np.ndarray  # bool: enough sound on both sides to judge
    inside: np.ndarray    # bool: the lagged frame exists in the original


def similarity_track(z_dub: np.ndarray, z_orig: np.ndarray, lag: int, half: int = SIM_HALF,
                     tolerance: int = 1) -> Track:
    """Local NCC between dub frame t and original frame t+lag, best over lag +- tolerance."""
    n = len(z_dub)
    e_dub = (z_dub.astype(np.float32) ** 2).sum(axis=1)
    best = np.full(n, -1.0, dtype=np.float32)
    evidence = np.zeros(n, dtype=bool)
    inside = np.zeros(n, dtype=bool)
    for dl in range(-tolerance, tolerance + 1):
        idx = np.arange(n) + lag + dl
        ok = (idx >= 0) & (idx < len(z_orig))
        prod = np.zeros(n, dtype=np.float32)
        e_orig = np.zeros(n, dtype=np.float32)
        prod[ok] = np.einsum("ij,ij->i", z_dub[ok], z_orig[idx[ok]])
        e_orig[ok] = (z_orig[idx[ok]] ** 2).sum(axis=1)
        size = 2 * half + 1
        p = uniform_filter1d(prod, size, mode="constant")
        ed = uniform_filter1d(e_dub, size, mode="constant")
        eo = uniform_filter1d(e_orig, size, mode="constant")
        both = (ed > 1e-4) & (eo > 1e-4)
        # Sound on one side only is evidence too: a dub-only scene may open with silence
        # where the original has sound, and must not be mapped onto it.
        ev = (ed > 1e-4) | (eo > 1e-4)
        sim = np.where(both, p / np.sqrt(ed * eo + 1e-9), np.where(ev, 0.0, -1.0))
        better = sim > best
        best[better] = sim[better]
        evidence |= ev
        if dl == 0:
            inside = ok
    best[~evidence] = 0.0
    return Track(lag=lag, sim=best, evidence=evidence, inside=inside)


def viterbi(tracks: list[Track], threshold: float, step: int = DP_STEP,
            penalty: float = SWITCH_PENALTY) -> np.ndarray:
    """Per coarse frame, the chosen track index, or -1 for no match."""
    k = len(tracks)
    n = len(tracks[0].sim)
    coarse = np.arange(0, n, step)
    emis = np.zeros((len(coarse), k + 1), dtype=np.float64)
    for i, tr in enumerate(tracks):
        sim = uniform_filter1d(tr.sim, step, mode="nearest")[coarse]
        ev = tr.evidence[coarse]
        emis[:, i] = np.where(ev, sim - threshold, 0.0)
        emis[~tr.inside[coarse], i] = OUTSIDE
    # column k (no match) scores zero throughout
    score = emis[0].copy()
    back = np.zeros((len(coarse), k + 1), dtype=np.int16)
    states = np.arange(k + 1)
    for t in range(1, len(coarse)):
        best = int(np.argmax(score))
        switch = score[best] - penalty
        stay = score >= switch
        back[t] = np.where(stay, states, best)
        score = np.where(stay, score, switch) + emis[t]
    path = np.empty(len(coarse), dtype=np.int64)
    path[-1] = int(np.argmax(score))
    for t in range(len(coarse) - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    path[path == k] = -1
    return np.repeat(path, step)[:n]


def runs(path: np.ndarray) -> list[tuple[int, int, int]]:
    """(state, first frame, end frame) for each run of equal states."""
    change = np.flatnonzero(np.diff(path)) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [len(path)]])
    return [(int(path[s]), int(s), int(e)) for s, e in zip(starts, ends)]


def fill_same_lag_gaps(path: np.ndarray) -> np.ndarray:
    """A no-match stretch between two stretches of the same lag is weak evidence, not a cut: map it."""
    out = path.copy()
    rs = runs(out)
    for i in range(1, len(rs) - 1):
        state, s, e = rs[i]
        if state == -1 and rs[i - 1][0] == rs[i + 1][0] != -1:
            out[s:e] = rs[i - 1][0]
    return out


def unmap_unconfirmed_edges(path: np.ndarray, tracks: list[Track], threshold: float) -> np.ndarray:
    """A stretch's frames at an edge it shares with another state, up to its first (from
    its last) frame that matches, become no-match.

    Silence and sound without a match cost every state alike, so the path carries whichever
    state it holds across them; where a cut lies inside a silent bed it may carry the wrong
    one for the bed's whole length, and mapped sound at the wrong place is worse than sound
    left out. A stretch between two runs of one state stays mapped (fill_same_lag_gaps).
    """
    out = path.copy()
    rs = runs(out)
    for i, (state, s, e) in enumerate(rs):
        if state == -1:
            continue
        matched = np.flatnonzero(tracks[state].sim[s:e] >= threshold)
        if len(matched) == 0:
            continue
        if i > 0 and rs[i - 1][0] != state:
            out[s:s + int(matched[0])] = -1
        if i + 1 < len(rs) and rs[i + 1][0] != state:
            out[s + int(matched[-1]) + 1:e] = -1
    return out


OVERLAP_FRAMES = 100  # 1 s: smaller overlaps are edge slop that the boundary refinement settles


def monotone_path(tracks: list[Track], threshold: float, rounds: int = 6) -> np.ndarray:
    """The Viterbi path, chosen again until no two of its stretches claim the same original time.

    A looped or reused music cue matches a second place in the original about as well as its
    own, and where dialogue masks the bed (the full mix of a mono file) the wrong place can
    win for a few seconds. A monotonic map can keep only one of two overlapping stretches, and
    trimming the later one throws away everything up to the wrong place; so the shorter
    stretch's lag is forbidden over its frames and the path is chosen again.
    """
    path = fill_same_lag_gaps(viterbi(tracks, threshold))
    for _ in range(rounds):
        loser = _overlapping_run(path, tracks)
        if loser is None:
            break
        state, s, e = loser
        tracks = list(tracks)
        tracks[state] = replace(tracks[state], inside=tracks[state].inside.copy())
        tracks[state].inside[s:e] = False
        path = fill_same_lag_gaps(viterbi(tracks, threshold))
    return path


def _overlapping_run(path: np.ndarray, tracks: list[Track]) -> tuple[int, int, int] | None:
    """The shorter of the first two stretches whose original intervals overlap by over 1 s."""
    pieces = [r for r in runs(path) if r[0] != -1]
    for i, a in enumerate(pieces):
        a_end = a[2] + tracks[a[0]].lag
        for b in pieces[i + 1:]:
            if b[1] + tracks[b[0]].lag < a_end - OVERLAP_FRAMES:
                return min(a, b, key=lambda r: r[2] - r[1])
    return None


def refine_boundaries(path: np.ndarray, tracks: list[Track], z_dub: np.ndarray, z_orig: np.ndarray,
                      threshold: float, radius: int = 150) -> np.ndarray:
    """Move each switch to the 100 Hz frame that best separates the two sides' evidence.

    Each frame scores (dub . original) - threshold * (energy of both) / 2: inside a true
    match the sum drifts up, outside it drifts down (sound on one side only counts against
    the match), so the best split is the maximum of the cumulative difference. Summing
    raw products, rather than per-window correlations, keeps quiet frames from adding noise.
    """
    out = path.copy()
    # Unmatched frames average zero product, so a small margin already makes them drift
    # down; the Viterbi threshold would also push weak but true matches out.
    threshold = 0.4 * threshold
    for s in np.flatnonzero(np.diff(path)) + 1:
        a, b = int(out[s - 1]), int(out[s])
        lo, hi = max(0, s - radius), min(len(out), s + radius)
        if a == b or hi - lo < 4:
            continue
        gain = np.cumsum(_frame_scores(a, tracks, z_dub, z_orig, threshold, lo, hi)
                         - _frame_scores(b, tracks, z_dub, z_orig, threshold, lo, hi))
        cut = lo + int(np.argmax(np.concatenate([[0.0], gain])))
        out[lo:cut] = a
        out[cut:hi] = b
    return out


def _frame_scores(state: int, tracks: list[Track], z_dub: np.ndarray, z_orig: np.ndarray, threshold: float,
                  lo: int, hi: int) -> np.ndarray:
    if state == -1:
        return np.zeros(hi - lo)
    idx = np.arange(lo, hi) + tracks[state].lag
    inside = (idx >= 0) & (idx < len(z_orig))
    score = np.full(hi - lo, OUTSIDE)
    dub = z_dub[lo:hi][inside]
    orig = z_orig[idx[inside]]
    energy = 0.5 * ((dub ** 2).sum(axis=1) + (orig ** 2).sum(axis=1))
    score[inside] = np.einsum("ij,ij->i", dub, orig) - threshold * energy
    return score
