"""Band energies computed while decoding are those of the whole decoded signal."""
from __future__ import annotations

import numpy as np

from syncdub_companion.align.decode import decode_pair, select_stream
from syncdub_companion.align.features import EnergyStream, band_energies, features_of
from syncdub_companion.tools.ffprobe import FFprobe


def test_a_stream_fed_in_pieces_of_any_size_gives_the_whole_signals_energies():
    rng = np.random.default_rng(3)
    pcm = (rng.standard_normal(80_000) * 3000).astype(np.int16)
    stream, at = EnergyStream(), 0
    for size in (1, 255, 256, 79, 4001, 33_333, 10):
        stream.feed(pcm[at:at + size])
        at += size
    stream.feed(pcm[at:])
    whole = band_energies(pcm)
    assert stream.energies().shape == whole.shape
    np.testing.assert_allclose(stream.energies(), whole, rtol=1e-5, atol=1e-3)


def test_decoding_gives_the_features_of_both_mixes_and_can_let_one_go(tmp_path):
    import subprocess

    path = tmp_path / "a.mka"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "anoisesrc=d=40:c=pink:seed=5:a=0.3",
                    "-f", "lavfi", "-i", "sine=f=440:d=40", "-filter_complex", "[0][1]amerge=inputs=2",
                    "-c:a", "flac", str(path)], check=True)
    stream = select_stream(FFprobe("ffprobe"), str(path), None, "original")
    track, = decode_pair("ffmpeg", [(str(path), stream, "side")])
    for features, mix in ((track.bed_features, track.bed), (track.full_features, track.full)):
        whole = features_of(mix)
        np.testing.assert_allclose(features.log_energy, whole.log_energy, rtol=1e-5, atol=1e-4)
        assert np.array_equal(features.loud, whole.loud)
    assert len(track.bed) >= 39 * 8000
    track.keep_only(track.bed)
    assert track.full is None and track.duration == len(track.bed) / 8000


def test_a_duration_probed_short_or_missing_still_gives_every_sample_and_the_full_mix_is_kept_once(tmp_path):
    import subprocess
    from dataclasses import replace

    path = tmp_path / "b.mka"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "anoisesrc=d=25:c=pink:seed=7:a=0.3",
                    "-f", "lavfi", "-i", "sine=f=330:d=25", "-filter_complex", "[0][1]amerge=inputs=2",
                    "-c:a", "flac", str(path)], check=True)
    stream = select_stream(FFprobe("ffprobe"), str(path), None, "original")
    right, short, unknown = decode_pair("ffmpeg", [(str(path), stream, "side"),
                                                   (str(path), replace(stream, duration=1.0), "side"),
                                                   (str(path), replace(stream, duration=None), "side")])
    for track in (short, unknown):
        np.testing.assert_array_equal(track.bed, right.bed)
        np.testing.assert_array_equal(track.full, right.full)
    assert not np.array_equal(right.bed, right.full)
    full, = decode_pair("ffmpeg", [(str(path), stream, "full")])
    assert full.bed is full.full or np.shares_memory(full.bed, full.full)
    np.testing.assert_array_equal(full.full, right.full)


def test_work_after_a_decode_runs_in_that_files_thread_before_the_pair_returns_and_its_errors_reach_the_caller(tmp_path):
    import subprocess
    import threading

    import pytest

    path = tmp_path / "c.mka"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "anoisesrc=d=12:c=pink:seed=9:a=0.3",
                    "-ac", "2", "-c:a", "flac", str(path)], check=True)
    stream = select_stream(FFprobe("ffprobe"), str(path), None, "original")
    seen = []

    def note(track):
        seen.append((threading.current_thread() is not threading.main_thread(), track.full_features))

    first, second = decode_pair("ffmpeg", [(str(path), stream, "side"), (str(path), stream, "side")], after=[note, None])
    assert len(seen) == 1 and seen[0][0] and seen[0][1] is first.full_features

    def fail(track):
        raise ValueError("masks failed")

    with pytest.raises(ValueError, match="masks failed"):
        decode_pair("ffmpeg", [(str(path), stream, "side")], after=[fail])
