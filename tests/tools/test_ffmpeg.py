"""The ffmpeg wrapper against the real ffmpeg: what comes out, not only which argv goes in."""
from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest
from tool_media import SR, dominant_hz

from syncdub_companion.errors import ToolError, ToolMissingError, UsageError
from syncdub_companion.tools.ffmpeg import Clip, Encoding, FFmpeg, Pcm
from syncdub_companion.tools.ffprobe import FFprobe

ffmpeg, ffprobe = FFmpeg(), FFprobe()


def f32(data: bytes, channels: int = 1) -> np.ndarray:
    return np.frombuffer(data, dtype="<f4").reshape(-1, channels)


def test_decode_takes_exactly_the_stream_asked_for(two_tones):
    streams = ffprobe.audio_streams(two_tones)
    for stream, hz in zip(streams, (440, 1000)):
        pcm = f32(ffmpeg.decode(two_tones, stream.stream_index, Pcm(16000, channels=1)))
        assert len(pcm) == pytest.approx(2 * 16000, abs=1600)
        assert dominant_hz(pcm[:, 0], 16000) == pytest.approx(hz, abs=5)


def test_decode_seeks_before_the_input_and_cuts_to_the_duration(two_tones):
    german = ffprobe.audio_streams(two_tones)[1]
    pcm = f32(ffmpeg.decode(two_tones, german.stream_index, Pcm(8000, channels=1), seek=0.5, duration=1.0))
    assert len(pcm) == 8000


def test_decode_runs_the_filter_and_the_sample_format(split_stereo):
    right = np.frombuffer(ffmpeg.decode(split_stereo, 0, Pcm(8000, "s16le", audio_filter="pan=mono|c0=c1")), "<i2")
    assert dominant_hz(right.astype(np.float32), 8000) == pytest.approx(1000, abs=5)
    both = f32(ffmpeg.decode(split_stereo, 0, Pcm(8000)), channels=2)  # channels as the stream has them
    assert [dominant_hz(both[:, i], 8000) for i in (0, 1)] == [pytest.approx(440, abs=5), pytest.approx(1000, abs=5)]


def test_a_streaming_decoder_delivers_the_same_samples(split_stereo):
    proc = ffmpeg.start_decode(split_stereo, 0, Pcm(8000, channels=1))
    streamed, _ = proc.communicate()
    assert proc.returncode == 0
    assert streamed == ffmpeg.decode(split_stereo, 0, Pcm(8000, channels=1))


@pytest.mark.parametrize("codec,layout,channels,bitrate", [("opus", "5.1(side)", 6, 384000),
                                                           ("ac3", "stereo", 2, 192000),
                                                           ("flac", "mono", 1, None)])
def test_encode_writes_the_codec_and_the_check_decodes_it(tmp_path, codec, layout, channels, bitrate):
    t = np.arange(SR) / SR
    samples = np.repeat((0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[:, None], channels, axis=1)
    out = tmp_path / f"x.{codec}.mka"
    ffmpeg.encode(out, Encoding(codec, SR, channels, layout, bitrate), samples.tobytes(), timeout=60)
    (stream,) = ffprobe.audio_streams(out)
    assert (stream.codec, stream.channels) == (codec, channels)
    proc = ffmpeg.start_check(out, 0)
    report, _ = proc.communicate()
    text = report.decode()
    assert proc.returncode == 0 and re.search(r"MD5=[0-9a-f]{32}", text)
    ends = [int(v) / 1e6 for v in re.findall(r"^out_time_us=(-?\d+)$", text, re.M)]
    assert ends[-1] == pytest.approx(1.0, abs=0.05)


def test_the_packet_check_alone_hashes_without_decoding(two_tones):
    runs = [ffmpeg.start_check(two_tones, index, decode=False).communicate()[0].decode() for index in (1, 1, 2)]
    md5s = [re.search(r"MD5=([0-9a-f]{32})", text).group(1) for text in runs]
    assert md5s[0] == md5s[1] != md5s[2]
    assert "out_time_us" not in runs[0]


def test_an_encoder_fed_through_its_stdin(tmp_path):
    out = tmp_path / "piped.mka"
    with open(tmp_path / "err", "wb") as err:
        proc = ffmpeg.start_encode(out, Encoding("flac", 8000, 2, "stereo"), stderr=err)
        proc.stdin.write(np.zeros((8000, 2), np.float32).tobytes())
        proc.stdin.close()
        assert proc.wait() == 0
    assert ffprobe.duration(out) == pytest.approx(1.0, abs=0.05)


def test_failures_are_typed(tmp_path):
    junk = tmp_path / "junk.mkv"
    junk.write_bytes(b"not a film" * 100)
    with pytest.raises(ToolError) as info:
        ffmpeg.decode(junk, 0, Pcm(8000))
    assert info.value.returncode and info.value.stderr_tail
    with pytest.raises(ToolMissingError, match="tools.ffmpeg"):
        FFmpeg(str(tmp_path / "no-ffmpeg")).decode(junk, 0, Pcm(8000))
    with pytest.raises(UsageError, match="unknown codec"):
        ffmpeg.encode_argv(tmp_path / "x.mka", Encoding("mp3", SR, 2, "stereo"))


def test_argv_starts_with_the_program_and_quiet_globals(two_tones):
    argv = FFmpeg("/opt/ff/ffmpeg").decode_argv(two_tones, 2, Pcm(8000))
    assert argv[:5] == ["/opt/ff/ffmpeg", "-nostdin", "-hide_banner", "-v", "error"]
    # and it runs as built: the same list through subprocess gives the wrapper's samples
    real = ffmpeg.decode_argv(two_tones, 2, Pcm(8000))
    assert subprocess.run(real, capture_output=True, check=True).stdout == ffmpeg.decode(two_tones, 2, Pcm(8000))


def test_a_mix_of_seeked_inputs_through_a_written_graph(tmp_path, two_tones, split_stereo):
    out = tmp_path / "clip.mp4"
    inputs = [Clip(two_tones, 0.5, 1.0), Clip(split_stereo, 0.0, 1.0)]
    graph = ["[0:2]pan=mono|c0=c0[a]", "[1:0]pan=mono|c0=c0[b]", "[a][b]amix=inputs=2:normalize=0[out]"]
    ffmpeg.mix(inputs, graph, out, timeout=60)
    (stream,) = ffprobe.audio_streams(out)
    assert stream.codec == "aac" and stream.duration == pytest.approx(1.0, abs=0.05)
    mixed = f32(ffmpeg.decode(out, 0, Pcm(8000, channels=1)))[:, 0]
    spectrum = np.abs(np.fft.rfft(mixed))
    freqs = np.fft.rfftfreq(len(mixed), 1 / 8000)
    assert {440, 1000} <= {int(round(f / 10) * 10) for f in freqs[np.argsort(spectrum)[-6:]]}
    with pytest.raises(ToolError):  # a graph naming a stream that is not there: no partial file
        ffmpeg.mix(inputs, ["[0:9]anull[out]"], out, timeout=60)
    assert not out.exists()
