"""Band energies computed while decoding are those of the whole decoded signal."""
from __future__ import annotations

import subprocess

import numpy as np

from syncdub_companion.align.decode import decode_pair, select_stream
from syncdub_companion.align.features import (EnergyStream, LevelStream, band_energies, evenly_weighted,
                                              features_of, level_features)
from syncdub_companion.align.segment import Similarity
from syncdub_companion.tools.ffprobe import FFprobe


def _stereo(path, seconds: int, seed: int, tone: int, role: str):
    """A FLAC file with pink noise left and a tone right (a side signal that sounds); its stream."""
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"anoisesrc=d={seconds}:c=pink:seed={seed}:a=0.3",
                    "-f", "lavfi", "-i", f"sine=f={tone}:d={seconds}", "-filter_complex", "[0][1]amerge=inputs=2",
                    "-c:a", "flac", str(path)], check=True)
    return select_stream(FFprobe("ffprobe"), str(path), None, role)


def _mono_compatible(path, seconds: int, seed: int, role: str):
    """A FLAC file with the same pink noise left and right (no side signal); its stream."""
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"anoisesrc=d={seconds}:c=pink:seed={seed}:a=0.3",
                    "-ac", "2", "-c:a", "flac", str(path)], check=True)
    return select_stream(FFprobe("ffprobe"), str(path), None, role)


def fed_in_pieces(stream, pcm: np.ndarray):
    """``stream`` fed ``pcm`` in pieces of awkward sizes, as a decoder's reads fall."""
    at = 0
    for size in (1, 255, 256, 79, 4001, 33_333, 10):
        stream.feed(pcm[at:at + size])
        at += size
    stream.feed(pcm[at:])
    return stream.energies()


def test_a_stream_fed_in_pieces_of_any_size_gives_the_whole_signals_energies():
    pcm = (np.random.default_rng(3).standard_normal(80_000) * 3000).astype(np.int16)
    whole = band_energies(pcm)
    pieces = fed_in_pieces(EnergyStream(), pcm)
    assert pieces.shape == whole.shape
    np.testing.assert_allclose(pieces, whole, rtol=1e-5, atol=1e-3)


def test_a_level_stream_fed_in_pieces_of_any_size_gives_the_whole_signals_level():
    pcm = (np.random.default_rng(4).standard_normal(80_000) * 3000).astype(np.int16)
    whole = LevelStream()
    whole.feed(pcm)
    pieces = fed_in_pieces(LevelStream(), pcm)
    assert pieces.shape == (len(band_energies(pcm)), 1)
    np.testing.assert_allclose(pieces, whole.energies(), rtol=1e-3)


def test_the_level_is_what_the_bands_add_up_to_and_ignores_what_lies_outside_them():
    t = np.arange(8000 * 4) / 8000
    rng = np.random.default_rng(5)
    speechy = np.sin(2 * np.pi * 700 * t) * (1.5 + np.sin(2 * np.pi * 3 * t)) * 4000 + rng.standard_normal(len(t)) * 300
    rumble = np.sin(2 * np.pi * 20 * t) * 8000
    for pcm in (speechy, speechy + rumble):
        pcm = pcm.astype(np.int16)
        by_bands = 10 * np.log10(band_energies(pcm).sum(axis=1))
        stream = LevelStream()
        stream.feed(pcm)
        level = 10 * np.log10(stream.energies()[:, 0])
        # After the first frames: the band-pass takes a few milliseconds to settle.
        assert np.percentile(np.abs(level[5:] - by_bands[5:]), 95) < 0.5
    # Twice the speech's amplitude in rumble, under the lowest band, counts 20 dB under it.
    rumble_only = LevelStream()
    rumble_only.feed(rumble.astype(np.int16))
    assert np.median(10 * np.log10(rumble_only.energies()[5:, 0])) < np.median(by_bands) - 20


def test_decoding_gives_the_features_of_both_mixes_and_can_let_one_go(tmp_path):
    path = tmp_path / "a.mka"
    stream = _stereo(path, seconds=40, seed=5, tone=440, role="original")
    track, = decode_pair("ffmpeg", [(str(path), stream, "side")])
    whole = features_of(track.bed)
    np.testing.assert_allclose(track.bed_features.log_energy, whole.log_energy, rtol=1e-5, atol=1e-4)
    assert np.array_equal(track.bed_features.loud, whole.loud)
    # The bed sounds, so the pair will align on it: of the full mix only its level is taken.
    assert track.full_features is None
    level = level_features(track.full)
    np.testing.assert_allclose(track.dialogue_level().log_energy, level.log_energy, rtol=1e-4, atol=1e-4)
    assert np.array_equal(track.dialogue_level().loud, level.loud)
    assert len(track.bed) >= 39 * 8000
    track.keep_only(track.bed)
    assert track.full is None and track.duration == len(track.bed) / 8000


def test_a_bed_too_quiet_to_align_on_has_the_full_mixs_features_taken_in_the_decode(tmp_path):
    path = tmp_path / "mono-compatible.mka"   # the same signal left and right: no side signal
    stream = _mono_compatible(path, seconds=30, seed=6, role="original")
    track, = decode_pair("ffmpeg", [(str(path), stream, "side")])
    assert track.full_features is not None
    whole = features_of(track.full)
    np.testing.assert_allclose(track.full_features.log_energy, whole.log_energy, rtol=1e-5, atol=1e-4)
    assert track.dialogue_level() is track.full_level


def test_a_bed_dead_early_has_the_full_mix_transformed_while_it_decodes(tmp_path, monkeypatch):
    """Over its first EARLY_BED_S the side signal of a mono-compatible file is silence: from
    then on the decode transforms the full mix as it comes (all of it stored so far first),
    which gives the features the stored mix would, and tells the other file of the pair."""
    from syncdub_companion.align import decode

    monkeypatch.setattr(decode, "EARLY_BED_S", 3.0)
    path = tmp_path / "mono-compatible.mka"
    stream = _mono_compatible(path, seconds=30, seed=8, role="original")
    transformed = []
    from syncdub_companion.align import features

    original_feed = features.EnergyStream.feed
    monkeypatch.setattr(features.EnergyStream, "feed", lambda self, pcm: (transformed.append((id(self), len(pcm))),
                                                                          original_feed(self, pcm))[1])
    watch = decode._BedWatch()
    track = decode._decode("ffmpeg", str(path), stream, "side", watch=watch)
    assert watch.dead and track.bed_usable is False
    streams = {key for key, _ in transformed}
    assert len(streams) == 2, "the bed's stream and, once the bed was found dead, the full mix's"
    fed = [n for key, n in transformed if key != transformed[0][0]]
    assert fed[0] >= 3 * 8000 and sum(fed) == len(track.full)   # its stored start in one go, then piece by piece
    bed_fed = sum(n for key, n in transformed if key == transformed[0][0])
    assert bed_fed == fed[0] < len(track.bed) and track.bed_features is None, "the dead bed's transforms stopped"
    whole = features_of(track.full)
    np.testing.assert_allclose(track.full_features.log_energy, whole.log_energy, rtol=1e-5, atol=1e-4)
    assert np.array_equal(track.full_features.loud, whole.loud)


def test_a_file_whose_partners_bed_is_dead_takes_its_own_full_features_while_it_decodes(tmp_path):
    from syncdub_companion.align import decode

    path = tmp_path / "stereo.mka"
    stream = _stereo(path, seconds=20, seed=9, tone=440, role="dubbed")
    told = decode._BedWatch()
    told.dead = True   # the other file's bed, found dead early
    track = decode._decode("ffmpeg", str(path), stream, "side", watch=told)
    assert track.bed_usable is True and track.full_features is not None
    whole = features_of(track.full)
    np.testing.assert_allclose(track.full_features.log_energy, whole.log_energy, rtol=1e-5, atol=1e-4)
    # Its own bed is not transformed (the pair aligns on the full mixes); were it chosen
    # after all, the aligner takes its features from the stored bed.
    assert track.bed_features is None
    # Alone, a file with a bed that sounds takes only the full mix's level.
    assert decode._decode("ffmpeg", str(path), stream, "side").full_features is None


def test_a_duration_probed_short_or_missing_still_gives_every_sample_and_the_full_mix_is_kept_once(tmp_path):
    from dataclasses import replace

    path = tmp_path / "b.mka"
    stream = _stereo(path, seconds=25, seed=7, tone=330, role="original")
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
    import threading

    import pytest

    path = tmp_path / "c.mka"
    stream = _mono_compatible(path, seconds=12, seed=9, role="original")
    seen = []

    def note(track):
        seen.append((threading.current_thread() is not threading.main_thread(), track.bed_features))

    first, second = decode_pair("ffmpeg", [(str(path), stream, "side"), (str(path), stream, "side")], after=[note, None])
    assert len(seen) == 1 and seen[0][0] and seen[0][1] is first.bed_features

    def fail(track):
        raise ValueError("masks failed")

    with pytest.raises(ValueError, match="masks failed"):
        decode_pair("ffmpeg", [(str(path), stream, "side")], after=[fail])


def test_derived_arrays_are_computed_once_and_cannot_be_changed_by_a_reader():
    from syncdub_companion.align.features import derived, detail, onset_envelope

    rng = np.random.default_rng(8)
    feat = features_of((rng.standard_normal(40_000) * 2000).astype(np.int16))
    first = derived(feat, detail)
    assert derived(feat, detail) is first
    np.testing.assert_array_equal(first, detail(feat))
    np.testing.assert_array_equal(derived(feat, onset_envelope), onset_envelope(feat))
    import pytest
    with pytest.raises(ValueError):
        first[0, 0] = 1.0


def test_evenly_weighted_frames_have_unit_length_and_silence_and_near_silence_stay_zero():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(1000, 16)).astype(np.float32) * rng.uniform(2, 20, size=(1000, 1)).astype(np.float32)
    z[100:200] = 0.0           # silence (detail zeroes it)
    z[300:310] *= 1e-3         # a hiss far under the film's level
    even = evenly_weighted(z)
    lengths = np.linalg.norm(even, axis=1)
    assert np.all(lengths[100:200] == 0) and np.all(lengths[300:310] == 0)
    sound = np.ones(1000, bool)
    sound[100:200] = sound[300:310] = False
    assert np.allclose(lengths[sound], 1.0, atol=1e-5)
    cos = (z[sound] * even[sound]).sum(axis=1) / np.linalg.norm(z[sound], axis=1)
    assert np.allclose(cos, 1.0, atol=1e-5), "directions are kept"


def _full_mixes(n=6000, seed=5):
    """Detail features of two full mixes: one bed, and each language's lines over it, ten
    times the bed's level, 2-4 s long with 0.5-1.5 s pauses. A dub speaks where the
    original does (it is timed to the lips), other words."""
    rng = np.random.default_rng(seed)
    bed = rng.normal(size=(n, 16)).astype(np.float32)
    spoken = np.zeros(n, bool)
    at = int(rng.integers(0, 100))
    while at < n:
        length = int(rng.integers(200, 400))
        spoken[at:at + length] = True
        at += length + int(rng.integers(50, 150))

    def words():
        return np.where(spoken[:, None], 10 * rng.normal(size=(n, 16)), 0.0).astype(np.float32)
    return bed + words(), bed + words()


def test_a_bed_shared_between_loud_different_lines_matches_when_every_frame_counts_the_same():
    """Weighted by energy the lines drown the pauses' bed; frame by frame the pauses carry
    the match at the true lag, and a wrong lag stays at chance either way."""
    z_dub, z_orig = _full_mixes()
    by_energy = Similarity(z_dub, z_orig)
    even = Similarity(evenly_weighted(z_dub), evenly_weighted(z_orig))
    inner = slice(200, -200)
    true_energy = float(np.median(by_energy.track(0, tolerance=0).sim[inner]))
    true_even = float(np.median(even.track(0, tolerance=0).sim[inner]))
    wrong_even = float(np.median(np.abs(even.track(1500, tolerance=0).sim[inner])))
    assert true_energy < 0.1
    assert true_even > 0.15 and true_even > 3 * true_energy
    assert wrong_even < 0.05
