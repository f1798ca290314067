"""Streaming PCM: read the dub's decoded samples, resample a segment, overlap-add the result.

A feature-length 5.1 track is ~8 GB as float32, so nothing here holds a whole track: the
reader decodes sequentially through an ffmpeg pipe, segments are resampled in chunks, and
the writer keeps only the few milliseconds that a later crossfade may still change.
"""
from __future__ import annotations

import tempfile
from fractions import Fraction
from typing import TYPE_CHECKING, BinaryIO, Iterator

import numpy as np
from scipy.signal import firwin, resample_poly

from ..errors import ToolError
from ..tools.ffmpeg import Pcm

if TYPE_CHECKING:
    from ..tools.ffmpeg import FFmpeg

# Largest numerator/denominator of the resampling ratio. 1/4000^2 relative error keeps the
# drift over a two-hour segment below 1 ms; the filter grows with it (~80k taps, fine).
MAX_RATIO_TERM = 4000
CHUNK_SECONDS = 10.0
# Near speed 1 the small fractions are 1/MAX_RATIO_TERM apart (n/(n+1)), so a speed like
# 1.00015, common in a tape dub's knotted map, would be played as 1.00025: 0.2 ms off after
# 2 s, and the crossfade into the next segment cancels a 2.5 kHz tone (benchmarks/
# render_artifacts.py). Where the fraction drifts more than this over a span, the span is
# interpolated at the exact positions instead. That costs ~10x a polyphase resample, so only
# spans up to a minute (a knotted map's) take it; a longer one keeps the fraction, as before.
MAX_DRIFT_SAMPLES = 0.5
INTERPOLATE_MAX_S = 60.0
SINC_HALF = 16            # taps on each side of the interpolating windowed sinc
_KAISER = np.kaiser(2 * SINC_HALF + 1, 8.0)[1:].astype(np.float64)


class PcmReader:
    """Samples ``[start, start+n)`` of one audio stream as decoded by ffmpeg, float32 (n, channels).

    Positions before 0 or past the end read as silence. Reads should move forward; the last
    ``history`` frames are kept, so the overlapping context of consecutive chunks comes from
    memory. A read further back restarts the decoder (correct, only slower).
    """

    def __init__(self, ffmpeg: "FFmpeg", path: str, stream_index: int, sample_rate: int, channels: int,
                 history: int = 1 << 16):
        self.ffmpeg, self.path, self.stream_index = ffmpeg, path, stream_index
        self.pcm = Pcm(sample_rate, "f32le", channels=channels)
        self.channels = channels
        self.frame_bytes = 4 * channels
        self.history = history
        self.restarts = 0
        self._proc = None
        self._pos = 0  # frames pulled from the decoder so far
        self._kept = np.zeros((0, channels), dtype=np.float32)  # the frames just before _pos
        self._eof = False
        self._stderr: BinaryIO | None = None

    def _start(self) -> None:
        self.close()
        self.restarts += 1
        self._stderr = tempfile.TemporaryFile()
        self._proc = self.ffmpeg.start_decode(self.path, self.stream_index, self.pcm, stderr=self._stderr)
        self._pos, self._eof = 0, False
        self._kept = np.zeros((0, self.channels), dtype=np.float32)

    def _pull(self, n: int) -> np.ndarray:
        """Up to ``n`` frames from the current position (fewer only at the end)."""
        want = n * self.frame_bytes
        parts, got = [], 0
        while got < want and not self._eof:
            block = self._proc.stdout.read(want - got)
            if not block:
                self._finish()
                break
            parts.append(block)
            got += len(block)
        data = b"".join(parts)
        usable = len(data) - len(data) % self.frame_bytes
        frames = np.frombuffer(data[:usable], dtype=np.float32).reshape(-1, self.channels)
        self._pos += len(frames)
        self._kept = np.concatenate([self._kept, frames])[-self.history:]
        return frames

    def _finish(self) -> None:
        self._eof = True
        code = self._proc.wait()
        if code != 0:
            self._stderr.seek(0)
            raise ToolError("ffmpeg", "decoding the dub failed", code, self._stderr.read().decode("utf-8", "replace"))

    def read(self, start: int, n: int) -> np.ndarray:
        """``n`` frames from sample ``start`` (may be negative), zero where there is no audio."""
        out = np.zeros((n, self.channels), dtype=np.float32)
        lo, hi = max(start, 0), start + n
        if hi <= lo:
            return out
        kept_from = self._pos - len(self._kept)
        if self._proc is None or lo < kept_from:
            self._start()
            kept_from = 0
        if lo < self._pos:  # the start of this read was pulled already
            upto = min(hi, self._pos)
            out[lo - start: upto - start] = self._kept[lo - kept_from: upto - kept_from]
            lo = upto
        while self._pos < lo and not self._eof:  # skip forward in bounded steps
            self._pull(min(lo - self._pos, 1 << 18))
        if self._pos == lo and lo < hi and not self._eof:
            frames = self._pull(hi - lo)
            out[lo - start: lo - start + len(frames)] = frames
        return out

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._proc = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None


def ratio(speed: float) -> tuple[int, int]:
    """(up, down): output samples per input sample as a small fraction, ~ 1/speed."""
    frac = Fraction(1.0 / speed).limit_denominator(MAX_RATIO_TERM)
    return frac.numerator, frac.denominator


def render_span(reader: PcmReader, sample_rate: int, dub_start: float, orig_start: float, speed: float,
                out_start: int, out_len: int) -> Iterator[np.ndarray]:
    """Yield ``out_len`` output samples from ``out_start`` for the linear map of one segment.

    Output sample k plays dub time ``dub_start + (k/sr - orig_start) * speed``. Speed 1 is a
    plain copy; any other speed resamples (which also undoes a PAL pitch shift).
    """
    first_in = dub_start * sample_rate + (out_start - orig_start * sample_rate) * speed
    up, down = ratio(speed)
    if out_len * abs(speed - down / up) > MAX_DRIFT_SAMPLES and out_len <= INTERPOLATE_MAX_S * sample_rate:
        yield from _interpolated_span(reader, first_in, out_len, speed, sample_rate)
        return
    # a speed whose nearest small fraction is 1/1 (within ~1/MAX_RATIO_TERM of 1, e.g. 1.00003
    # from a short segment's fit) is a copy too: a 1/1 "resample" has no valid filter cutoff
    if abs(speed - 1.0) < 1e-6 or up == down:
        yield from _copy_span(reader, int(round(first_in)), out_len, sample_rate)
        return
    yield from _resample_span(reader, int(round(first_in)), out_len, up, down, sample_rate)


def _interpolated_span(reader: PcmReader, first_in: float, out_len: int, speed: float,
                       sample_rate: int) -> Iterator[np.ndarray]:
    """Output sample k from input position first_in + k * speed, by a windowed sinc
    (Kaiser, 32 taps) whose cutoff follows the speed, a second at a time."""
    k = np.arange(-SINC_HALF + 1, SINC_HALF + 1)
    cutoff = min(1.0, 1.0 / speed)
    for offset in range(0, out_len, sample_rate):
        n = min(sample_rate, out_len - offset)
        pos = first_in + (offset + np.arange(n)) * speed
        base = np.floor(pos).astype(np.int64)
        lo = int(base[0]) - SINC_HALF + 1
        x = reader.read(lo, int(base[-1]) + SINC_HALF + 1 - lo)
        taps = np.sinc(cutoff * ((pos - base)[:, None] - k)) * _KAISER
        taps /= taps.sum(axis=1, keepdims=True)
        yield np.einsum("ij,ijc->ic", taps, x[(base - lo)[:, None] + k]).astype(np.float32)


def _copy_span(reader: PcmReader, first_in: int, out_len: int, sample_rate: int) -> Iterator[np.ndarray]:
    step = int(CHUNK_SECONDS * sample_rate)
    for offset in range(0, out_len, step):
        yield reader.read(first_in + offset, min(step, out_len - offset))


def _resample_span(reader: PcmReader, first_in: int, out_len: int, up: int, down: int,
                   sample_rate: int) -> Iterator[np.ndarray]:
    # Chunks start at multiples of `down` input samples, so every chunk's output lines up
    # with the polyphase grid of one whole-signal resample; `pad` input samples of context
    # on each side absorb the filter's edges and are cut off again.
    taps = firwin(2 * 10 * max(up, down) + 1, 1.0 / max(up, down), window=("kaiser", 5.0)).astype(np.float32)
    pad = down * max(1, -(-64 // down))
    chunk_in = down * max(1, int(CHUNK_SECONDS * sample_rate) // down)
    chunk_out = chunk_in * up // down
    cut = pad * up // down
    produced = 0
    while produced < out_len:
        start = first_in + (produced // chunk_out) * chunk_in
        block = reader.read(start - pad, chunk_in + 2 * pad)
        y = resample_poly(block, up, down, axis=0, window=taps)
        y = y[cut: cut + chunk_out]
        take = min(len(y), out_len - produced)
        yield y[:take].astype(np.float32, copy=False)
        produced += take


class OverlapWriter:
    """Writes blocks placed on the output timeline to ``sink``, summing where they overlap.

    Blocks must arrive in order of their start. Up to ``hold`` samples stay pending so that
    the next block's crossfade can still be added to them; gaps become silence.
    """

    def __init__(self, sink: BinaryIO, channels: int, hold: int):
        self.sink = sink
        self.channels = channels
        self.hold = hold
        self.cursor = 0  # output index of pending[0]
        self.pending = np.zeros((0, channels), dtype=np.float32)

    def add(self, start: int, block: np.ndarray) -> None:
        if start < self.cursor:  # whatever lies before the cursor is already written
            block = block[self.cursor - start:]
            start = self.cursor
        end_pending = self.cursor + len(self.pending)
        if start > end_pending:
            self._emit(len(self.pending))
            self._silence(start - end_pending)
        offset = start - self.cursor
        overlap = min(len(block), len(self.pending) - offset)
        if overlap > 0:
            self.pending[offset: offset + overlap] += block[:overlap]
            block = block[overlap:]
        self.pending = np.concatenate([self.pending, block]) if len(block) else self.pending
        if len(self.pending) > self.hold:
            self._emit(len(self.pending) - self.hold)

    def finish(self, total: int) -> None:
        """Write everything pending, then silence (or nothing more) up to ``total`` samples."""
        keep = max(0, min(len(self.pending), total - self.cursor))
        self.pending = self.pending[:keep]
        self._emit(len(self.pending))
        if total > self.cursor:
            self._silence(total - self.cursor)

    def _emit(self, n: int) -> None:
        if n <= 0:
            return
        out = np.clip(self.pending[:n], -1.0, 1.0)
        self.sink.write(np.ascontiguousarray(out, dtype=np.float32).tobytes())
        self.pending = self.pending[n:]
        self.cursor += n

    def _silence(self, n: int) -> None:
        step = 1 << 16
        zeros = np.zeros((step, self.channels), dtype=np.float32).tobytes()
        while n > 0:
            take = min(step, n)
            self.sink.write(zeros[: take * 4 * self.channels])
            n -= take
            self.cursor += take
