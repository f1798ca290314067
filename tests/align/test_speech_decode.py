"""Decoding the dialogue of a track for Whisper: channel choice, seeking, errors."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest

from syncdub_companion.align.speech import decode_speech, dialogue_filter, track_info
from syncdub_companion.errors import MediaError, ModelMissingError, UsageError
from syncdub_companion.tools.ffprobe import AudioStream

from tests.align.speech_clips import RATE, encode, stereo, surround, write_wav


def tone(freq: float, seconds: float = 4.0, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (level * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def dominant(audio: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
    return float(np.fft.rfftfreq(len(audio), 1 / RATE)[np.argmax(spectrum)])


def stream(layout: str, channels: int) -> AudioStream:
    return AudioStream(0, 0, "ac3", channels, layout, 48000, None, None, None, 10.0, 0.0, True)


def test_dialogue_filter_picks_centre_then_mid_then_mono():
    assert dialogue_filter(stream("5.1(side)", 6)) == "pan=mono|c0=FC"
    assert dialogue_filter(stream("7.1", 8)) == "pan=mono|c0=FC"
    assert dialogue_filter(stream("", 6)) == "pan=mono|c0=c2"
    assert dialogue_filter(stream("stereo", 2)) == "pan=mono|c0=0.5*c0+0.5*c1"
    assert dialogue_filter(stream("mono", 1)) is None  # a plain downmix to mono


def test_decode_takes_the_centre_of_51(tmp_path):
    wav = write_wav(tmp_path / "s.wav", surround(tone(440), tone(1000)))
    mkv = encode(wav, tmp_path / "s.mkv", "ac3")
    audio = decode_speech(str(mkv), 0, 0.5, 2.0)
    assert audio.dtype == np.float32 and len(audio) == 2 * RATE
    assert dominant(audio) == pytest.approx(440, abs=2)


def test_decode_takes_the_mid_of_stereo(tmp_path):
    wav = write_wav(tmp_path / "s.wav", stereo(tone(440), tone(1000), phase=-1.0))
    audio = decode_speech(str(encode(wav, tmp_path / "s.mkv", "flac")), 0, 0.0, 3.0)
    assert dominant(audio) == pytest.approx(440, abs=2)
    # the antiphase bed cancels in the mid signal
    spectrum = np.abs(np.fft.rfft(audio))
    freqs = np.fft.rfftfreq(len(audio), 1 / RATE)
    assert spectrum[np.abs(freqs - 1000) < 5].max() < 0.01 * spectrum.max()


@pytest.mark.parametrize("codec", ["ac3", "aac", "flac"])
def test_input_seeking_lands_on_the_same_samples_as_a_full_decode(tmp_path, codec):
    noise = np.convolve(np.random.default_rng(7).standard_normal(20 * RATE), np.ones(4) / 4, "same") * 0.2
    mkv = encode(write_wav(tmp_path / "n.wav", noise.astype(np.float32)), tmp_path / "n.mkv", codec)
    full = decode_speech(str(mkv), 0, 0.0, 20.0)
    for start in (3.3, 11.07):
        part = decode_speech(str(mkv), 0, start, 2.0)
        at = int(round(start * RATE))
        corr = np.correlate(full[at - 800: at + len(part) + 800], part, "valid")
        assert abs(int(np.argmax(corr)) - 800) <= 4  # 0.25 ms at 16 kHz


def test_a_track_delayed_in_the_container_is_read_from_its_own_first_sample(tmp_path):
    noise = np.random.default_rng(3).standard_normal(12 * RATE).astype(np.float32) * 0.2
    plain = encode(write_wav(tmp_path / "n.wav", noise), tmp_path / "n.mka", "flac")
    video = tmp_path / "v.mkv"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=black:s=32x32:r=25:d=12",
                    "-c:v", "ffv1", str(video)], check=True)
    delayed = tmp_path / "av.mkv"
    subprocess.run(["mkvmerge", "-q", "-o", str(delayed), str(video), "--sync", "0:700", str(plain)], check=True)
    assert track_info(str(delayed), 0).lead == pytest.approx(0.7, abs=0.002)
    part = decode_speech(str(delayed), 0, 5.0, 2.0)
    reference = noise[5 * RATE: 7 * RATE]
    assert np.corrcoef(part[: len(reference)], reference)[0, 1] > 0.99


def test_decode_errors_are_typed(tmp_path):
    wav = write_wav(tmp_path / "m.wav", tone(300, 2.0))
    with pytest.raises(UsageError, match="out of range"):
        decode_speech(str(wav), 1, 0.0, 1.0)
    with pytest.raises(UsageError, match="window"):
        decode_speech(str(wav), 0, -1.0, 1.0)
    junk = tmp_path / "junk.mkv"
    junk.write_bytes(b"not a film" * 100)
    with pytest.raises(MediaError):
        decode_speech(str(junk), 0, 0.0, 1.0)


def test_a_missing_model_folder_names_the_setting(tmp_path, monkeypatch):
    from syncdub_companion.align.embed import Embedder
    from syncdub_companion.align.transcribe import Transcriber

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelMissingError, match="speech.whisper_model"):
        Transcriber(str(tmp_path / "nowhere"), tmp_path, device="cpu").model
    with pytest.raises(ModelMissingError, match="HF_HUB_OFFLINE"):
        Transcriber("no-such-whisper-size", tmp_path, device="cpu").model
    with pytest.raises(ModelMissingError, match="speech.sentence_model"):
        Embedder(str(tmp_path / "nowhere"), device="cpu").model


def test_a_folder_that_is_no_model_names_the_setting(tmp_path):
    from syncdub_companion.align.transcribe import Transcriber

    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "model.bin").write_bytes(b"not a model")
    with pytest.raises(ModelMissingError, match="not a CTranslate2 Whisper model"):
        Transcriber(str(tmp_path / "junk"), tmp_path, device="cpu").model
