"""Sample-level check of a segment's offset on the raw waveforms.

Features at 100 Hz pin an offset to a few milliseconds; where the two beds are the same
waveform (speed 1, or a PAL speed-up done by resampling) the waveform pins it to the
sample. Pitch-corrected dubs don't correlate at this level, and then nothing changes.
"""
from __future__ import annotations

import numpy as np

from .segment import runs
from .timemap import Segment

# Importing scipy.signal takes 1-3 s, and only these checks, after the decode, need it: it is
# imported inside them, and the aligner imports it beside its decoders (engine.align).
SIGNAL_MODULE = "scipy.signal"
SNIPPET_S = 0.6
SEARCH_S = 0.03
MIN_NCC = 0.6


def refine_offset(seg: Segment, dub: np.ndarray, orig: np.ndarray, sr: int, probes: int = 9) -> Segment:
    """``seg`` shifted on the original's timeline by the median waveform residual, if consistent."""
    length = seg.dub_end - seg.dub_start
    if length < 3 * SNIPPET_S:
        return seg
    residuals = []
    for d in np.linspace(seg.dub_start + SNIPPET_S, seg.dub_end - SNIPPET_S, probes):
        r = _residual(seg, float(d), dub, orig, sr)
        if r is not None:
            residuals.append(r)
    if len(residuals) < 3:
        return seg
    residuals = np.array(residuals)
    med = float(np.median(residuals))
    agree = np.abs(residuals - med) < 0.0015
    if agree.sum() < max(3, len(residuals) // 2):
        return seg
    shift = float(np.mean(residuals[agree]))
    return Segment(seg.dub_start, seg.dub_end, seg.orig_start + shift, seg.orig_end + shift)


def _residual(seg: Segment, d: float, dub: np.ndarray, orig: np.ndarray, sr: int) -> float | None:
    from scipy.signal import correlate, resample   # see SIGNAL_MODULE

    half = SNIPPET_S / 2
    a, b = int((d - half) * sr), int((d + half) * sr)
    if a < 0 or b > len(dub):
        return None
    snippet = dub[a:b].astype(np.float64)
    if np.std(snippet) < 20:
        return None
    n_out = int(round(len(snippet) / seg.speed))
    snippet = resample(snippet, n_out)
    o_centre = seg.to_orig(d)
    pad = int(SEARCH_S * sr)
    o_a = int(round((o_centre - half / seg.speed) * sr)) - pad
    o_b = o_a + n_out + 2 * pad
    if o_a < 0 or o_b > len(orig):
        return None
    region = orig[o_a:o_b].astype(np.float64)
    cross = correlate(region, snippet, mode="valid", method="fft")
    energy = np.concatenate([[0.0], np.cumsum(region ** 2)])
    local = energy[n_out:] - energy[:-n_out]
    ncc = cross / np.sqrt(np.maximum(local * np.sum(snippet ** 2), 1e-9))
    k = int(np.argmax(ncc))
    if ncc[k] < MIN_NCC or k == 0 or k == len(ncc) - 1:
        return None
    y0, y1, y2 = ncc[k - 1], ncc[k], ncc[k + 1]
    frac = 0.5 * (y0 - y2) / (y0 - 2 * y1 + y2) if (y0 - 2 * y1 + y2) < 0 else 0.0
    # Where the snippet starts in the original, against where the map puts it.
    found = (o_a + k + frac) / sr
    expected = o_centre - half / seg.speed
    # resample() maps sample i to i*n_out/len; the snippet's start stays at its first sample.
    return found - expected


# The file's first segment may start this far before its waveform match does: a logo's
# last second (or two logos' shared shape) carries the features' match past the 1 s the
# other edges are searched over (seed 5199 of the corpus: 1.13 s of a dub-only logo).
LEAD_IN_AHEAD_S = 6.0
# ... and starts where the waveform matches for this long: two logos' tones on one note
# can agree for a 40 ms window or two by phase alone.
LEAD_IN_MATCH_S = 0.2
PROFILE_WIN = 0.04
PROFILE_STEP = 0.005
PROFILE_MATCH = 0.5


def match_profile(seg: Segment, dub: np.ndarray, orig: np.ndarray, sr: int, d_from: float, d_to: float):
    """Waveform NCC of the dub against the original under ``seg``'s mapping, every 5 ms.

    Returns (dub times, ncc) with NaN where neither side has sound; a side with sound
    against silence scores 0. The mapping is trusted to about a millisecond, so each
    window takes the best of +-0.5 ms.
    """
    from scipy.signal import resample   # see SIGNAL_MODULE

    pad = PROFILE_WIN
    a, b = int((d_from - pad) * sr), int((d_to + pad) * sr)
    if a < 0 or b > len(dub) or b - a < 4 * PROFILE_WIN * sr:
        return None
    snippet = dub[a:b].astype(np.float64)
    n_out = int(round(len(snippet) / seg.speed))
    snippet = resample(snippet, n_out)
    o_a = int(round(seg.to_orig(a / sr) * sr))
    shifts = range(-4, 5)
    if o_a - 4 < 0 or o_a + n_out + 4 > len(orig):
        return None
    win = int(PROFILE_WIN * sr)
    step = int(PROFILE_STEP * sr)
    centres = np.arange(win // 2 + int(pad * sr / seg.speed) - int(pad * sr / seg.speed) % step,
                        n_out - win // 2, step)
    best = np.full(len(centres), -1.0)
    e_x = _window_sums(snippet ** 2, centres, win)
    for sh in shifts:
        region = orig[o_a + sh:o_a + sh + n_out].astype(np.float64)
        e_y = _window_sums(region ** 2, centres, win)
        xy = _window_sums(snippet * region, centres, win)
        ncc = xy / np.sqrt(np.maximum(e_x * e_y, 1e-9))
        best = np.maximum(best, ncc)
    floor = 1e-2 * max(np.percentile(e_x, 90), 1.0) if len(e_x) else 1.0
    loud_x, loud_y = e_x > floor, _window_sums(orig[o_a:o_a + n_out].astype(np.float64) ** 2, centres, win) > floor
    best = np.where(loud_x & loud_y, best, np.where(loud_x | loud_y, 0.0, np.nan))
    times = a / sr + centres / sr * seg.speed
    return times, best


def _window_sums(values: np.ndarray, centres: np.ndarray, win: int) -> np.ndarray:
    cum = np.concatenate([[0.0], np.cumsum(values)])
    lo = np.clip(centres - win // 2, 0, len(values))
    hi = np.clip(centres + win // 2, 0, len(values))
    return cum[hi] - cum[lo]


def waveform_agrees(seg: Segment, dub: np.ndarray, orig: np.ndarray, sr: int) -> bool:
    """Whether this segment's beds are the same waveform (so the waveform can place its edges)."""
    mid = (seg.dub_start + seg.dub_end) / 2
    span = min(10.0, (seg.dub_end - seg.dub_start) / 2 - 0.1)
    if span < 1.0:
        return False
    prof = match_profile(seg, dub, orig, sr, mid - span, mid + span)
    if prof is None:
        return False
    values = prof[1][~np.isnan(prof[1])]
    return len(values) > 20 and float(np.median(values)) > 0.7


def refine_edges(segments: list[Segment], dub: np.ndarray, orig: np.ndarray, sr: int,
                 radius: float = 1.0) -> list[Segment]:
    """Place segment edges where the waveform match starts or stops, when the waveform can tell.

    An edge never moves onto original time that the neighbour across a dub-only gap maps:
    a sustained tone in an inserted scene can match the waveform right after the cut for a
    second, and which side plays that moment was decided on the features
    (segment.split_overlaps).
    """
    trusted = [waveform_agrees(s, dub, orig, sr) for s in segments]
    out = list(segments)
    for i, seg in enumerate(out):
        if not trusted[i]:
            continue
        prev_joined = i > 0 and abs(out[i - 1].dub_end - seg.dub_start) < 1e-6
        if not prev_joined:
            floor = min(seg.dub_start, seg.to_dub(out[i - 1].orig_end)) if i > 0 else -np.inf
            out[i] = _move_start(out[i], dub, orig, sr, radius, floor, lead_in=i == 0)
        next_joined = i + 1 < len(out) and abs(out[i + 1].dub_start - seg.dub_end) < 1e-6
        if next_joined and trusted[i + 1]:
            out[i], out[i + 1] = _move_cut(out[i], out[i + 1], dub, orig, sr, radius)
        elif not next_joined:
            ceiling = max(seg.dub_end, seg.to_dub(out[i + 1].orig_start)) if i + 1 < len(out) else np.inf
            out[i] = _move_end(out[i], dub, orig, sr, radius, ceiling)
    return out


def _gain(prof_a, prof_b):
    """Cumulative evidence for keeping side a up to each point (NaN = no evidence either way)."""
    diff = np.nan_to_num(prof_a - prof_b, nan=0.0)
    return np.concatenate([[0.0], np.cumsum(diff)])


def _move_start(seg: Segment, dub, orig, sr, radius, floor: float = -np.inf, lead_in: bool = False) -> Segment:
    """The start right after the last unmatched sound before it, or with ``lead_in`` (the
    file's first segment) right before the first sound matched for LEAD_IN_MATCH_S, to
    where the balance of evidence up to it turns.

    Silence on both sides is no evidence either way. Before the first segment it is a
    lead-in, a preroll of one file or both, and is left out: continuity.bridge maps it
    back where both files start together. After a cut it stays with the scene that
    follows, a pause before its sound (a quiet-bed pair lost 0.7 s of its map otherwise).
    A lead-in is searched up to LEAD_IN_AHEAD_S into the segment (half of it at most), and
    the balance is taken only up to the first sustained match: a line of dialogue in a full
    mix matches the waveform little, and a balance taken over seconds would cut a true
    start back to the next pause."""
    ahead = max(radius, min(LEAD_IN_AHEAD_S, (seg.dub_end - seg.dub_start) / 2)) if lead_in else radius
    # (the profile's windows need PROFILE_WIN of both files before them)
    lo = max(seg.dub_start - radius, PROFILE_WIN, floor, seg.to_dub(2 * PROFILE_WIN))
    hi = min(seg.dub_start + ahead, seg.dub_end - 0.1)
    prof = match_profile(seg, dub, orig, sr, lo, hi)
    if prof is None:
        return seg
    times, ncc = prof
    if lead_in:
        run = int(round(LEAD_IN_MATCH_S / PROFILE_STEP))
        first = _first_sustained_match(ncc, run)
        if first is None:
            return seg
        # the balance of evidence up to that match places the start to a window, dips and all
        gain = _gain(np.full(first + run, PROFILE_MATCH), ncc[:first + run])
        k = len(gain) - 1 - int(np.argmax(gain[::-1]))
    else:
        k = int(np.argmax(_gain(np.full(len(ncc), PROFILE_MATCH), ncc)))  # "unmatched" kept up to each point
    if k == 0 and times[0] > seg.dub_start:
        return seg   # matched from where the profile could begin: nothing against what is before
    start = float(times[k]) - PROFILE_STEP / 2 if k < len(times) else seg.dub_start
    return Segment(start, seg.dub_end, seg.to_orig(start), seg.orig_end)


def _first_sustained_match(ncc: np.ndarray, run: int) -> int | None:
    """Index of the first of ``run`` profile windows in a row that all match."""
    matched = (np.nan_to_num(ncc, nan=0.0) >= PROFILE_MATCH).astype(np.int8)
    if not len(matched):
        return None
    return next((s for state, s, e in runs(matched) if state == 1 and e - s >= run), None)


def _move_end(seg: Segment, dub, orig, sr, radius, ceiling: float = np.inf) -> Segment:
    lo, hi = (max(seg.dub_end - radius, seg.dub_start + 0.1),
              min(seg.dub_end + radius, len(dub) / sr - PROFILE_WIN, ceiling))
    prof = match_profile(seg, dub, orig, sr, lo, hi)
    if prof is None:
        return seg
    times, ncc = prof
    gain = _gain(ncc, np.full(len(ncc), PROFILE_MATCH))
    k = int(np.argmax(gain))
    end = float(times[k - 1]) + PROFILE_STEP / 2 if k > 0 else float(times[0])
    return Segment(seg.dub_start, end, seg.orig_start, seg.to_orig(end))


def _move_cut(a: Segment, b: Segment, dub, orig, sr, radius):
    lo = max(a.dub_end - radius, a.dub_start + 0.1)
    hi = min(a.dub_end + radius, b.dub_end - 0.1)
    pa = match_profile(a, dub, orig, sr, lo, hi)
    pb = match_profile(b, dub, orig, sr, lo, hi)
    if pa is None or pb is None or len(pa[0]) != len(pb[0]):
        return a, b
    times = pa[0]
    k = int(np.argmax(_gain(pa[1], pb[1])))
    cut = float(times[k - 1]) + PROFILE_STEP / 2 if k > 0 else float(times[0])
    return (Segment(a.dub_start, cut, a.orig_start, a.to_orig(cut)),
            Segment(cut, b.dub_end, b.to_orig(cut), b.orig_end))
