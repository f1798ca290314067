"""Tiny media made with the real ffmpeg for the tool wrapper tests."""
from __future__ import annotations

from pathlib import Path

import pytest
from tool_media import make


@pytest.fixture(scope="session")
def two_tones(tmp_path_factory) -> Path:
    """2 s of 96x64 video, then a 440 Hz English and a 1000 Hz German stereo track (AC3, FLAC)."""
    out = tmp_path_factory.mktemp("media") / "two.mkv"
    make("-f", "lavfi", "-i", "testsrc=s=96x64:r=5:d=2", "-f", "lavfi", "-i", "sine=f=440:d=2:r=48000",
         "-f", "lavfi", "-i", "sine=f=1000:d=2:r=48000", "-map", "0", "-map", "1", "-map", "2",
         "-c:v", "mpeg4", "-c:a:0", "ac3", "-ac:a:0", "2", "-c:a:1", "flac", "-ac:a:1", "2",
         "-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=ger", out)
    return out


@pytest.fixture(scope="session")
def split_stereo(tmp_path_factory) -> Path:
    """2 s of stereo FLAC: 440 Hz on the left, 1000 Hz on the right."""
    out = tmp_path_factory.mktemp("media") / "lr.mka"
    make("-f", "lavfi", "-i", "sine=f=440:d=2:r=48000", "-f", "lavfi", "-i", "sine=f=1000:d=2:r=48000",
         "-filter_complex", "[0][1]join=inputs=2:channel_layout=stereo", "-c:a", "flac", out)
    return out
