"""Finding the speed and the candidate offsets by cross-correlation.

A speed difference smears every correlation peak by (ratio error x window length), so the
speed is searched first, on 40 s probes where even a 0.1% error smears by only 40 ms;
offsets are then searched on the re-timed dub. Lags are in frames: original frame =
dub-on-original-clock frame + lag.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import fft as sfft

from .features import FPS

# Dub seconds per original second for the usual film-rate conversions, commonest first.
KNOWN_SPEEDS = (1.0, 23.976 / 25, 25 / 23.976, 24 / 25, 25 / 24, 23.976 / 24, 24 / 23.976)


@dataclass
class Match:
    """Best placement of a dub stretch in the original: lag (frames), its NCC and z-score."""

    start: int      # first frame of the stretch on the dub's re-timed clock
    length: int
    lag: float
    ncc: float
    z: float

    @property
    def centre(self) -> float:
        return self.start + self.length / 2


class OriginalIndex:
    """The original's onset envelope, transformed once for any number of full searches."""

    def __init__(self, env: np.ndarray, max_chunk: int):
        self.env = env.astype(np.float32)
        self.n = sfft.next_fast_len(len(env) + max_chunk, real=True)
        self.spectrum = sfft.rfft(self.env, n=self.n, workers=-1)
        sq = np.concatenate([[0.0], np.cumsum(self.env.astype(np.float64) ** 2)])
        self.cum_sq = sq

    def search(self, chunks: np.ndarray, starts: np.ndarray) -> list[Match]:
        """Full search of equally long chunks (rows) over every position in the original."""
        return [_best_peak(ncc, int(start), chunks.shape[1]) for ncc, start in zip(self._ncc(chunks), starts)]

    def peaks(self, chunk: np.ndarray, start: int, count: int, apart: int) -> list[Match]:
        """The ``count`` highest peaks of one chunk's full search, at least ``apart`` frames
        apart, best first. A looped cue repeats its rhythm every bar, so its peaks can
        outrank the chunk's own place on the envelope; the caller judges them on the bands."""
        rows = list(self._ncc(chunk[None, :]))
        if not rows:
            return []
        ncc = rows[0]
        med, spread = _background(ncc)
        left = ncc.copy()
        out = []
        for _ in range(min(count, len(ncc))):
            k = int(np.argmax(left))
            if not np.isfinite(left[k]):
                break
            out.append(Match(start=start, length=len(chunk), lag=k + _parabolic(ncc, k) - start,
                             ncc=float(ncc[k]), z=(float(ncc[k]) - med) / spread))
            left[max(0, k - apart):k + apart + 1] = -np.inf
        return out

    def _ncc(self, chunks: np.ndarray):
        """Each chunk's NCC at every position in the original, row by row."""
        count, width = chunks.shape
        positions = len(self.env) - width + 1
        if positions <= 0:
            return
        spec = sfft.rfft(chunks, n=self.n, axis=1, workers=-1)
        cross = sfft.irfft(self.spectrum[None, :] * np.conj(spec), n=self.n, axis=1, workers=-1)[:, :positions]
        local = (self.cum_sq[width:] - self.cum_sq[:-width])[:positions]
        energies = (chunks.astype(np.float64) ** 2).sum(axis=1)
        for i in range(count):
            yield _normalised(cross[i], local, energies[i])


# A placement whose window of the original holds less than this share of the chunk's
# energy is silence (the features are zeroed there) and has no NCC: the transforms'
# rounding over the rest of the stretch, divided by next to nothing, read 10 to 200 there
# and beat every true match (tuning seed 23: three chunks "matched" at 11.9, 21.7 and 32.6).
SILENT_SHARE = 1e-4


def _normalised(cross: np.ndarray, local: np.ndarray, energy: float) -> np.ndarray:
    """``cross`` over the root of each window's energy times the chunk's: the NCC, 0 where
    either side is silent, within [-1, 1] whatever the rounding."""
    if energy <= 0:
        return np.zeros(len(cross))
    floor = SILENT_SHARE * energy
    ncc = cross / np.sqrt(np.maximum(local, floor) * energy)
    ncc[local <= floor] = 0.0
    return np.clip(ncc, -1.0, 1.0, out=ncc)


def _best_peak(ncc: np.ndarray, start: int, width: int) -> Match:
    k = int(np.argmax(ncc))
    med, spread = _background(ncc)
    frac = _parabolic(ncc, k)
    return Match(start=start, length=width, lag=k + frac - start, ncc=float(ncc[k]), z=(float(ncc[k]) - med) / spread)


def _background(ncc: np.ndarray) -> tuple[float, float]:
    """Median and robust spread of an NCC row, for z-scores. Every 7th position is plenty,
    and the full medians dominated the cost of long files."""
    sample = ncc[::7]
    # Placements over silence score exactly 0 (no NCC at all): they are no background, and
    # a film half silent would otherwise have its spread shrink to nothing.
    sample = sample[sample != 0.0]
    if not len(sample):
        return 0.0, 1e-9
    med = float(np.median(sample))
    return med, 1.4826 * float(np.median(np.abs(sample - med))) + 1e-9


def ncc_floor(width: int) -> float:
    """The NCC a ``width``-frame window must beat to count as a match: chance NCC of two
    unrelated windows shrinks like 1/sqrt(independent frames)."""
    return float(np.clip(chance_bound(width), 0.12, 0.5))


def chance_bound(width: int) -> float:
    """:func:`ncc_floor` before its clipping: over 0.5 for windows under 3.2 s."""
    return 4.5 / np.sqrt(width / 4.0)


def _parabolic(values: np.ndarray, k: int) -> float:
    """Sub-sample offset of a peak at ``k`` from a parabola through its neighbours."""
    if k <= 0 or k >= len(values) - 1:
        return 0.0
    a, b, c = values[k - 1], values[k], values[k + 1]
    denom = a - 2 * b + c
    return float(0.5 * (a - c) / denom) if denom < 0 else 0.0


def resample_envelope(env: np.ndarray, speed: float, n_frames: int) -> np.ndarray:
    """A dub envelope on the original's clock (frame j = dub time speed * t_j), linear interp."""
    from .features import frame_time, time_frame

    src = time_frame(speed * frame_time(np.arange(n_frames)))
    return np.interp(src, np.arange(len(env)), env, left=0.0, right=0.0).astype(np.float32)


def probe_starts(loud: np.ndarray, width: int, count: int) -> np.ndarray:
    """Up to ``count`` evenly spread chunk starts whose frames are mostly sound."""
    usable = len(loud) - width
    if usable <= 0:
        return np.array([0]) if len(loud) >= width // 2 else np.array([], dtype=int)
    starts = np.linspace(0, usable, num=min(count * 3, max(1, usable // (width // 4) + 1))).astype(int)
    cum = np.concatenate([[0], np.cumsum(loud)])
    fill = (cum[starts + width] - cum[starts]) / width
    ranked = starts[np.argsort(-fill)][:count]
    return np.sort(ranked[fill[np.argsort(-fill)][:count] > 0.3])


def score_speed(index: OriginalIndex, env_d: np.ndarray, loud_d: np.ndarray, speed: float,
                probe_s: float = 40.0, probes: int = 12) -> tuple[float, list[Match]]:
    """How well the dub re-timed by ``speed`` matches: median z of its probes' best peaks."""
    n = int(len(env_d) / speed) + 1
    env = resample_envelope(env_d, speed, n)
    loud = resample_envelope(loud_d.astype(np.float32), speed, n) > 0.5
    width = min(int(probe_s * FPS), n)
    starts = probe_starts(loud, width, probes)
    if len(starts) == 0:
        return 0.0, []
    chunks = np.stack([env[s:s + width] for s in starts])
    matches = index.search(chunks, starts)
    if not matches:
        return 0.0, []
    zs = np.sort([m.z for m in matches])[::-1]
    return float(np.median(zs[: max(1, len(zs) // 2)])), matches


# The film ratios are first ranked on envelopes decimated RANK_FACTOR times (a quarter of the
# transform's length); only those within RANK_MARGIN of the best there are scored at full rate.
# On 104 corpus pairs the full-rate winner, or a ratio alike to it, ranked at most 0.2 under
# the best, and the full-rate scoring was most of the speed step's time.
RANK_FACTOR = 4
RANK_MARGIN = 3.0
# Ratios this close (23.976/24 beside 1) smear a decimated 40 s probe by a frame or two, so
# the ranking cannot order them: one that is scored at full rate brings the others along.
ALIKE = 0.005


def find_speed(env_o: np.ndarray, env_d: np.ndarray, loud_d: np.ndarray, candidates=KNOWN_SPEEDS,
               accept_z: float = 9.0) -> tuple[float, float, list[Match]]:
    """The speed whose probes match best: known film ratios first, then a fine scan.

    Returns (speed, score, probe matches). A score under ``accept_z`` for every speed
    means nothing matched: the caller rejects the pair. A full-rate score costs two dozen
    transforms of the whole film's length; the ratios the decimated ranking leaves out are
    scored only when none of the others reaches ``accept_z``, so a pair that matches at a
    film ratio gets the speed, score and probes that scoring every ratio would give.
    """
    probe_s = min(40.0, 0.5 * len(env_d) / FPS)
    index = OriginalIndex(env_o, int(probe_s * FPS) + 2)
    decimated = _Decimated(env_o, env_d, loud_d, probe_s, RANK_FACTOR)
    ranks = [decimated.score(speed) for speed in candidates]
    near = [speed for speed, rank in zip(candidates, ranks) if rank >= max(ranks, default=0.0) - RANK_MARGIN]
    scored: dict[float, tuple[float, list[Match]]] = {}
    for speed in candidates:
        if any(abs(speed / other - 1) < ALIKE for other in near):
            scored[speed] = score_speed(index, env_d, loud_d, speed, probe_s)
    if max((score for score, _ in scored.values()), default=-np.inf) < accept_z:
        for speed in candidates:
            if speed not in scored:
                scored[speed] = score_speed(index, env_d, loud_d, speed, probe_s)
    best = (1.0, -np.inf, [])
    for speed in candidates:   # in the candidates' order, so that a tie goes as it always did
        if speed in scored and scored[speed][0] > best[1]:
            best = (speed, *scored[speed])
    if best[1] >= accept_z:
        return best
    coarse = _fine_scan(decimated)
    if coarse is None:
        return best
    # Settle the coarse winner at full rate around its neighbourhood.
    step = 0.5 / (probe_s * FPS)
    for speed in np.arange(coarse - 4 * step, coarse + 4.5 * step, step):
        score, matches = score_speed(index, env_d, loud_d, float(speed), probe_s)
        if score > best[1]:
            best = (float(speed), score, matches)
    return best


class _Decimated:
    """Both envelopes decimated ``factor`` times, and the original's transform at that rate."""

    def __init__(self, env_o, env_d, loud_d, probe_s: float, factor: int):
        def decimate(x):
            n = len(x) // factor * factor
            return x[:n].reshape(-1, factor).sum(axis=1)

        self.env_d, self.probe_s, self.rate = decimate(env_d), probe_s, FPS / factor
        self.loud_d = decimate(loud_d.astype(np.float32)) > factor / 2
        self.index = OriginalIndex(decimate(env_o), int(probe_s * self.rate) + 2)

    def score(self, speed: float) -> float:
        return _score_at_rate(self.index, self.env_d, self.loud_d, speed, self.probe_s, self.rate)[0]


def _fine_scan(decimated: _Decimated, low: float = 0.94, high: float = 1.065):
    """Scan every speed in [low, high] on the decimated envelopes; None if nothing stands out."""
    step = 0.6 / (decimated.probe_s * decimated.rate)
    scores = []
    for speed in np.arange(low, high, step):
        scores.append((decimated.score(float(speed)), float(speed)))
    top = max(scores) if scores else (0.0, 1.0)
    return top[1] if top[0] >= 6.0 else None


def _score_at_rate(index, env, loud, speed, probe_s, rate, probes=6):
    n = int(len(env) / speed) + 1
    src = np.arange(n) * speed
    env_r = np.interp(src, np.arange(len(env)), env, left=0.0, right=0.0).astype(np.float32)
    loud_r = np.interp(src, np.arange(len(loud)), loud.astype(np.float32)) > 0.5
    width = min(int(probe_s * rate), n)
    starts = probe_starts(loud_r, width, probes)
    if len(starts) == 0:
        return 0.0, []
    matches = index.search(np.stack([env_r[s:s + width] for s in starts]), starts)
    zs = np.sort([m.z for m in matches])[::-1]
    return (float(np.median(zs[: max(1, len(zs) // 2)])) if len(zs) else 0.0), matches


def local_search(z_dub: np.ndarray, z_orig: np.ndarray, start: int, width: int, lag: float,
                 radius: int) -> Match | None:
    """Best lag near ``lag`` for dub frames [start, start+width), by multi-band NCC.

    None when the best lag sits on the edge of the search radius (the true lag lies
    beyond it); a peak on the edge of the original itself is a real answer.
    """
    return ChunkSearch(z_dub, start, width).near(z_orig, lag, radius)


class ChunkSearch:
    """:func:`local_search` of one dub chunk at any number of lags.

    A chunk placed at every lag known so far (a film's first chunks, each chunk after an
    edit) was transformed again for every lag: it is transformed once for each transform
    length here, and its energy taken once.
    """

    def __init__(self, z_dub: np.ndarray, start: int, width: int):
        self.start, self.width = start, min(width, len(z_dub) - start)
        self.chunk = z_dub[start:start + self.width]
        self.energy = float((self.chunk.astype(np.float64) ** 2).sum())
        self._spectra: dict[int, np.ndarray] = {}

    def near(self, z_orig: np.ndarray, lag: float, radius: int) -> Match | None:
        start, width = self.start, self.width
        centre = int(round(lag))
        lo, hi = start + centre - radius, start + centre + width + radius
        found = self._curve(z_orig, lo, hi)
        if found is None:
            return None
        cut_lo, cut_hi, ncc = found
        k = int(np.argmax(ncc))
        if (k == 0 and cut_lo == lo) or (k == len(ncc) - 1 and cut_hi == hi):
            return None
        return self._match(cut_lo, ncc, k)

    def within(self, z_orig: np.ndarray, lag_lo: int, lag_hi: int, apart: int = 5) -> tuple[Match, float] | None:
        """The best lag in [lag_lo, lag_hi] and the best NCC of any lag more than ``apart``
        frames from it: how far the match stands out from everything else it could be."""
        found = self._curve(z_orig, self.start + lag_lo, self.start + lag_hi + self.width)
        if found is None:
            return None
        cut_lo, _, ncc = found
        k = int(np.argmax(ncc))
        others = np.concatenate([ncc[:max(0, k - apart)], ncc[k + apart + 1:]])
        return self._match(cut_lo, ncc, k), float(others.max()) if len(others) else -1.0

    def _curve(self, z_orig: np.ndarray, lo: int, hi: int):
        """(first frame, last frame + 1, NCC at each placement) of the chunk along the
        original's frames [lo, hi), clipped to the film; None where nothing can be judged."""
        width = self.width
        cut_lo, cut_hi = max(lo, 0), min(hi, len(z_orig))
        if width < 10 or cut_hi - cut_lo < width + 2 or self.energy <= 1e-6:
            return None
        seg = z_orig[cut_lo:cut_hi]
        cross = self._correlation(seg)
        row = np.concatenate([[0.0], np.cumsum((seg.astype(np.float64) ** 2).sum(axis=1))])
        local = row[width:] - row[:-width]
        return cut_lo, cut_hi, _normalised(cross, local, self.energy)

    def _match(self, cut_lo: int, ncc: np.ndarray, k: int) -> Match:
        lag_found = cut_lo + k + _parabolic(ncc, k) - self.start
        return Match(start=self.start, length=self.width, lag=lag_found, ncc=float(ncc[k]), z=0.0)

    def _correlation(self, seg: np.ndarray) -> np.ndarray:
        """Sum over bands of each band's valid cross-correlation of the chunk along ``seg``.

        One real FFT per band along time and one inverse of the band sum: a 2-D transform
        (what ``scipy.signal.correlate`` does on 2-D input) also transforms across the bands,
        and cost ten times as much; it was most of the time spent placing chunks.
        """
        n = sfft.next_fast_len(len(seg), real=True)
        if n not in self._spectra:
            self._spectra[n] = np.conj(sfft.rfft(self.chunk, n=n, axis=0))
        spectrum = sfft.rfft(seg, n=n, axis=0) * self._spectra[n]
        return sfft.irfft(spectrum.sum(axis=1), n=n)[:len(seg) - len(self.chunk) + 1]


def window_lags(z_dub: np.ndarray, z_orig: np.ndarray, loud: np.ndarray, first: int, end: int, lag: int,
                width: int, radius: int) -> list[tuple[float, float, float]]:
    """(centre frame, lag, NCC) of every half-overlapping window in [first, end), near ``lag``.

    One pass of per-frame products at each of the 2*radius+1 lags serves every window,
    instead of one correlation per window; the lagged frames are slices of the original.
    """
    n = end - first
    lags = np.arange(lag - radius, lag + radius + 1)
    # Column 0 stays zero, so that the running sums below are taken in place: at 2 hours a
    # piece's products at 17 lags are 100 MB a copy.
    c_prod = np.zeros((len(lags), n + 1), dtype=np.float64)
    c_orig = np.zeros_like(c_prod)
    # Each original frame's energy once, over every frame any lag reaches.
    reach_lo, reach_hi = max(0, first + lags[0]), min(len(z_orig), end + lags[-1])
    energy = (z_orig[reach_lo:reach_hi] ** 2).sum(axis=1) if reach_hi > reach_lo else np.zeros(0, np.float32)
    dub = z_dub[first:end]
    for i, l in enumerate(lags):
        a, b = max(0, -(first + l)), max(0, min(n, len(z_orig) - (first + l)))
        if b > a:
            c_prod[i, 1 + a:1 + b] = np.einsum("ij,ij->i", dub[a:b], z_orig[first + l + a:first + l + b])
            c_orig[i, 1 + a:1 + b] = energy[first + l + a - reach_lo:first + l + b - reach_lo]
    np.cumsum(c_prod, axis=1, out=c_prod)
    np.cumsum(c_orig, axis=1, out=c_orig)
    e_dub = np.square(dub).sum(axis=1, dtype=np.float64)   # squares in float32: a fifth of the time
    c_dub = np.concatenate([[0.0], np.cumsum(e_dub)])
    c_loud = np.concatenate([[0], np.cumsum(loud[first:end])])
    starts = np.arange(0, n - width + 1, width // 2)
    ends = starts + width
    keep = ((c_loud[ends] - c_loud[starts]) >= 0.3 * width) & (c_dub[ends] - c_dub[starts] > 1e-6)
    starts, ends = starts[keep], ends[keep]
    ncc = (c_prod[:, ends] - c_prod[:, starts]) / np.sqrt(np.maximum(
        (c_orig[:, ends] - c_orig[:, starts]) * (c_dub[ends] - c_dub[starts]), 1e-12))
    out = []
    for w, k in enumerate(np.argmax(ncc, axis=0) if len(starts) else []):
        if 0 < k < len(lags) - 1:
            out.append((first + int(starts[w]) + width / 2, float(lags[k] + _parabolic(ncc[:, w], int(k))), float(ncc[k, w])))
    return out
