"""Build short real-speech clips from the drascula game's Spanish lines and English dub.

``es/NAME.ALS`` and ``en/NAME.ALS`` hold the same line in each language: unsigned 8-bit
mono at 11025 Hz between a 32-byte header and a 32-byte trailer. ``audio/trackN.ogg``
is the game's music, used as a shared bed under the dialogue.
"""
from __future__ import annotations

import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

ALS_RATE = 11025
RATE = 16000

# Lines checked by ear and by transcript: real sentences of 2-6 s in both languages,
# each clearly different in content from the others.
LINES = ("VB41", "I1", "I22", "VB45", "D66", "E7", "L16", "VB27")
# Other lines of the game, none saying what LINES say: a "different film".
OTHER_LINES = ("T22", "E3", "BJ21", "E21", "T19", "VB25", "D62", "T17")


def read_als(path: Path) -> np.ndarray:
    """The line as float32 at 16 kHz, peak-normalised to 0.5."""
    raw = Path(path).read_bytes()[32:-32]
    pcm = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    # 11025 -> 16000 is 640/441 exactly.
    audio = resample_poly(pcm, 640, 441).astype(np.float32)
    peak = float(np.abs(audio).max()) or 1.0
    return audio * (0.5 / peak)


def line(drascula: Path, lang: str, name: str) -> np.ndarray:
    return read_als(Path(drascula) / lang / f"{name}.ALS")


@dataclass
class Clip:
    """A composed track: the samples, and per line where it starts, where its voice begins
    and where it ends (seconds)."""

    audio: np.ndarray
    starts: dict[str, float]
    onsets: dict[str, float]
    ends: dict[str, float]


def voice_start(speech: np.ndarray, level: float = 0.05) -> float:
    """Seconds of near-silence a line file has before the voice (0-0.5 s in drascula)."""
    return float(np.argmax(np.abs(speech) > level)) / RATE


def timeline(drascula: Path, names: list[str], gaps: list[float], lead: float = 1.0) -> dict[str, float]:
    """Start times for lines in order, ``gaps[i]`` s after the longer language's line i
    ends, so that neither language's lines overlap: how a dub keeps its original's timing."""
    starts, t = {}, lead
    for name, gap in zip(names, gaps, strict=True):
        starts[name] = t
        t += max(len(line(drascula, lang, name)) for lang in ("es", "en")) / RATE + gap
    return starts


def place(drascula: Path, lang: str, starts: dict[str, float], tail: float = 1.0) -> Clip:
    """One language's lines at the given start times, silence between them."""
    lines = {name: line(drascula, lang, name) for name in starts}
    length = max(t + len(lines[n]) / RATE for n, t in starts.items()) + tail
    audio = np.zeros(int(length * RATE), np.float32)
    onsets, ends = {}, {}
    for name, t in starts.items():
        at = int(round(t * RATE))
        audio[at: at + len(lines[name])] += lines[name]
        onsets[name] = t + voice_start(lines[name])
        ends[name] = t + len(lines[name]) / RATE
    return Clip(audio, dict(starts), onsets, ends)


def compose(drascula: Path, lang: str, names: list[str], gaps: list[float], lead: float = 1.0) -> Clip:
    """Lines of one language in order with ``gaps`` of silence: :func:`timeline` + :func:`place`."""
    return place(drascula, lang, timeline(drascula, names, gaps, lead))


def music(drascula: Path, track: int, seconds: float, level: float = 0.08) -> np.ndarray:
    """A stretch of the game's music at 16 kHz mono, quiet enough to sit under speech."""
    argv = ["ffmpeg", "-nostdin", "-v", "error", "-stream_loop", "-1",
            "-i", str(Path(drascula) / "audio" / f"track{track}.ogg"),
            "-t", f"{seconds:.3f}", "-ac", "1", "-ar", str(RATE), "-f", "f32le", "-"]
    data = np.frombuffer(subprocess.run(argv, check=True, capture_output=True).stdout, np.float32)
    peak = float(np.abs(data).max()) or 1.0
    return np.resize(data * (level / peak), int(seconds * RATE))


def write_wav(path: Path, audio: np.ndarray) -> Path:
    """16-bit PCM WAV at 16 kHz; ``audio`` is (samples,) or (samples, channels)."""
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1 if pcm.ndim == 1 else pcm.shape[1])
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(pcm.tobytes())
    return Path(path)


def surround(speech: np.ndarray, bed: np.ndarray) -> np.ndarray:
    """5.1 in WAV order (FL FR FC LFE BL BR): the speech in the centre, the bed around it."""
    out = np.zeros((len(speech), 6), np.float32)
    out[:, 2] = speech
    for ch in (0, 1, 4, 5):
        out[:, ch] = bed[: len(speech)]
    return out


def stereo(speech: np.ndarray, bed: np.ndarray, phase: float = 1.0) -> np.ndarray:
    """Speech centred (equal in L and R) over the bed; ``phase=-1`` puts the bed in antiphase."""
    bed = bed[: len(speech)]
    return np.stack([0.5 * speech + bed, 0.5 * speech + phase * bed], axis=1)


def encode(wav: Path, out: Path, codec: str, language: str | None = None) -> Path:
    """Encode a WAV into a Matroska file with one audio track, tagged or left undefined."""
    argv = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(wav), "-c:a", codec]
    if language:
        argv += ["-metadata:s:a:0", f"language={language}"]
    subprocess.run([*argv, str(out)], check=True)
    return Path(out)


def codec_delay(path: Path, written: np.ndarray, seconds: float = 8.0) -> float:
    """Seconds the decoded file lags what was written: encoder priming (AAC 1024 samples,
    AC3 256) that Matroska does not signal, so players and our decoder both play it."""
    argv = ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-t", str(seconds + 0.5),
            "-ac", "1", "-ar", str(RATE), "-f", "f32le", "-"]
    decoded = np.frombuffer(subprocess.run(argv, check=True, capture_output=True).stdout, np.float32)
    ref = written.mean(axis=1) if written.ndim == 2 else written
    ref = ref[: int(seconds * RATE)]
    most = int(0.2 * RATE)
    corr = np.correlate(decoded[: len(ref) + most], ref, "valid")
    return float(np.argmax(corr)) / RATE


VOICE_GAPS = [1.0, 1.5, 1.0, 1.2]


def make_voices(drascula: Path, folder: Path) -> dict[str, Path]:
    """Four real lines each: English untagged, Spanish tagged eng (a mislabelled release), Spanish tagged spa."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, lang, tag in (("en_untagged", "en", None), ("es_tagged_eng", "es", "eng"), ("es_original", "es", "spa")):
        clip = compose(drascula, lang, list(LINES[:4]), VOICE_GAPS)
        out[name] = encode(write_wav(folder / f"{name}.wav", clip.audio), folder / f"{name}.mkv", "aac", tag)
    return out
