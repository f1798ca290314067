"""Frame features at 100 Hz: log band energies, their local detail, and an onset envelope.

Frame ``k`` is centred on ``(k * HOP + WIN / 2) / sr`` seconds of its file's decoded
timeline; every time conversion goes through :func:`frame_time` so the two files, and the
dub resampled by a speed ratio, stay on one convention.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Callable

import numpy as np
from scipy import fft as sfft
from scipy.ndimage import uniform_filter1d

from .decode import SAMPLE_RATE

HOP = 80            # 10 ms at 8 kHz
WIN = 256           # 32 ms
FPS = SAMPLE_RATE / HOP
N_BANDS = 16
DETAIL_FRAMES = 101  # 1 s local mean removed from the log energies
BLOCK = 65536


def frame_time(k):
    """Centre time in seconds of frame index ``k`` (scalar or array, may be fractional)."""
    return (np.asarray(k, dtype=np.float64) * HOP + WIN / 2) / SAMPLE_RATE


def time_frame(t):
    """Fractional frame index whose centre is at ``t`` seconds."""
    return (np.asarray(t, dtype=np.float64) * SAMPLE_RATE - WIN / 2) / HOP


def _band_edges() -> np.ndarray:
    """First FFT bin of each band (log-spaced 90-3800 Hz), plus the end, at least one bin wide."""
    freqs = np.fft.rfftfreq(WIN, 1 / SAMPLE_RATE)
    edges = np.searchsorted(freqs, np.geomspace(90.0, 3800.0, N_BANDS + 1))
    for i in range(1, len(edges)):
        edges[i] = max(edges[i], edges[i - 1] + 1)
    return edges


_EDGES = _band_edges()
_WINDOW = np.hanning(WIN).astype(np.float32)


def band_energies(pcm: np.ndarray, workers: int = -1) -> np.ndarray:
    """Power in N_BANDS log-spaced bands for every frame (frames x bands, float32);
    ``workers``: the transforms' threads (scipy.fft's)."""
    n_frames = max(0, (len(pcm) - WIN) // HOP + 1)
    out = np.empty((n_frames, N_BANDS), dtype=np.float32)
    strided = np.lib.stride_tricks.sliding_window_view(pcm, WIN)[::HOP]
    for start in range(0, n_frames, BLOCK):
        frames = np.multiply(strided[start:start + BLOCK], _WINDOW, dtype=np.float32)
        spec = sfft.rfft(frames, axis=1, workers=workers)[:, _EDGES[0]:_EDGES[-1]]
        power = np.square(spec.real) + np.square(spec.imag)
        out[start:start + BLOCK] = np.add.reduceat(power, _EDGES[:-1] - _EDGES[0], axis=1)
    return out


@dataclass
class Features:
    """Log band energies of one track and whether each frame carries any sound."""

    log_energy: np.ndarray   # frames x bands
    loud: np.ndarray         # bool per frame: above the silence floor
    derived: dict = field(default_factory=dict, repr=False, compare=False)   # see :func:`derived`

    def __len__(self) -> int:
        return len(self.loud)

    @property
    def duration(self) -> float:
        return float(frame_time(len(self) - 1)) if len(self) else 0.0


class _FrameStream:
    """Per-frame values of a signal fed in pieces as a decoder produces it, so that the work
    runs while the decoders still read: frame ``k`` covers samples [k * HOP, k * HOP + WIN)
    of the whole stream, whatever the pieces. Subclasses say what a frame's values are."""

    columns: int

    def __init__(self, dtype):
        self._tail = np.zeros(0, dtype=dtype)
        self._blocks: list[np.ndarray] = []

    def _push(self, x: np.ndarray) -> None:
        x = np.concatenate([self._tail, x]) if len(self._tail) else x
        n_frames = max(0, (len(x) - WIN) // HOP + 1)
        if n_frames:
            self._blocks.append(self._per_frame(x[:(n_frames - 1) * HOP + WIN]))
        self._tail = x[n_frames * HOP:].copy()

    def _per_frame(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def energies(self) -> np.ndarray:
        if not self._blocks:
            return np.empty((0, self.columns), dtype=np.float32)
        return np.concatenate(self._blocks)


class EnergyStream(_FrameStream):
    """:func:`band_energies` of a signal fed in pieces."""

    columns = N_BANDS

    def __init__(self):
        super().__init__(np.int16)

    def feed(self, pcm: np.ndarray) -> None:
        self._push(pcm)

    def _per_frame(self, x: np.ndarray) -> np.ndarray:
        # One thread: a decoder's piece is 800 frames, and starting the transform's threads
        # for each one cost as much again as the transform (0.9 s against 0.5 s of CPU for
        # 2 hours); the pieces already run beside the other file's and both decoders.
        return band_energies(x, workers=1)


@cache
def _band_pass() -> np.ndarray:
    """The bands' range as one second-order band-pass: the level a frame's bands add up to,
    within a dB or so, at a tenth of the transforms' cost. scipy.signal is imported here, not
    with this module: it takes half a second, which the aligner spends beside ffprobe."""
    from scipy import signal
    return signal.butter(2, [90.0, 3800.0], btype="bandpass", fs=SAMPLE_RATE, output="sos")


# A frame's windowed power in the time domain is 2 / WIN of what its half spectrum sums to.
_LEVEL_WEIGHTS = (_WINDOW.astype(np.float64) ** 2 * (WIN / 2)).astype(np.float32)


class LevelStream(_FrameStream):
    """The total power per frame of a signal fed in pieces (frames x 1, the scale of
    :func:`band_energies` summed over its bands, band-passed to the same range): all the
    dialogue rhythm reads of the full mix, taken while decoding without its transforms."""

    columns = 1

    def __init__(self):
        super().__init__(np.float32)
        self._state = np.zeros((len(_band_pass()), 2))   # the filter's, carried from piece to piece

    def feed(self, pcm: np.ndarray) -> None:
        from scipy.signal import sosfilt   # loaded by _band_pass already
        passed, self._state = sosfilt(_band_pass(), pcm.astype(np.float32), zi=self._state)
        self._push(np.square(passed, dtype=np.float32))

    def _per_frame(self, x: np.ndarray) -> np.ndarray:
        return (np.lib.stride_tricks.sliding_window_view(x, WIN)[::HOP] @ _LEVEL_WEIGHTS)[:, None]


def level_features(pcm: np.ndarray) -> Features:
    """One-band features of a whole signal: its :class:`LevelStream` level."""
    stream = LevelStream()
    stream.feed(pcm)
    return features_from_energies(stream.energies())


def features_of(pcm: np.ndarray) -> Features:
    """Features of an int16 mono signal at SAMPLE_RATE."""
    return features_from_energies(band_energies(pcm))


def features_from_energies(energy: np.ndarray) -> Features:
    """Features from :func:`band_energies` (or an :class:`EnergyStream`'s) output."""
    total = energy.sum(axis=1)
    # Per band floor relative to its typical level keeps codec noise in silence from mattering.
    floor = np.maximum(np.median(energy, axis=0) * 1e-3, 1.0)
    log_energy = np.log10(energy + floor).astype(np.float32)
    return Features(log_energy=log_energy, loud=_loud_frames(total))


def _loud_frames(total: np.ndarray) -> np.ndarray:
    """Frames more than 45 dB under the track's loud level, or under -65 dBFS, are silent."""
    level = 10 * np.log10(total / (WIN * 0.375 * 32768.0 ** 2) + 1e-12)
    loud_level = np.percentile(level, 95) if len(level) else 0.0
    return (level > max(-65.0, loud_level - 45.0))


def resample_features(feat: Features, speed: float, n_frames: int | None = None) -> Features:
    """Features of a dub re-timed onto the original's clock: frame j holds dub time speed * t_j."""
    if n_frames is None:
        n_frames = int(np.floor(time_frame(feat.duration / speed))) + 1
    return features_at(feat, time_frame(speed * frame_time(np.arange(n_frames))))


def features_at(feat: Features, src: np.ndarray) -> Features:
    """``feat`` read at fractional frames ``src`` (float64; clipped to the features in place),
    log energies interpolated linearly; a frame is loud where both its neighbours are."""
    np.clip(src, 0, len(feat) - 1, out=src)
    lo = np.floor(src).astype(np.int64)
    hi = np.minimum(lo + 1, len(feat) - 1)
    w = (src - lo).astype(np.float32)[:, None]
    # In place, in float32 as before (the same values to the bit): a 2-hour film's three
    # temporaries of 46 MB each cost 0.1-0.3 s of page faults per call, and a call per clock.
    log_energy = feat.log_energy[lo].astype(np.float32, copy=False)
    log_energy *= 1 - w
    upper = feat.log_energy[hi]
    upper *= w
    log_energy += upper
    return Features(log_energy=log_energy, loud=feat.loud[lo] & feat.loud[hi])


def detail(feat: Features) -> np.ndarray:
    """Log energies with their 1 s local mean removed; silent frames zeroed (they prove nothing)."""
    z = feat.log_energy - uniform_filter1d(feat.log_energy, DETAIL_FRAMES, axis=0, mode="nearest")
    z[~feat.loud] = 0.0
    return z.astype(np.float32)


def evenly_weighted(z: np.ndarray, floor: float = 0.1) -> np.ndarray:
    """Each frame of ``z`` (:func:`detail`) scaled to unit length, so that a correlation
    over a window counts every frame the same, however loud.

    In a full mix the dialogue is the loudest thing and differs between the languages; with
    frames weighted by their energy, a window holding a line matched little even where the
    pauses around it were the same bed sample for sample. A frame under ``floor`` times the
    median frame's length stays at zero: near silence is noise, and scaled up it would count
    as much as sound.
    """
    norm = np.linalg.norm(z, axis=1)
    sounding = norm > 0
    if not sounding.any():
        return z
    keep = norm > floor * float(np.median(norm[sounding]))
    out = np.zeros_like(z)   # divided in place: a 2-hour film's copy of z is 46 MB
    np.divide(z, norm[:, None], out=out, where=keep[:, None])
    return out


def derived(feat: Features, of: Callable[[Features], np.ndarray]) -> np.ndarray:
    """``of(feat)`` (:func:`detail`, :func:`onset_envelope`), computed once per features and
    read-only: a file's own are taken in its decode thread, while the other file still decodes."""
    if of.__name__ not in feat.derived:
        value = of(feat)
        value.flags.writeable = False
        feat.derived[of.__name__] = value
    return feat.derived[of.__name__]


def onset_envelope(feat: Features) -> np.ndarray:
    """Summed positive log-energy change per frame, locally centred; zero where silent."""
    diff = np.diff(feat.log_energy, axis=0, prepend=feat.log_energy[:1])
    env = np.maximum(diff, 0).sum(axis=1)
    env = env - uniform_filter1d(env, 2 * DETAIL_FRAMES + 1, mode="nearest")
    env[~feat.loud] = 0.0
    return env.astype(np.float32)
