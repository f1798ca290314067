"""A dub captured from tape: a slowly wobbling speed, hiss and a low-pass, with exact truth.

The tape's speed is 1 plus a sum of slow sinusoids (``(depth, period s, phase)`` each, a
few tenths of a percent over tens of seconds to minutes). Output sample m plays source
position s(m), whose derivative is that speed; s has a closed form, so any block renders
on its own and the truth is exact::

    wob = Wobble(((0.0028, 97.0, 0.4), (0.0012, 31.0, 2.2)))
    wob.source(t)         # pre-tape time (s) heard at tape time t
    wob.tape(u)           # its inverse
"""
from __future__ import annotations

import math

import numpy as np
from scipy import signal

SR = 48000
TRUTH_STEP_S = 0.5        # knots of the warped truth: off the true warp by < 0.05 ms
SINC_HALF = 8             # taps on each side of the interpolating windowed sinc
HISS_DB = -58.0           # white hiss, RMS per channel (the bed's music sits at -26 dBFS)
LOWPASS_HZ = 11000.0
LOWPASS_TAPS = 63
_HISS_CHUNK = 4096


class Wobble:
    """The warp of a tape whose speed is 1 + sum(depth * sin(2 pi t / period + phase))."""

    def __init__(self, terms):
        self.terms = [(float(d), float(p), float(ph)) for d, p, ph in terms]

    def source(self, t):
        """Pre-tape time (s) heard at tape time ``t`` (s); works on arrays."""
        t = np.asarray(t, dtype=np.float64)
        out = t.copy()
        for depth, period, phase in self.terms:
            w = 2 * math.pi / period
            out += depth / w * (math.cos(phase) - np.cos(w * t + phase))
        return out

    def rate(self, t):
        t = np.asarray(t, dtype=np.float64)
        return 1.0 + sum(d * np.sin(2 * math.pi * t / p + ph) for d, p, ph in self.terms)

    def tape(self, u):
        """Tape time at which pre-tape time ``u`` is heard (Newton on the monotone warp)."""
        u = np.asarray(u, dtype=np.float64)
        t = u.copy()
        for _ in range(6):
            t = t - (self.source(t) - u) / self.rate(t)
        return t


class Tape:
    """``src`` played through a wobbling tape, with hiss and a low-pass (any block on its own)."""

    def __init__(self, src, wobble: Wobble, seed: int = 0x7A9E):
        self.src, self.wobble, self.seed = src, wobble, seed
        self.channels = src.channels
        self.length = int(math.floor(float(wobble.tape(src.length / SR)) * SR))
        self.lowpass = signal.firwin(LOWPASS_TAPS, LOWPASS_HZ / (SR / 2)).astype(np.float32)
        self.kernel = np.kaiser(2 * SINC_HALF + 1, 6.0)[1:]

    def render(self, start: int, n: int) -> np.ndarray:
        pad = LOWPASS_TAPS // 2
        raw = self._warped(start - pad, n + 2 * pad) + self._hiss(start - pad, n + 2 * pad)
        return signal.oaconvolve(raw, self.lowpass[:, None], mode="valid", axes=0).astype(np.float32)

    def _warped(self, start: int, n: int) -> np.ndarray:
        out = np.empty((n, self.channels), np.float32)
        for lo in range(0, n, SR):  # a second at a time keeps the tap indices small
            m = np.arange(start + lo, start + min(lo + SR, n))
            pos = self.wobble.source(m / SR) * SR
            base = np.floor(pos).astype(np.int64)
            first = int(base[0]) - SINC_HALF + 1
            x = _padded(self.src, first, int(base[-1]) + SINC_HALF + 1 - first)
            k = np.arange(-SINC_HALF + 1, SINC_HALF + 1)
            taps = np.sinc((pos - base)[:, None] - k) * self.kernel
            taps /= taps.sum(axis=1, keepdims=True)
            idx = (base - first)[:, None] + k
            out[lo:lo + len(m)] = np.einsum("ij,ijc->ic", taps, x[idx])
        return out

    def _hiss(self, start: int, n: int) -> np.ndarray:
        """White noise keyed by absolute sample index, so every block sees the same hiss."""
        level = 10 ** (HISS_DB / 20)
        c0, c1 = start // _HISS_CHUNK, (start + n - 1) // _HISS_CHUNK
        noise = np.concatenate([np.random.default_rng([self.seed, c + (1 << 20)]).standard_normal(
            (_HISS_CHUNK, self.channels)) for c in range(c0, c1 + 1)])
        off = start - c0 * _HISS_CHUNK
        return (noise[off:off + n] * level).astype(np.float32)


def _padded(stream, start: int, n: int) -> np.ndarray:
    out = np.zeros((n, stream.channels), np.float32)
    lo, hi = max(start, 0), min(start + n, stream.length)
    if lo < hi:
        out[lo - start:hi - start] = stream.render(lo, hi - lo)
    return out


def warp_truth(truth: list[dict], dub_only: list[tuple[float, float]], wobble: Wobble,
               step: float = TRUTH_STEP_S) -> tuple[list[dict], list[tuple[float, float]]]:
    """Linear truth on the pre-tape clock -> knots every ``step`` s of tape time (exact at each)."""
    out = []
    for seg in truth:
        u0, u1, o0, o1 = seg["dub_start"], seg["dub_end"], seg["orig_start"], seg["orig_end"]
        t0, t1 = float(wobble.tape(u0)), float(wobble.tape(u1))
        inner = np.arange(math.floor(t0 / step) + 1, math.ceil(t1 / step)) * step
        knots = np.concatenate([[t0], inner[(inner > t0) & (inner < t1)], [t1]])
        us = wobble.source(knots)
        us[0], us[-1] = u0, u1
        origs = o0 + (us - u0) * (o1 - o0) / (u1 - u0)
        out += [{"dub_start": float(knots[i]), "dub_end": float(knots[i + 1]),
                 "orig_start": float(origs[i]), "orig_end": float(origs[i + 1])} for i in range(len(knots) - 1)]
    return out, [(float(wobble.tape(a)) if a > 0 else 0.0, float(wobble.tape(b))) for a, b in dub_only]
