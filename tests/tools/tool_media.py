"""Helpers for the tool wrapper tests: real ffmpeg, and the dominant frequency of a signal."""
from __future__ import annotations

import subprocess

import numpy as np

SR = 48000


def make(*args) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *map(str, args)], check=True)


def dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * rate / len(samples))


