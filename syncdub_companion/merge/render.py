"""Put the dub on the original's timeline: a stream copy for a pure offset, else a re-render.

Times in a TimeMap are positions on each track's decoded timeline, and a player plays a
track's decoded time t at ``t0 + t``, where t0 is the pts of its first decoded sample
(``plan.decoded_start``: the stream's start_time, or 6.5 ms later for Opus). So the dub's
decoded time d must play at the original track's ``t0 + map(d)``:

- pure offset: the dub's packets are copied with mkvmerge ``--sync`` and trimmed to the film;
- otherwise every sample is rendered on the original track's timeline (sample n = original
  decoded time n/sr) and encoded. Encoders add priming samples of their own, so the delay of
  the encoder-plus-mkvmerge chain is measured once per setting, not taken from a table, and
  that many rendered samples are dropped before encoding.
"""
from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..align.timemap import Segment
from ..errors import ToolError, UsageError
from ..tools.ffmpeg import Encoding, Pcm
from ..tools.mkvmerge import MkvInput, TrackOptions
from .cleanup import TempSet
from .pcm import OverlapWriter, PcmReader, render_span
from .plan import MergePlan
from .space import disk_full_as_error, raise_if_full

log = logging.getLogger(__name__)

CROSSFADE_S = 0.020
Progress = Callable[[float], None]


@dataclass
class DubTrack:
    """A one-track Matroska file ready to mux, and the mkvmerge --sync delay it still needs."""

    path: Path
    sync_ms: int
    end: float  # where the track ends on the merged file's timeline, seconds


def prepare_dub(services, plan: MergePlan, temps: TempSet, progress: Progress) -> DubTrack:
    """Produce the dub track for ``plan`` in ``temps``: a trimmed copy, or a rendered encode."""
    if plan.stream_copy:
        return copy_with_offset(services, plan, temps, progress)
    return render_and_encode(services, plan, temps, progress)


# --- pure offset: copy ----------------------------------------------------------------


def offset_ms(plan: MergePlan) -> int:
    """mkvmerge delay that plays dub decoded time d at the original track's start + d + offset."""
    seg = plan.timemap.segments[0]
    offset = seg.orig_start - seg.dub_start
    return int(round((plan.orig_start - plan.dub_start + offset) * 1000))


def copy_with_offset(services, plan: MergePlan, temps: TempSet, progress: Progress) -> DubTrack:
    """Copy the dub's packets with the offset; mkvmerge drops what would start before 0 and
    the single split part drops what lies past the end of the film."""
    out = temps.path("dub")
    tid = _dub_tid(services, plan)
    delay = offset_ms(plan)
    film_end = plan.base_duration
    source = MkvInput(plan.dubbed, tracks=(TrackOptions(tid, sync_ms=delay),), keep=("audio",), audio=(tid,),
                      extras=False)
    with disk_full_as_error(out.parent):
        services.mkvmerge.mux(out, [source], split=f"parts:0s-{film_end:.3f}s", progress=progress)
    if not out.is_file():
        raise UsageError(f"nothing of the dub falls inside the film with an offset of {delay / 1000:+.3f} s")
    end = services.ffprobe.duration(out)
    return DubTrack(out, 0, end)


def _dub_tid(services, plan: MergePlan) -> int:
    tracks = [t for t in services.mkvmerge.identify(plan.dubbed).get("tracks", []) if t.get("type") == "audio"]
    if plan.dub_track.index >= len(tracks):
        raise UsageError(f"dubbed {plan.dubbed}: mkvmerge sees no audio track {plan.dub_track.index}")
    return tracks[plan.dub_track.index]["id"]


# --- anything else: render and encode ----------------------------------------------------


def encoding(plan: MergePlan) -> Encoding:
    """The plan's codec, rate and layout, as the encoder takes them (input is raw float PCM)."""
    return Encoding(plan.codec, plan.sample_rate, plan.channels, plan.channel_layout, plan.bitrate)


_DELAYS: dict[tuple, int] = {}


def encoder_delay(services, plan: MergePlan, temps: TempSet) -> int:
    """Samples by which the encode-then-mkvmerge chain delays a signal, as a player decodes it.

    Measured by sending clicks through the same chain (on ffmpeg 5.1: AC3 and E-AC3 256,
    Opus 0 because its pre-skip is signalled, FLAC 0) and cached per encoder setting.
    """
    key = (services.ffmpeg.executable, plan.codec, plan.bitrate, plan.sample_rate, plan.channel_layout)
    if key not in _DELAYS:
        _DELAYS[key] = _measure_delay(services, plan, temps)
        log.debug("encoder delay %s: %d samples", key, _DELAYS[key])
    return _DELAYS[key]


def _measure_delay(services, plan: MergePlan, temps: TempSet) -> int:
    sr = plan.sample_rate
    rng = np.random.default_rng(7)
    probe = np.zeros(sr, dtype=np.float32)
    for pos in rng.integers(sr // 10, sr - sr // 10, 12):
        probe[pos: pos + 96] += rng.standard_normal(96).astype(np.float32) * 0.4
    pcm = np.repeat(probe[:, None], plan.channels, axis=1)
    encoded, remuxed = temps.path("probe"), temps.path("probe2")
    # -copyts: measure against the file's absolute timeline, where Opus starts at -6.5 ms
    to_first_pts = Pcm(sr, channels=1, audio_filter="aresample=async=1:first_pts=0")
    try:
        with disk_full_as_error(encoded.parent):
            services.ffmpeg.encode(encoded, encoding(plan), pcm.tobytes(), timeout=120)
            services.mkvmerge.mux(remuxed, [MkvInput(encoded)], timeout=120)
            decoded = services.ffmpeg.decode(remuxed, None, to_first_pts, copyts=True, timeout=120)
    finally:
        encoded.unlink(missing_ok=True)
        remuxed.unlink(missing_ok=True)
    got = np.frombuffer(decoded, dtype=np.float32)
    return _best_lag(got, probe, max_lag=sr // 20)


def _best_lag(got: np.ndarray, ref: np.ndarray, max_lag: int) -> int:
    """Lag (samples) of ``ref`` inside ``got`` within ±max_lag, by plain cross-correlation."""
    n = len(ref)
    padded = np.concatenate([np.zeros(max_lag, np.float32), got, np.zeros(n + max_lag, np.float32)])
    spectrum = np.fft.rfft(padded, 2 * len(padded)) * np.conj(np.fft.rfft(ref, 2 * len(padded)))
    corr = np.fft.irfft(spectrum)[: 2 * max_lag + 1]
    return int(np.argmax(corr)) - max_lag


def render_and_encode(services, plan: MergePlan, temps: TempSet, progress: Progress) -> DubTrack:
    """Render the dub on the original track's sample timeline and encode it to a .mka."""
    sr, out = plan.sample_rate, temps.path("dub")
    lag = encoder_delay(services, plan, temps)
    film = plan.orig_track.duration or plan.base_duration
    total = int(round(film * sr))
    reader = PcmReader(services.ffmpeg, str(plan.dubbed), plan.dub_track.stream_index, sr, plan.channels)
    stderr = tempfile.TemporaryFile()
    encoder = services.ffmpeg.start_encode(out, encoding(plan), stderr=stderr)
    try:
        sink = _TrimmedSink(encoder.stdin, skip=max(lag, 0) * 4 * plan.channels)
        if lag < 0:
            sink.write(np.zeros((-lag, plan.channels), np.float32).tobytes())
        _render(reader, plan, sink, total, progress)
        encoder.stdin.close()
    except BrokenPipeError:
        pass  # the encoder died; its exit code and stderr tell why, below
    finally:
        reader.close()
        if not encoder.stdin.closed:  # the render raised: the encoder would wait for input forever
            encoder.kill()
        code = encoder.wait()
        stderr.seek(0)
        message = stderr.read().decode("utf-8", "replace")
        stderr.close()
    if code != 0:
        raise_if_full(message, out.parent)
        raise ToolError("ffmpeg", f"encoding the dub as {plan.codec} failed", code, message)
    return DubTrack(out, int(round(plan.orig_start * 1000)), plan.orig_start + film)


class _TrimmedSink:
    """A write-only stream that drops its first ``skip`` bytes (the encoder's priming)."""

    def __init__(self, stream, skip: int):
        self.stream, self.skip = stream, skip

    def write(self, data: bytes) -> None:
        if self.skip:
            cut = min(self.skip, len(data))
            data, self.skip = data[cut:], self.skip - cut
        if data:
            self.stream.write(data)


def _render(reader: PcmReader, plan: MergePlan, sink, total: int, progress: Progress) -> None:
    sr = plan.sample_rate
    half = int(round(CROSSFADE_S * sr / 2))
    writer = OverlapWriter(sink, plan.channels, hold=4 * half + 1)
    for seg, start, length in placed_segments(plan.timemap.segments, sr, half, total):
        fade = _FadeWindow(length, 2 * half)
        pos = start
        for block in render_span(reader, sr, seg.dub_start, seg.orig_start, seg.speed, start, length):
            writer.add(pos, fade.apply(block, pos - start))
            pos += len(block)
            progress(min(pos / max(total, 1), 1.0))
    writer.finish(total)


def placed_segments(segments: list[Segment], sr: int, half: int, total: int):
    """(segment, first output sample, length) per segment, in original order, each widened by
    ``half`` on both sides for the crossfade and clipped to the film; overlaps are cut."""
    placed, last_end = [], 0
    for seg in sorted(segments, key=lambda s: s.orig_start):
        start = max(int(round(seg.orig_start * sr)), last_end)
        end = min(int(round(seg.orig_end * sr)), total)
        if end <= start:
            continue
        last_end = end
        lo, hi = max(start - half, 0), min(end + half, total)
        placed.append((seg, lo, hi - lo))
    return placed


class _FadeWindow:
    """Linear ramps over the first and last ``ramp`` samples of a ``length``-sample span.

    Two neighbouring spans overlap by exactly one ramp, and the ramps sum to one there.
    """

    def __init__(self, length: int, ramp: int):
        self.length, self.ramp = length, max(1, min(ramp, length // 2))
        self.up = (np.arange(self.ramp, dtype=np.float32) + 0.5) / self.ramp

    def apply(self, block: np.ndarray, offset: int) -> np.ndarray:
        n = len(block)
        gain = np.ones(n, dtype=np.float32)
        head = np.arange(offset, offset + n)
        lead = head < self.ramp
        gain[lead] = self.up[head[lead]]
        tail = head >= self.length - self.ramp
        gain[tail] = self.up[::-1][head[tail] - (self.length - self.ramp)]
        return block * gain[:, None]
