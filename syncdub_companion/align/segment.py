"""Splitting the dub into stretches that follow one lag each, or none (dub-only content).

For every candidate lag a similarity track says, frame by frame, how well the dub matches
the original at that lag (local NCC of the band-energy detail over +-1 s). A Viterbi pass
at 10 Hz picks, per frame, one lag or "no match", paying a penalty per switch; frames with
no sound in either file score zero for every choice, so a stretch carries on through
silence instead of breaking. Boundaries are then refined at 100 Hz.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
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
    return Similarity(z_dub, z_orig, half).track(lag, tolerance)


TRACK_THREADS = max(1, min(4, os.cpu_count() or 1))   # past 4, the memory's bandwidth is what they share


class Similarity:
    """Similarity tracks of one dub against one original at any number of lags.

    What does not depend on the lag is taken once: each frame's energy on both sides and
    the dub's windowed energy. The lagged frames are slices, not gathered copies. A track
    was a third of the segmentation's time, and a film takes a dozen or more.
    """

    def __init__(self, z_dub: np.ndarray, z_orig: np.ndarray, half: int = SIM_HALF):
        self.z_dub, self.z_orig, self.size = z_dub, z_orig, 2 * half + 1
        self.e_orig = (z_orig ** 2).sum(axis=1)
        self.e_dub = uniform_filter1d((z_dub.astype(np.float32) ** 2).sum(axis=1), self.size, mode="constant")

    def tracks(self, lags) -> list[Track]:
        """A track at each lag, in order, computed side by side: a track is whole-film numpy
        work that lets go of the interpreter's lock, so two threads take half the time on 2
        cores (61 tracks of a 2-hour pair with 554 segments: 3.8 -> 1.9 s), the same tracks."""
        lags = [int(round(lag)) for lag in lags]
        if len(lags) < 2:
            return [self.track(lag) for lag in lags]
        with ThreadPoolExecutor(max_workers=min(TRACK_THREADS, len(lags))) as pool:
            return list(pool.map(self.track, lags))

    def track(self, lag: int, tolerance: int = 1) -> Track:
        n = len(self.z_dub)
        best = np.full(n, -1.0, dtype=np.float32)
        evidence = np.zeros(n, dtype=bool)
        inside = np.zeros(n, dtype=bool)
        ed = self.e_dub
        for dl in range(-tolerance, tolerance + 1):
            shift = lag + dl
            a, b = max(0, -shift), max(0, min(n, len(self.z_orig) - shift))
            prod = np.zeros(n, dtype=np.float32)
            e_orig = np.zeros(n, dtype=np.float32)
            if b > a:
                prod[a:b] = np.einsum("ij,ij->i", self.z_dub[a:b], self.z_orig[a + shift:b + shift])
                e_orig[a:b] = self.e_orig[a + shift:b + shift]
            p = uniform_filter1d(prod, self.size, mode="constant")
            eo = uniform_filter1d(e_orig, self.size, mode="constant")
            both = (ed > 1e-4) & (eo > 1e-4)
            # Sound on one side only is evidence too: a dub-only scene may open with silence
            # where the original has sound, and must not be mapped onto it.
            ev = (ed > 1e-4) | (eo > 1e-4)
            sim = np.where(both, p / np.sqrt(ed * eo + 1e-9), np.where(ev, 0.0, -1.0))
            better = sim > best
            best[better] = sim[better]
            evidence |= ev
            if dl == 0:
                inside[a:b] = True
        best[~evidence] = 0.0
        return Track(lag=lag, sim=best, evidence=evidence, inside=inside)


def viterbi(tracks: list[Track], threshold: float, step: int = DP_STEP,
            penalty: float = SWITCH_PENALTY, smoothed: dict | None = None) -> np.ndarray:
    """Per coarse frame, the chosen track index, or -1 for no match.

    ``smoothed`` keeps each track's coarse similarity between calls on the same tracks.
    """
    k = len(tracks)
    n = len(tracks[0].sim)
    coarse = np.arange(0, n, step)
    emis = np.zeros((len(coarse), k + 1), dtype=np.float64)
    smoothed = {} if smoothed is None else smoothed
    for i, tr in enumerate(tracks):
        if id(tr.sim) not in smoothed:
            smoothed[id(tr.sim)] = uniform_filter1d(tr.sim, step, mode="nearest")[coarse]
        sim = smoothed[id(tr.sim)]
        ev = tr.evidence[coarse]
        emis[:, i] = np.where(ev, sim - threshold, 0.0)
        emis[~tr.inside[coarse], i] = OUTSIDE
    # column k (no match) scores zero throughout
    path = best_path(emis, penalty)
    path[path == k] = -1
    return np.repeat(path, step)[:n]


# Each coarse frame, every state either stays (its score so far) or switches from the best
# state (the best score less the penalty), and then adds its emission. Step by step that is
# a dozen numpy calls per frame, 72,000 frames for two hours, and it was the slowest part
# of the segmentation. The best state changes a few dozen times a film, so the frames are
# taken in blocks under one best state: its score is a running sum S, and every other
# state's, a max-plus recurrence, has a closed form. With E its running sum of emissions,
# x[t] = E[t] + max(x[t0], max over u < t of (S[u] - penalty - E[u])): the best of never
# switching and of switching last at frame u. That is a cumulative sum and a cumulative
# maximum over the whole block for all states at once. The sums are associated otherwise
# than step by step, so scores differ in the last bits and an exact tie (frames where every
# state scores zero) can go either way: the path's score is the optimum either way
# (tests/align/test_segment.py holds the step-by-step reference).
FIRST_BLOCK = 256
STEP_BY_STEP = 64   # frames taken one by one after a block that kept changing its mind


def best_path(emis: np.ndarray, penalty: float) -> np.ndarray:
    """Per frame, the state (column of ``emis``) on the best-scoring path."""
    return _backtrack(*_forward(emis, penalty))


def _forward(emis: np.ndarray, penalty: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores after each coarse frame, and the best state and switch score each frame saw."""
    frames, states = emis.shape
    scores = np.empty((frames, states))
    scores[0] = emis[0]
    best = np.zeros(frames, dtype=np.int64)
    switch = np.zeros(frames)
    t, window = 0, FIRST_BLOCK
    while t < frames - 1:
        done, changes = _block(emis, penalty, scores, best, switch, t, min(frames, t + window))
        window = min(window * 4, 1 << 16) if t + done + 1 == min(frames, t + window) else FIRST_BLOCK
        t += done
        if changes > max(done // 8, 4):   # noise: the recurrence as it is written
            t = _steps(emis, penalty, scores, best, switch, t, min(frames, t + STEP_BY_STEP))
    return scores, best, switch


def _block(emis, penalty, scores, best, switch, t0: int, end: int) -> tuple[int, int]:
    """Frames t0+1.. while the best state of frame t0 stays best; how many, and how often
    a state turned between staying and switching."""
    b = int(np.argmax(scores[t0]))
    top = np.cumsum(np.concatenate([[scores[t0, b]], emis[t0 + 1:end, b]]))
    sw = top - penalty
    own = np.empty((end - t0, emis.shape[1]))
    own[0] = 0.0
    np.cumsum(emis[t0 + 1:end], axis=0, out=own[1:])
    switched = np.empty_like(own)
    switched[0] = -np.inf
    np.maximum.accumulate(sw[:-1, None] - own[:-1], axis=0, out=switched[1:])
    values = own + np.maximum(scores[t0], switched)
    values[:, b] = top
    stays = values[:-1] >= sw[:-1, None]
    changes = int(np.count_nonzero(stays[1:] != stays[:-1]))
    beaten = values > top[:, None]
    beaten[:, :b] |= values[:, :b] >= top[:, None]   # argmax keeps the first of equals
    beaten[0] = False
    hit = np.flatnonzero(beaten.any(axis=1))
    done = int(hit[0]) if len(hit) else end - t0 - 1   # that frame's scores are still right
    scores[t0 + 1:t0 + done + 1] = values[1:done + 1]
    best[t0:t0 + done] = b
    switch[t0:t0 + done] = sw[:done]
    return done, changes


def _steps(emis, penalty, scores, best, switch, t0: int, end: int) -> int:
    """Frames t0+1..end-1 one by one; returns the last frame done."""
    for t in range(t0 + 1, end):
        prev = scores[t - 1]
        b = int(np.argmax(prev))
        best[t - 1], switch[t - 1] = b, prev[b] - penalty
        scores[t] = np.where(prev >= switch[t - 1], prev, switch[t - 1]) + emis[t]
    return max(t0, end - 1)


def _backtrack(scores: np.ndarray, best: np.ndarray, switch: np.ndarray) -> np.ndarray:
    """The best final state, followed back: a state stays while its score held at or over
    the switch score, and came from that frame's best state where it did not."""
    path = np.empty(len(scores), dtype=np.int64)
    state, t = int(np.argmax(scores[-1])), len(scores) - 1
    while True:
        came = np.flatnonzero(scores[:t, state] < switch[:t])
        if not len(came):
            path[:t + 1] = state
            return path
        u = int(came[-1])
        path[u + 1:t + 1] = state
        state, t = int(best[u]), u


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


# The cut (or the inserted scene) in a gap is placed where the two sides' similarity puts
# it, to within this much of the best split's summed similarity (x 100 Hz frames): half a
# second of perfect match, or 2.5 s at 0.2. The splits within it are equally likely, and
# the frames between them stay unmapped.
GAP_MARGIN = 50.0
# Neighbours whose lags differ by less than this (1 s) are the boundary refinement's business.
GAP_MIN_SHIFT = 100
# The best splits may spread over at most this (3 s): where they spread further, the two
# neighbours do not explain the gap between them (a scene at a third offset, an inserted
# scene whose music carries on a neighbour's cue) and the gap is left as it is.
GAP_SHARP = 300


def split_gaps(path: np.ndarray, tracks: list[Track], weak: float, margin: float = GAP_MARGIN) -> np.ndarray:
    """An unmapped gap between two stretches at different lags, given to the two of them up
    to the cut (or the inserted scene) between them, where their similarity places it.

    Across a cut every dub frame of the gap plays in the original at one of its two
    neighbours' lags; across an inserted scene all but the scene's length (the lag's drop)
    do. So what is unknown is only where the cut or the scene lies, and the split that
    maximises the two sides' summed similarity places it. Every split whose sum comes
    within ``margin`` of the best is as likely: the frames between the earliest and the
    latest of them stay unmapped, and where those spread over more than GAP_SHARP the
    gap is left as it was. Silence, sound on one side only and a mismatch all score 0 at
    both lags, so a dub-only stretch inside the gap (a scene inserted at a cut) is a
    plateau of equally good splits and stays unmapped.

    Measured before the spread limit, seeds 1011 and 1012 mapped 9.3 s and 5.6 s of
    inserted scenes whose music carries on a neighbour's cue: the similarity there is
    weak and steady, and the best splits spread over 5-7 s.
    """
    out = path.copy()
    rs = runs(path)
    for i in range(1, len(rs) - 1):
        state, s, e = rs[i]
        left, right = rs[i - 1][0], rs[i + 1][0]
        if state != -1 or left == right:   # a run of -1 has stretches on both sides
            continue
        shift = int(round(tracks[right].lag - tracks[left].lag))
        inserted = max(0, -shift)
        if abs(shift) < GAP_MIN_SHIFT or e - s - inserted <= 0:
            continue
        sim_left, sim_right = tracks[left].sim[s:e], tracks[right].sim[s:e]
        first, last = _split_range(sim_left, sim_right, inserted, margin)
        if last - first > GAP_SHARP or not _both_weakly_matched(sim_left[:first], sim_right[last + inserted:], weak):
            continue
        out[s:s + first] = left
        out[s + last + inserted:e] = right
    return out


def _both_weakly_matched(given_left: np.ndarray, given_right: np.ndarray, weak: float) -> bool:
    """Whether what each side would be given matches it, on average, at least ``weak``."""
    return all(not len(sim) or float(sim.mean()) >= weak for sim in (given_left, given_right))


def _split_range(sim_left: np.ndarray, sim_right: np.ndarray, inserted: int, margin: float) -> tuple[int, int]:
    """The earliest and the latest x for which the left side taking frames [0, x) and the
    right one [x + inserted, n) sums to within ``margin`` of the best such split."""
    n = len(sim_left)
    # Only a match counts. A stretch that matches neither side badly (a scene at a third
    # offset next to an inserted one) scores under zero at the wrong lag, and would push
    # the other side on into the inserted scene (blind seed 5185: 1.3 s of it mapped).
    left = np.concatenate([[0.0], np.cumsum(np.maximum(sim_left, 0.0), dtype=np.float64)])
    right = np.concatenate([[0.0], np.cumsum(np.maximum(sim_right, 0.0), dtype=np.float64)])
    x = np.arange(n - inserted + 1)
    total = left[x] + right[n] - right[x + inserted]
    near = np.flatnonzero(total >= total.max() - margin)
    return int(near[0]), int(near[-1])


OVERLAP_FRAMES = 100  # 1 s: smaller overlaps are edge slop that the boundary refinement settles


def monotone_path(tracks: list[Track], threshold: float, rounds: int = 6,
                  suspect: frozenset[int] = frozenset()) -> np.ndarray:
    """The Viterbi path, chosen again until no two of its stretches claim the same original time.

    A looped or reused music cue matches a second place in the original about as well as its
    own, and where dialogue masks the bed (the full mix of a mono file) the wrong place can
    win for a few seconds. A monotonic map can keep only stretches that follow each other on
    both timelines, and trimming a later one throws away everything up to the wrong place;
    so the stretches off the longest such chain have their lags forbidden over their frames
    and the path is chosen again. Neighbours on the chain that overlap only at their facing
    ends are left to :func:`split_overlaps`. The stretches of the ``suspect`` tracks
    (indices) count on the chain by their :func:`match_strength`.
    """
    smoothed: dict = {}   # a round changes one track's frames inside the original, not its similarity
    path = fill_same_lag_gaps(viterbi(tracks, threshold, smoothed=smoothed))
    for _ in range(rounds):
        losers = _off_chain(path, tracks, threshold, suspect)
        if not losers:
            break
        tracks = list(tracks)
        for state, s, e in losers:
            tracks[state] = replace(tracks[state], inside=tracks[state].inside.copy())
            tracks[state].inside[s:e] = False
        path = fill_same_lag_gaps(viterbi(tracks, threshold, smoothed=smoothed))
    return path


MIN_STRENGTH = 0.2    # no stretch the Viterbi chose counts for nothing on the chain


def match_strength(path: np.ndarray, tracks: list[Track], threshold: float) -> list[float]:
    """Per stretch of ``path`` (in :func:`runs` order; 1.0 for no-match runs), how well it
    matches against the film's typical match: (its median similarity - threshold) over
    (the median of all mapped frames - threshold), in [MIN_STRENGTH, 1], read where both
    files sound.

    A reused music cue under a dub-only scene matches the music alone, where the film's
    true stretches match music and effects: in the corpus 0.45 against 0.95 (seed 5032).
    Where the stretches match alike (or the weak ones are most of the map) every
    stretch gets 1.
    """
    rs = runs(path)
    own = []
    for state, s, e in rs:
        if state == -1:
            own.append(None)
            continue
        sim = tracks[state].sim[s:e]
        own.append(sim[tracks[state].evidence[s:e] & (sim != 0.0)])   # where both sides sound
    mapped = [v for v in own if v is not None and len(v)]
    if not mapped:
        return [1.0] * len(rs)
    typical = float(np.median(np.concatenate(mapped))) - threshold
    out = []
    for values in own:
        if values is None or not len(values) or typical <= 0:
            out.append(1.0)
        else:
            out.append(float(np.clip((np.median(values) - threshold) / typical, MIN_STRENGTH, 1.0)))
    return out


def _off_chain(path: np.ndarray, tracks: list[Track], threshold: float,
               suspect: frozenset[int] = frozenset()) -> list[tuple[int, int, int]]:
    """The stretches off the longest chain that runs forward on the original's timeline.

    Of two overlapping stretches the shorter goes. Between many short scenes (a director's
    cut against a theatrical one) a reused cue can outlast each true stretch it overlaps,
    though not all of them together: judged pair by pair, it would win one round after
    another and leave the scenes around it unmapped. A stretch that starts and ends later
    on the original than one before it, overlapping only that one's end, is a neighbour
    across an inserted scene that both have run into (a dub-only scene whose music
    resembles either side's): it may follow that one on the chain.

    A stretch of a ``suspect`` track (one whose lag a much better match beat inside its own
    stretch: a looped cue that also matches the dub-only scenes around short true ones)
    counts by its length times its match strength. Length alone let the cue's pieces
    between the scenes outlast the scenes. Others count by length: a long true stretch on
    a full mix matches weaker than a reused cue's short one (old validation seed 1006).
    """
    strength = [w if st in suspect else 1.0 for (st, _, _), w in zip(runs(path), match_strength(path, tracks, threshold))
                if st != -1]
    pieces = [r for r in runs(path) if r[0] != -1]
    if len(pieces) < 2:
        return []
    begin = [s + tracks[st].lag for st, s, _ in pieces]
    end = [e + tracks[st].lag for st, _, e in pieces]
    best = [strength[k] * (e - s) for k, (_, s, e) in enumerate(pieces)]
    before = [-1] * len(pieces)
    for j in range(len(pieces)):
        length = pieces[j][2] - pieces[j][1]
        for i in range(j):
            gain = length if begin[j] >= end[i] - OVERLAP_FRAMES else \
                length - (end[i] - begin[j]) if begin[j] > begin[i] and end[j] > end[i] else None
            gain = None if gain is None else strength[j] * gain
            if gain is not None and best[i] + gain > best[j]:
                best[j], before[j] = best[i] + gain, i
    kept, k = set(), int(np.argmax(best))
    while k != -1:
        kept.add(k)
        k = before[k]
    return [p for i, p in enumerate(pieces) if i not in kept]


def split_overlaps(path: np.ndarray, tracks: list[Track], z_dub: np.ndarray, z_orig: np.ndarray,
                   threshold: float, shape: bool = False) -> np.ndarray:
    """Neighbouring stretches that claim the same original time at their facing ends, split
    at the one original moment where the first ends and the second begins.

    Across an inserted scene the dub's lag drops by the scene's length, and the two
    stretches meet on the original. Where the scene's music resembles what either side
    plays (a cue that carries on, a loop), both run into it, and trimming the later one
    to where the earlier one ends (``engine._monotone``) gives the earlier one all of it.
    Each original moment in the overlap is played by one side only: it goes to the side
    whose frames match it better (the score of :func:`refine_boundaries`), and the dub
    frames between the two ends are the inserted scene.
    """
    out = path.copy()
    pieces = [r for r in runs(out) if r[0] != -1]
    for (sa, a0, a1), (sb, b0, b1) in zip(pieces, pieces[1:]):
        la, lb = tracks[sa].lag, tracks[sb].lag
        first, last = max(b0 + lb, a0 + la), min(a1 + la, b1 + lb)   # original moments both may claim
        if a1 + la <= b0 + lb or last <= first or lb >= la:
            continue
        score_a = _frame_scores(sa, tracks, z_dub, z_orig, 0.4 * threshold, first - la, last - la, shape)
        score_b = _frame_scores(sb, tracks, z_dub, z_orig, 0.4 * threshold, first - lb, last - lb, shape)
        # ending a at moment m keeps a's frames before m - la and b's from m - lb
        gain = np.concatenate([[0.0], np.cumsum(score_a - score_b)])
        moment = first + int(np.argmax(gain))
        out[moment - la:a1] = -1
        out[b0:moment - lb] = -1
    return out


def refine_boundaries(path: np.ndarray, tracks: list[Track], z_dub: np.ndarray, z_orig: np.ndarray,
                      threshold: float, radius: int = 150, shape: bool = False) -> np.ndarray:
    """Move each switch to the 100 Hz frame that best separates the two sides' evidence.

    Each frame scores (dub . original) - threshold * (energy of both) / 2 (with ``shape``,
    the lower of that on the detail and on its spectral shape, each frame's mean over the
    bands removed; see :func:`_frame_scores`): inside a true
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
        gain = np.cumsum(_frame_scores(a, tracks, z_dub, z_orig, threshold, lo, hi, shape)
                         - _frame_scores(b, tracks, z_dub, z_orig, threshold, lo, hi, shape))
        cut = lo + int(np.argmax(np.concatenate([[0.0], gain])))
        out[lo:cut] = a
        out[cut:hi] = b
    return out


def _frame_match(dub: np.ndarray, orig: np.ndarray, threshold: float) -> np.ndarray:
    energy = 0.5 * ((dub ** 2).sum(axis=1) + (orig ** 2).sum(axis=1))
    return np.einsum("ij,ij->i", dub, orig) - threshold * energy


def _frame_scores(state: int, tracks: list[Track], z_dub: np.ndarray, z_orig: np.ndarray, threshold: float,
                  lo: int, hi: int, shape: bool = False) -> np.ndarray:
    if state == -1:
        return np.zeros(hi - lo)
    idx = np.arange(lo, hi) + tracks[state].lag
    inside = (idx >= 0) & (idx < len(z_orig))
    score = np.full(hi - lo, OUTSIDE)
    dub = z_dub[lo:hi][inside]
    orig = z_orig[idx[inside]]
    score[inside] = _frame_match(dub, orig, threshold)
    if shape:
        # On a bed, a frame counts for the match only where its level and its spectral shape
        # both agree. Within half a second of a step in level (a loud inserted scene before a
        # quiet one) the detail's 1 s mean makes every band rise or fall together, in both
        # files alike, so the level alone matched the last 0.2 s of an insert (blind seed
        # 5077); where a music cue runs on through an insert, the shape alone matched 0.7 s
        # of it (seed 1012, a mono pair, when tried there). Not on the full mix: there the
        # two languages' dialogue changes the shape of true frames (mono_pal_cuts lost 1 %
        # of coverage).
        score[inside] = np.minimum(score[inside], _frame_match(dub - dub.mean(axis=1, keepdims=True),
                                                               orig - orig.mean(axis=1, keepdims=True), threshold))
    return score
