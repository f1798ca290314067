"""Decoding audio tracks for alignment, with the dialogue suppressed where the layout allows.

Each file is decoded once, from its first sample (so codec priming is on the timeline, as
players built on ffmpeg play it), to 8 kHz in two channels:

* ``bed``: a dialogue-poor mix. Dialogue sits in the centre channel of 5.1 and in the
  mid signal of stereo, so the bed is the non-centre channels (both files 5.1), the side
  signal L-R (stereo), or the side signal a stereo downmix of the 5.1 would have (5.1
  against stereo), so that both files carry a comparable mix.
* ``full``: every channel averaged, dialogue included; the fallback when the bed is empty
  (a mono file, a mono-compatible mix) and the carrier of speech rhythm in quiet stretches.
"""
from __future__ import annotations

import fcntl
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

import numpy as np

from ..errors import MediaError, UsageError
from ..tools.ffmpeg import FFmpeg, Pcm
from ..tools.ffprobe import AudioStream, FFprobe
from ..tools.process import lower_priority, lower_this_thread
from .heap import steady_heap

if TYPE_CHECKING:   # features imports this module's SAMPLE_RATE
    from .features import Features

SAMPLE_RATE = 8000
MIN_SECONDS = 10.0

# Channel order of ffmpeg's named layouts; unnamed ones fall back on WAV order by count.
_LAYOUTS = {
    "mono": ["FC"], "stereo": ["FL", "FR"], "2.1": ["FL", "FR", "LFE"], "3.0": ["FL", "FR", "FC"],
    "3.0(back)": ["FL", "FR", "BC"], "4.0": ["FL", "FR", "FC", "BC"], "quad": ["FL", "FR", "BL", "BR"],
    "quad(side)": ["FL", "FR", "SL", "SR"], "3.1": ["FL", "FR", "FC", "LFE"],
    "5.0": ["FL", "FR", "FC", "BL", "BR"], "5.0(side)": ["FL", "FR", "FC", "SL", "SR"],
    "4.1": ["FL", "FR", "FC", "LFE", "BC"], "5.1": ["FL", "FR", "FC", "LFE", "BL", "BR"],
    "5.1(side)": ["FL", "FR", "FC", "LFE", "SL", "SR"], "6.0": ["FL", "FR", "FC", "BC", "SL", "SR"],
    "6.1": ["FL", "FR", "FC", "LFE", "BC", "SL", "SR"],
    "7.0": ["FL", "FR", "FC", "BL", "BR", "SL", "SR"],
    "7.1": ["FL", "FR", "FC", "LFE", "BL", "BR", "SL", "SR"],
    "7.1(wide)": ["FL", "FR", "FC", "LFE", "BL", "BR", "FLC", "FRC"],
    "7.1(wide-side)": ["FL", "FR", "FC", "LFE", "FLC", "FRC", "SL", "SR"],
}
_BY_COUNT = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}
_LEFT = {"FL", "BL", "SL", "FLC"}
_RIGHT = {"FR", "BR", "SR", "FRC"}


def channel_names(stream: AudioStream) -> list[str]:
    layout = (stream.channel_layout or "").lower()
    names = _LAYOUTS.get(layout) or _LAYOUTS.get(_BY_COUNT.get(stream.channels, ""), [])
    if len(names) != stream.channels:
        names = [f"C{i}" for i in range(stream.channels)]
    return names


def has_centre(stream: AudioStream) -> bool:
    names = channel_names(stream)
    return "FC" in names and len(names) >= 3


def _weights(names: list[str], kind: str) -> list[float]:
    """Per-channel gains for the bed mix of ``kind`` (surround, side, full)."""
    if kind == "full" or not any(n in _LEFT | _RIGHT for n in names):
        return [1.0 / len(names)] * len(names)
    if kind == "surround":
        keep = [n in _LEFT | _RIGHT for n in names]
        return [(0.5 / sum(keep)) * 2 if k else 0.0 for k in keep]
    # side: L - R, surrounds at the usual -3 dB downmix gain
    gains = []
    for n in names:
        g = 0.707 if n in {"BL", "BR", "SL", "SR"} else 1.0
        gains.append(0.5 * g if n in _LEFT else -0.5 * g if n in _RIGHT else 0.0)
    return gains


def bed_kinds(orig: AudioStream, dub: AudioStream) -> tuple[str, str]:
    """Which dialogue-poor mix to take from each file so that the two are comparable."""
    if orig.channels == 1 or dub.channels == 1:
        return "full", "full"
    if has_centre(orig) and has_centre(dub):
        return "surround", "surround"
    return "side", "side"


def _pan_expr(names: list[str], bed_kind: str) -> str:
    def chan(gains):
        terms = [f"{g:.4f}*c{i}" for i, g in enumerate(gains) if g]
        return "+".join(terms).replace("+-", "-") or "0*c0"

    return f"pan=stereo|c0={chan(_weights(names, bed_kind))}|c1={chan(_weights(names, 'full'))}"


@dataclass
class DecodedTrack:
    """Both alignment mixes of one track at SAMPLE_RATE, as int16, plus what was probed,
    and the band energies and features of each mix, computed while it was decoded."""

    bed: np.ndarray
    full: np.ndarray
    stream: AudioStream
    bed_kind: str
    sample_rate: int = SAMPLE_RATE
    bed_energy: np.ndarray | None = None
    full_energy: np.ndarray | None = None
    bed_features: Features | None = None   # None where the decode gave the bed up (_BedWatch)
    full_features: Features | None = None
    full_level: Features | None = None
    bed_usable: bool | None = None   # bed_worth_using, where the decode took it
    gave_way: bool = False   # its decoder was well ahead of the other and gave it way (_Pacer)
    samples: int = field(init=False)

    def __post_init__(self):
        self.samples = len(self.full)

    def dialogue_level(self) -> Features:
        """The full mix's level, all that the dialogue rhythm reads of it: as taken while
        decoding, else from its features, else from the mix itself."""
        if self.full_level is not None:
            return self.full_level
        if self.full_features is not None:
            return self.full_features
        from .features import level_features
        return level_features(self.full)

    @property
    def duration(self) -> float:
        return self.samples / self.sample_rate

    def keep_only(self, signal: np.ndarray) -> None:
        """Let go of the mix other than ``signal`` (the bed or the full mix): once the features
        are taken the aligner reads only the mix it chose, and each is 115 MB for 2 hours."""
        if signal is self.bed and not np.shares_memory(self.bed, self.full):
            self.full = None
        elif signal is self.full and not np.shares_memory(self.bed, self.full):
            self.bed = None


def bed_worth_using(bed: np.ndarray, full: np.ndarray) -> bool:
    """Whether a bed sounds enough to align on: over 5 % of the full mix's RMS (a
    mono-compatible mix's side signal is near silence) and over a floor of codec noise."""
    bed_rms = _rms(bed)
    return bed_rms > 0.05 * _rms(full) and bed_rms > NOISE_RMS


NOISE_RMS = 8.0


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) if len(x) else 0.0


def select_stream(probe: FFprobe, path: str, track: int | None, role: str) -> AudioStream:
    """The audio stream to align: ``track`` (0-based among audio streams) or the default one."""
    streams = probe.audio_streams(path)
    if not streams:
        raise MediaError(f"{role} {path}: no audio track")
    if track is None:
        return next((s for s in streams if s.default), streams[0])
    if not 0 <= track < len(streams):
        raise UsageError(f"{role} {path}: audio track {track} out of range (it has {len(streams)}: 0-{len(streams) - 1})")
    return streams[track]


def decode_pcm(stream: AudioStream, bed_kind: str) -> Pcm:
    """The two mixes (bed, full) at 8 kHz as 16-bit stereo."""
    return Pcm(SAMPLE_RATE, "s16le", audio_filter=_pan_expr(channel_names(stream), bed_kind))


def decode_argv(ffmpeg: str, path: str, stream: AudioStream, bed_kind: str) -> list[str]:
    return FFmpeg(ffmpeg).decode_argv(path, stream.stream_index, decode_pcm(stream, bed_kind))


def decode_pair(ffmpeg: str, jobs: list[tuple[str, AudioStream, str]],
                progress: Callable[[float], None] | None = None,
                after: list[Callable[[DecodedTrack], object] | None] | None = None) -> list[DecodedTrack]:
    """Decode several tracks at once (one ffmpeg each, in parallel) and check their length.

    ``progress(fraction)`` hears from this thread how far the decoders are (by the bytes
    they delivered against the probed durations); if it raises (a cancelled job), the
    decoders are stopped and the exception goes on. ``after[i]``, if given, runs in job
    ``i``'s thread on its decoded track: work that needs that file alone, done while the
    other files still decode.
    """
    steady_heap()
    results: list = [None] * len(jobs)
    errors: list = [None] * len(jobs)
    state = [_Reading(stream) for _, stream, _ in jobs]

    def work(i, path, stream, kind):
        try:
            results[i] = _decode(ffmpeg, path, stream, kind, state[i], pacer, watch)
            if after and after[i] is not None:
                after[i](results[i])
        except Exception as exc:  # re-raised in the caller's thread
            errors[i] = exc

    threads = [threading.Thread(target=work, args=(i, *job), daemon=True) for i, job in enumerate(jobs)]
    pacer, watch = _Pacer(state), _BedWatch()
    for t in threads:
        t.start()
    try:
        while alive := [t for t in threads if t.is_alive()]:
            alive[0].join(PROGRESS_EVERY)
            pacer.check()
            if progress is not None:
                progress(sum(r.fraction() for r in state) / len(state))
    except BaseException:
        for reading in state:
            reading.stop()
        for t in threads:
            t.join()
        raise
    for exc in errors:
        if exc is not None:
            raise exc
    return results


PROGRESS_EVERY = 0.5
PIPE_BYTES = 1 << 20


def _widen_pipe(pipe) -> None:
    """A 1 MB pipe (Linux's limit without privilege) instead of 64 KB: 30 s of PCM that
    ffmpeg can write ahead while its reader waits for the interpreter's lock or is held
    back by the pacer."""
    try:
        fcntl.fcntl(pipe.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)
    except (OSError, ValueError):
        pass


PACE_AFTER_S = 3.0     # of decoding: long enough for the decoders' rates to tell apart
PACE_GIVE_UP_S = 15.0  # a decoder that has delivered nothing by then (no probed duration) is not paced
PACE_RATIO = 1.15      # a decoder this much ahead of the slowest gives way to it
DECODER_NICE = 10


class _Pacer:
    """Gives the decoder that will finish last the first claim on the processors.

    Where there are fewer cores than decoders and feature threads (2 on a small NAS or VM),
    an even share slows the longest decode (a remux whose picture ffmpeg reads through,
    a TrueHD track) as much as the shorter one, and the alignment waits for the longest.
    Once the rates are known, a decoder well ahead of the slowest, and the thread that
    reads it, have their priority lowered, once: they then take what the slowest leaves
    over and still finish first. Without privilege a nice value cannot be lowered back, so
    a decoder that gave way stays behind other busy programs after the slowest ends too;
    beside two busy loops on 2 cores the alignment still finished as fast as without
    pacing (docs/benchmarks.md, "Decoders that give way").
    """

    def __init__(self, readings: list["_Reading"]):
        self.readings = readings
        self.began = time.monotonic()
        self.done = len(readings) < 2

    def check(self) -> None:
        elapsed = time.monotonic() - self.began
        if self.done or elapsed < PACE_AFTER_S:
            return
        done = [r.fraction() for r in self.readings]   # of each file, in the same time
        if min(done) <= 0.0:
            self.done = elapsed > PACE_GIVE_UP_S
            return
        self.done = True
        for reading, fraction in zip(self.readings, done):
            if PACE_RATIO * min(done) < fraction < 1.0 and reading.proc is not None and not reading.finished:
                reading.give_way = lower_priority(reading.proc.pid, DECODER_NICE)

    @property
    def lowered(self) -> list[int]:
        """Indices of the decoders that gave way."""
        return [i for i, reading in enumerate(self.readings) if reading.give_way]

    def follow(self, reading: "_Reading") -> None:
        """In the reader's thread: lower its own priority once its decoder's is. The thread
        ends with the decode, and the nice value with it."""
        if reading.give_way and not reading.gave_way:
            reading.gave_way = lower_this_thread(DECODER_NICE)


class _Reading:
    """How far one decoder has got, and a way to stop it from another thread."""

    def __init__(self, stream: AudioStream):
        self.expected = (stream.duration or 0.0) * SAMPLE_RATE * 4
        self.bytes = 0
        self.proc = None
        self.stopped = False
        self.finished = False
        self.give_way = False   # set by _Pacer: its ffmpeg's priority is lowered, and the reader's to follow
        self.gave_way = False

    def fraction(self) -> float:
        return min(1.0, self.bytes / self.expected) if self.expected > 0 else 0.0

    def stop(self) -> None:
        self.stopped = True
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()


READ_BYTES = 1 << 18  # 16 s of both mixes: the transform of one piece runs while ffmpeg decodes the next


EARLY_BED_S = 120.0   # of a file's audio before its bed is first judged; then at 2x, 4x... while all is quiet
EARLY_DEAD = 0.01     # a bed under 1 % of the full mix's RMS (-40 dB) then: dual mono, as good as silence


class _BedWatch:
    """Whether a pair will likely align on its full mixes, told while it decodes.

    A bed too quiet to align on (dual mono: L = R, a mono-compatible mix) is known for
    sure only at the end of the decode, and then both files' full mixes had to be
    transformed after it: 1.5-2 s each for 2 hours, with nothing else left to overlap.
    A bed as good as silent under a sounding full mix over a file's first minutes is
    dead in the end, so from then on every file of the pair transforms its full mix as it
    decodes (what it has stored first) and stops transforming its bed, which the pair
    will not align on. The end of the decode still decides, on the whole file, as before;
    a bed given up that is chosen after all has its features taken from the stored bed.
    A bed that is merely quiet at first (dialogue over little else) is left to the end.
    """

    def __init__(self):
        self.dead = False

    def judge(self, mixes: "_Mixes") -> bool:
        """Whether what this file has stored so far decides it (its full mix sounds)."""
        bed, full = mixes.signals()
        full_rms = _rms(full[::7])
        if full_rms <= NOISE_RMS:
            return False
        if _rms(bed[::7]) < EARLY_DEAD * full_rms:
            self.dead = True
        return True


def _decode(ffmpeg: str, path: str, stream: AudioStream, bed_kind: str,
            reading: _Reading | None = None, pacer: _Pacer | None = None,
            watch: _BedWatch | None = None) -> DecodedTrack:
    from .features import EnergyStream, LevelStream, features_from_energies, features_of

    reading = reading or _Reading(stream)
    proc = FFmpeg(ffmpeg).start_decode(path, stream.stream_index, decode_pcm(stream, bed_kind))
    reading.proc = proc
    _widen_pipe(proc.stdout)
    # A damaged file can make ffmpeg write errors without end: drain them beside the read.
    errors: list[bytes] = []
    drain = threading.Thread(target=lambda: errors.append(proc.stderr.read()), daemon=True)
    drain.start()
    # With the full mix as the bed the two mixes are one signal: transform it once. Else
    # the full mix's level is taken as it comes; its band features only where they will be read.
    streams = (EnergyStream(), LevelStream() if bed_kind != "full" else None)
    mixes, pending = _Mixes(stream.duration, rows=1 if bed_kind == "full" else 2), b""
    watch = watch or _BedWatch()
    judged, full_stream, judge_at = bed_kind == "full", None, EARLY_BED_S * SAMPLE_RATE
    try:
        while block := proc.stdout.read(READ_BYTES):
            reading.bytes += len(block)
            if pacer is not None:
                pacer.follow(reading)
            data = pending + block
            pending = data[len(data) // 4 * 4:]
            pcm = np.frombuffer(data[:len(data) // 4 * 4], dtype="<i2").reshape(-1, 2)
            # The transforms read the piece where it was just stored, already one mix a row.
            stored = mixes.append(pcm)
            for energy, mix in zip(streams, stored):
                if energy is not None:
                    energy.feed(mix)
            if not judged and mixes.length >= judge_at:
                judged, judge_at = watch.judge(mixes), 2 * judge_at
            if full_stream is not None:
                full_stream.feed(stored[1])
            elif watch.dead and bed_kind != "full":
                # From here the pair aligns on its full mixes: the bed's transforms stop (were
                # it to sound after all, its features are taken from the stored bed after).
                full_stream, streams = EnergyStream(), (None, streams[1])
                full_stream.feed(mixes.signals()[1])   # all of it so far, this piece included
    finally:
        reading.finished = True
        proc.stdout.close()
        returncode = proc.wait()
        drain.join()
    if reading.stopped:
        raise MediaError(f"{path}: decoding stopped")
    if returncode != 0:
        raise MediaError(f"{path}: cannot decode audio track ({last_error(errors)})")
    bed, full = mixes.signals()
    if len(full) < MIN_SECONDS * SAMPLE_RATE:
        raise MediaError(f"{path}: only {len(full) / SAMPLE_RATE:.1f} s of audio; at least {MIN_SECONDS:g} s are needed")
    # Here, in this file's thread: the two files' features are taken at once, and the file
    # that finishes decoding first has its own ready while the other still decodes. The
    # energies are not kept: 46 MB a mix for 2 hours, and nothing reads them again.
    bed_features = features_from_energies(streams[0].energies()) if streams[0] is not None else None
    if streams[1] is None:
        return DecodedTrack(bed=bed, full=full, stream=stream, bed_kind=bed_kind, bed_features=bed_features,
                            full_features=bed_features, gave_way=reading.give_way)
    # A bed too quiet to align on means the pair aligns on the full mixes: this file's were
    # transformed while it decoded where a bed was found dead early (_BedWatch), else here,
    # while the other file may still decode. Where only the other file's bed fails and
    # this one ended before that was known, the aligner transforms this full mix after the
    # decode (engine._features_for).
    usable = bed_worth_using(bed[::7], full[::7])
    full_features = features_from_energies(full_stream.energies()) if full_stream is not None else \
        None if usable else features_of(full)
    return DecodedTrack(bed=bed, full=full, stream=stream, bed_kind=bed_kind, bed_features=bed_features,
                        full_features=full_features, bed_usable=usable,
                        full_level=features_from_energies(streams[1].energies()), gave_way=reading.give_way)


def last_error(errors: list[bytes]) -> str:
    """The last line ffmpeg wrote to stderr: the one that says what went wrong."""
    lines = b"".join(errors).decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else "decode failed"


class _Mixes:
    """The decoded mixes, one array each, sized from the probed duration.

    Keeping the blocks as read and joining them at the end held each track three times
    over (blocks, joined, the two de-interleaved copies): 690 MB for 2 hours, and at the
    end of two parallel decodes that was most of the aligner's peak memory. With the full
    mix as the bed (``rows=1``) the two channels are the same signal and are kept once.
    Separate arrays, so that the mix the aligner does not choose can be let go.
    """

    def __init__(self, duration: float | None, rows: int):
        size = int(((duration or 0.0) + 2.0) * SAMPLE_RATE * 1.01) or SAMPLE_RATE
        self.rows = [np.empty(size, dtype=np.int16) for _ in range(rows)]
        self.length = 0

    def append(self, pcm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Store a piece of interleaved (bed, full) samples; the piece's (bed, full) as stored."""
        start, end = self.length, self.length + len(pcm)
        if end > len(self.rows[0]):   # a duration probed short (or none): grow by half
            size = max(end, len(self.rows[0]) * 3 // 2)
            grown = [np.empty(size, dtype=np.int16) for _ in self.rows]
            for new, old in zip(grown, self.rows):
                new[:self.length] = old[:self.length]
            self.rows = grown
        for i, row in enumerate(self.rows):
            row[start:end] = pcm[:, i if len(self.rows) == 2 else 1]
        self.length = end
        return self.rows[0][start:end], self.rows[-1][start:end]

    def signals(self) -> tuple[np.ndarray, np.ndarray]:
        """(bed, full), views of the arrays."""
        return self.rows[0][:self.length], self.rows[-1][:self.length]
