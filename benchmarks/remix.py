"""A dub whose music-and-effects bed was remixed: other EQ, compression and surround fold.

Real dubs are not always laid over the original's M&E bit for bit: the dubbing studio
rebalances music against effects, rides levels, equalises, compresses the whole mix and
folds the surrounds at another level. :class:`Remix` holds those choices (drawn from a
seed); the level changes are made on the film's cues (``Material.with_stems_levelled``),
the rest by :class:`Remixed`, a stream filter that keeps the timeline exactly: a
linear-phase FIR EQ and a compressor whose level is a centred moving RMS, so any block
renders on its own and the truth needs no change::

    remix = Remix.draw(rng)
    dub = Remixed(body, remix)
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import signal

SR = 48000
EQ_TAPS = 511              # linear phase: (taps - 1) / 2 samples of delay, taken back exactly
RMS_HALF = 1200            # the compressor's level: RMS over 50 ms centred on each sample
CHUNK = 10 * SR


@dataclass(frozen=True)
class Remix:
    """How the dubbing studio remixed the bed (levels in dB; ``surround`` multiplies SL/SR)."""

    music_db: float
    effects_db: float
    ride_db: float          # each music cue up to this much further up or down
    surround: float
    low_db: float           # shelf below ~150 Hz
    high_db: float          # shelf above ~5 kHz
    threshold_db: float     # compression above this RMS level, at ``ratio``
    ratio: float
    makeup_db: float

    @classmethod
    def draw(cls, rng: np.random.Generator) -> "Remix":
        u = lambda lo, hi: round(float(rng.uniform(lo, hi)), 2)  # noqa: E731 - one line each below
        return cls(music_db=u(-4, 3), effects_db=u(-3, 5), ride_db=u(1, 3), surround=u(0.4, 1.6),
                   low_db=u(-6, 6), high_db=u(-8, 4), threshold_db=u(-32, -22), ratio=u(2, 4), makeup_db=u(0, 4))

    def to_json(self) -> dict:
        return asdict(self)

    def eq(self) -> np.ndarray:
        nyq = SR / 2
        freqs = [0, 80, 300, 2500, 8000, nyq]
        gains = [10 ** (g / 20) for g in (self.low_db, self.low_db, 0, 0, self.high_db, self.high_db)]
        return signal.firwin2(EQ_TAPS, freqs, gains, fs=SR).astype(np.float32)


class Remixed:
    """``src`` through the remix's EQ and compressor (channel-linked: centred dialogue still
    cancels in L-R); output sample m depends on input samples m +- 1455 only."""

    def __init__(self, src, remix: Remix):
        self.src, self.remix = src, remix
        self.channels, self.length = src.channels, src.length
        self.fir = remix.eq()

    def render(self, start: int, n: int) -> np.ndarray:
        return np.concatenate([self._chunk(s, min(CHUNK, start + n - s)) for s in range(start, start + n, CHUNK)]) \
            if n > 0 else np.zeros((0, self.channels), np.float32)

    def _chunk(self, start: int, n: int) -> np.ndarray:
        half = EQ_TAPS // 2
        pad = half + RMS_HALF
        x = _padded(self.src, start - pad, n + 2 * pad)
        y = signal.oaconvolve(x, self.fir[:, None], mode="valid", axes=0)        # n + 2 RMS_HALF
        run = np.concatenate([[0.0], np.cumsum((y.astype(np.float64) ** 2).mean(axis=1))])
        width = 2 * RMS_HALF + 1
        level = np.sqrt(np.maximum(run[width:] - run[:-width], 0.0) / width) + 1e-9
        r = self.remix
        over = np.maximum(20 * np.log10(level) - r.threshold_db, 0.0)
        gain = 10 ** ((r.makeup_db - over * (1 - 1 / r.ratio)) / 20)
        return (y[RMS_HALF:RMS_HALF + n] * gain[:, None]).astype(np.float32)


def _padded(stream, start: int, n: int) -> np.ndarray:
    out = np.zeros((n, stream.channels), np.float32)
    lo, hi = max(start, 0), min(start + n, stream.length)
    if lo < hi:
        out[lo - start:hi - start] = stream.render(lo, hi - lo)
    return out
