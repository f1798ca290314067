"""faster-whisper behind one small class: audio in, absolute-time speech segments out.

The model is loaded lazily, once per process and per (model, device, compute type), and
shared between threads. faster-whisper yields segments lazily, so :meth:`Transcriber.transcribe`
materialises them: a failure surfaces here, in the transcribe step, not later in a loop.
"""
from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelMissingError, UsageError

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
TASKS = ("transcribe", "translate")
# Silence (s) that separates two stretches of speech (utterances); shorter gaps are
# breaths and stops inside one.
PAUSE = 0.3
# speech.model_dir's meaning when empty: data_dir/models with the default data_dir.
DEFAULT_MODEL_DIR = "data/models"

_models: dict[tuple[str, str, str, str], Any] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class SpeechSegment:
    """One stretch of speech; times are seconds in the file's own timeline.

    ``words`` holds (start, end, text) per word when word timestamps were on.
    ``speech_start`` is the voice onset found by VAD near the first word, and
    ``after_pause`` says it follows a pause: the segment starts a line rather than
    continuing one, so its onset is one a dub shares with its original.
    """

    start: float
    end: float
    text: str
    language: str
    avg_logprob: float
    no_speech_prob: float
    words: tuple[tuple[float, float, str], ...] = ()
    speech_start: float | None = None
    after_pause: bool = False

    @property
    def onset(self) -> float:
        """When the speech begins: the voice onset found by VAD, else the first word's start."""
        if self.speech_start is not None:
            return self.speech_start
        return self.words[0][0] if self.words else self.start


def whisper_device(device: str) -> str:
    """``auto`` becomes cuda when CTranslate2 sees a CUDA device, else cpu."""
    if device != "auto":
        return device
    import ctranslate2

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


def compute_type_for(device: str, compute_type: str) -> str:
    """``auto`` is int8 on CPU (fastest there) and float16 on CUDA."""
    if compute_type != "auto":
        return compute_type
    return "float16" if device == "cuda" else "int8"


def load_whisper(model_setting: str, model_dir: str | Path | None, device: str = "auto",
                 compute_type: str = "auto"):
    """The shared faster_whisper.WhisperModel for these settings, loaded on first use."""
    from .. import models

    device = whisper_device(device)
    compute_type = compute_type_for(device, compute_type)
    model_dir = Path(model_dir or DEFAULT_MODEL_DIR)
    key = (model_setting, str(model_dir), device, compute_type)
    with _lock:  # held while joining or loading, so two threads never load the same model twice
        if key not in _models:
            source = models.resolve_whisper(model_setting, model_dir)
            _models[key] = _open_whisper(source, model_setting, model_dir, device, compute_type)
        return _models[key]


def _open_whisper(source: str, setting: str, model_dir, device: str, compute_type: str):
    from faster_whisper import WhisperModel

    log.info("loading Whisper model %s on %s (%s)", setting, device, compute_type)
    source = os.path.expanduser(source)
    if os.path.isdir(source):  # a local folder never touches the network
        try:
            return WhisperModel(source, device=device, compute_type=compute_type)
        except (RuntimeError, OSError, ValueError) as exc:
            raise _missing(setting, f"{source} is not a CTranslate2 Whisper model ({exc})") from None
    if looks_like_path(source):
        raise _missing(setting, f"no folder at {source}")
    download_root = str(Path(model_dir) / "hub")
    try:
        return WhisperModel(source, device=device, compute_type=compute_type,
                            download_root=download_root, local_files_only=True)
    except Exception:  # not cached yet: fetch it unless the user asked for offline
        if os.environ.get("HF_HUB_OFFLINE") not in (None, "", "0"):
            raise _missing(setting, "it is not cached and HF_HUB_OFFLINE is set") from None
    try:
        return WhisperModel(source, device=device, compute_type=compute_type, download_root=download_root)
    except Exception as exc:
        raise _missing(setting, f"download failed ({type(exc).__name__})") from None


def looks_like_path(setting: str) -> bool:
    """A folder path rather than a hub name (hub names look like ``owner/name``)."""
    return os.path.isabs(setting) or setting.startswith(("./", "../", "~", ".\\"))


def _missing(setting: str, why: str) -> ModelMissingError:
    return ModelMissingError(
        f"speech.whisper_model = {setting!r}: {why}; set it to 'base' (bundled, offline), "
        "a folder holding a CTranslate2 Whisper model, or connect once to download the name")


class Transcriber:
    """Whisper transcription and translation of 16 kHz mono float32 audio."""

    def __init__(self, model_setting: str = "base", model_dir: str | Path | None = None,
                 device: str = "auto", compute_type: str = "auto", beam_size: int = 5):
        self.model_setting = model_setting
        self.model_dir = model_dir
        self.device = whisper_device(device)
        self.compute_type = compute_type_for(self.device, compute_type)
        # Beam search translated the drascula lines markedly better than greedy decoding
        # (6 matches of 7 against 3) at no measurable cost on short windows.
        self.beam_size = beam_size

    @property
    def model(self):
        return load_whisper(self.model_setting, self.model_dir, self.device, self.compute_type)

    def transcribe(self, audio: np.ndarray, offset: float = 0.0, task: str = "transcribe",
                   language: str | None = None, batched: bool | None = None) -> list[SpeechSegment]:
        """Segments of ``audio`` with ``offset`` added to every time.

        ``task`` is transcribe (the spoken language) or translate (to English). The
        language is detected when None. ``batched`` (default: on CUDA) uses faster-whisper's
        BatchedInferencePipeline, which suits whole films.
        """
        if task not in TASKS:
            raise UsageError(f"task must be one of {', '.join(TASKS)}, not {task!r}")
        audio = _check_audio(audio)
        if len(audio) < SAMPLE_RATE // 4:
            return []
        batched = self.device == "cuda" if batched is None else batched
        kwargs = dict(task=task, language=language, beam_size=self.beam_size, word_timestamps=True,
                      vad_filter=True, condition_on_previous_text=False)
        if batched:
            from faster_whisper import BatchedInferencePipeline

            pieces, info = BatchedInferencePipeline(self.model).transcribe(audio, batch_size=16, **kwargs)
        else:
            pieces, info = self.model.transcribe(audio, **kwargs)
        lang = language or info.language
        segments = [_segment(piece, lang, offset) for piece in pieces]  # the generator does the work here
        spans = stretches([(offset + a, offset + b) for a, b in voice_spans(audio)])
        return [s for s in cut_at_stretches(segments, spans, offset) if s.text]

    def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        """(ISO 639-1 code, probability) of the speech in ``audio``, silence skipped."""
        audio = _check_audio(audio)
        if len(audio) < SAMPLE_RATE // 2:
            raise UsageError("too little audio to identify a language (under 0.5 s)")
        code, prob, _ = self.model.detect_language(audio, vad_filter=True, language_detection_segments=1)
        return code, float(prob)


def _check_audio(audio) -> np.ndarray:
    audio = np.asarray(audio)
    if audio.ndim != 1:
        raise UsageError(f"audio must be mono (1-D), got shape {audio.shape}")
    return audio.astype(np.float32, copy=False)


def _segment(piece, language: str, offset: float) -> SpeechSegment:
    words = tuple((round(w.start + offset, 3), round(w.end + offset, 3), w.word) for w in (piece.words or ()))
    return SpeechSegment(start=round(piece.start + offset, 3), end=round(piece.end + offset, 3),
                         text=piece.text.strip(), language=language, avg_logprob=float(piece.avg_logprob),
                         no_speech_prob=float(piece.no_speech_prob), words=words)


def voice_spans(audio: np.ndarray) -> list[tuple[float, float]]:
    """(start, end) seconds of each stretch of speech in ``audio``: Silero VAD without
    padding, each start sharpened on the signal's level (:func:`sharpen_onset`)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    chunks = get_speech_timestamps(audio, VadOptions(speech_pad_ms=0, min_silence_duration_ms=100))
    return [(sharpen_onset(audio, c["start"] / SAMPLE_RATE), c["end"] / SAMPLE_RATE) for c in chunks]


def sharpen_onset(audio: np.ndarray, t: float, look: float = 0.5, frame: float = 0.01) -> float:
    """Where the level rises from the floor before ``t`` to the speech after it.

    Silero's 32 ms frames and its probability threshold put onsets up to 0.3 s late on
    the drascula speech, where a soft first syllable is followed by a short gap. A level
    threshold a quarter of the way (in dB) from the floor of the preceding ``look``
    seconds to the speech's level, walked back across gaps of up to 150 ms, finds the
    rise to within ~0.1 s.
    """
    hop = int(frame * SAMPLE_RATE)
    at, lo = int(t * SAMPLE_RATE), max(0, int((t - look) * SAMPLE_RATE))
    piece = audio[lo: at + int(0.3 * SAMPLE_RATE)]
    n, k = len(piece) // hop, (at - lo) // hop
    if k < 12 or n - k < 10:  # too close to the window's edge to see a floor and a voice
        return t
    db = 20 * np.log10(np.sqrt(np.mean(piece[: n * hop].reshape(n, hop) ** 2, axis=1)) + 1e-6)
    floor, voice = np.percentile(db[: k - 10], 30), np.percentile(db[k:], 70)
    if voice - floor < 6:  # no clear rise: keep the VAD onset
        return t
    threshold = floor + 0.25 * (voice - floor)
    j = k
    while j < n - 1 and db[j] <= threshold:  # the VAD onset may still sit in the floor
        j += 1
    quiet = 0
    for i in range(j - 1, -1, -1):  # back over the voice, and over gaps between syllables
        quiet = 0 if db[i] > threshold else quiet + 1
        if quiet > 15:
            break
        if not quiet:
            j = i
    return (lo + j * hop) / SAMPLE_RATE


def stretches(spans: list[tuple[float, float]], pause: float = PAUSE) -> list[tuple[float, float]]:
    """VAD spans joined across gaps shorter than ``pause``: utterances, roughly lines."""
    out: list[list[float]] = []
    for start, end in spans:
        if out and start - out[-1][1] < pause:
            out[-1][1] = end
        else:
            out.append([start, end])
    return [(a, b) for a, b in out]


def _stretch_of(word: tuple[float, float, str], spans: list[tuple[float, float]]) -> int:
    """The stretch a word belongs to, by its midpoint. Whisper puts a stretch's first word
    early, into the silence before it, so a midpoint in a gap goes to the next stretch
    unless it sits just after the previous one."""
    mid = (word[0] + word[1]) / 2
    for k, (start, end) in enumerate(spans):
        if mid < end:
            return k if mid >= start or k == 0 or mid - spans[k - 1][1] > 0.15 else k - 1
    return len(spans) - 1


def cut_at_stretches(segments: list[SpeechSegment], spans: list[tuple[float, float]],
                     window_start: float = float("-inf"), pause: float = PAUSE) -> list[SpeechSegment]:
    """Cut Whisper's segments where their words pass from one stretch of speech to the next,
    and give each piece that opens a stretch that stretch's start as its onset.

    Whisper's own segments follow sentences and its timestamps drift; the stretches come
    from the signal, so a piece that opens one starts where a line starts, in both
    languages. It is ``after_pause`` when ``pause`` s of silence precede it, counted from
    ``window_start`` for the window's first stretch (speech running into the window is no
    known pause).
    """
    out, opened = [], set()
    for seg in segments:
        if not seg.words or not spans:
            out.append(seg)
            continue
        groups: list[tuple[int, list]] = []
        for word in seg.words:
            k = _stretch_of(word, spans)
            if groups and groups[-1][0] == k:
                groups[-1][1].append(word)
            else:
                groups.append((k, [word]))
        for k, words in groups:
            piece = seg if len(groups) == 1 else replace(
                seg, start=words[0][0], end=words[-1][1], text="".join(w[2] for w in words).strip(), words=tuple(words))
            if k not in opened:
                opened.add(k)
                quiet = spans[k][0] - (spans[k - 1][1] if k else window_start)
                piece = replace(piece, speech_start=round(spans[k][0], 3), after_pause=quiet >= pause)
            out.append(piece)
    return out
