"""The ffprobe wrapper against the real ffprobe."""
from __future__ import annotations

import pytest
from tool_media import make

from syncdub_companion.errors import MediaError, ToolMissingError
from syncdub_companion.tools.ffprobe import FFprobe

ffprobe = FFprobe()


def test_audio_streams_in_order_with_their_facts(two_tones):
    english, german = ffprobe.audio_streams(two_tones)
    assert (english.index, english.stream_index, english.codec, english.language) == (0, 1, "ac3", "eng")
    assert (german.index, german.stream_index, german.codec, german.language) == (1, 2, "flac", "ger")
    assert german.channels == 2 and german.sample_rate == 48000
    assert german.duration == pytest.approx(2.0, abs=0.05)


def test_first_frame_time_sees_the_opus_pre_skip(tmp_path, split_stereo):
    opus = tmp_path / "o.mka"
    make("-i", split_stereo, "-c:a", "libopus", opus)
    flac_start = ffprobe.first_frame_time(split_stereo, 0)
    assert flac_start == pytest.approx(0.0, abs=1e-6)
    # the decoder drops Opus's pre-skip, so its first frame plays 6.5 ms after the stream's start
    start = ffprobe.audio_streams(opus)[0].start_time
    assert ffprobe.first_frame_time(opus, 0) - start == pytest.approx(0.0065, abs=0.0006)
    assert ffprobe.first_frame_time(opus, 7) is None  # no such stream: the caller keeps start_time


def test_unreadable_and_missing(tmp_path):
    junk = tmp_path / "junk.mkv"
    junk.write_bytes(b"\0" * 4096)
    with pytest.raises(MediaError, match="not a readable media file"):
        ffprobe.probe(junk)
    with pytest.raises(MediaError, match="no such file"):
        ffprobe.probe(tmp_path / "absent.mkv")
    with pytest.raises(ToolMissingError, match="tools.ffprobe"):
        FFprobe(str(tmp_path / "no-ffprobe")).probe(junk)
    assert FFprobe(str(tmp_path / "no-ffprobe")).version() is None
    assert ffprobe.version()[0].isdigit()
