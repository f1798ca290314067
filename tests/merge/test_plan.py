"""The pieces a merge is planned and rendered with: languages, codecs, output paths, PCM."""
from __future__ import annotations

import io

import numpy as np
import pytest
from scipy.signal import firwin, resample_poly

from merge_media import PAL, pal_dub
from syncdub_companion.align.timemap import Segment
from syncdub_companion.errors import ConfigError, UsageError
from syncdub_companion.media import Candidate, MediaItem
from syncdub_companion.merge import pcm
from syncdub_companion.merge.language import language, same_language
from syncdub_companion.merge.plan import finalize, prepare
from syncdub_companion.merge.render import placed_segments
from syncdub_companion.tools.ffmpeg import FFmpeg


@pytest.mark.parametrize("code", ["de", "ger", "deu", "German", "de-AT", "DE_de", "Deutsch"])
def test_language_codes_map_to_iso_639_2_b(code):
    assert (language(code).bibliographic, language(code).native) == ("ger", "Deutsch")


def test_unknown_languages():
    assert language("gsw").bibliographic == "gsw"  # rare but valid: passed through
    with pytest.raises(UsageError, match="unknown language 'xx'"):
        language("xx")
    assert same_language("fr", "fre") and same_language("fra", "French") and not same_language("fr", "de")


def output_path(services, path, mode):
    return services.hook.syncdub_output_path(item=MediaItem(path=path), dub=Candidate(path="/d.mkv", language="ger",
                                             score=1.0, finder="t"), mode=mode, services=services)


def test_default_output_paths(make_svc, library):
    svc = make_svc(output_folder="/srv/multi")
    film = str(library.film)
    assert output_path(svc, film, "replace") == film
    assert output_path(svc, film, "beside") == film.replace(".mkv", ".multi.mkv")
    assert output_path(svc, film.replace(".mkv", ".multi.mkv"), "beside") == film.replace(".mkv", ".multi.mkv")
    assert output_path(svc, film.replace(".mkv", ".mp4"), "replace") == film
    assert output_path(svc, film, "folder") == "/srv/multi/Movies/Film (2010)/Film (2010).mkv"
    with pytest.raises(ConfigError, match="library.output_folder"):
        output_path(make_svc(), film, "folder")


@pytest.mark.parametrize("dub_codec,channels,setting,expected", [
    ("ac3", 2, "auto", ("ac3", 192000, 48000, "stereo")),
    ("aac", 6, "auto", ("opus", 384000, 48000, "5.1")),
    ("ac3", 2, "eac3", ("eac3", 192000, 48000, "stereo")),
    ("ac3", 2, "flac", ("flac", None, 48000, "stereo")),
])
def test_codec_choice_follows_the_dub(make_svc, library, generated, dubs_dir, dub_codec, channels, setting, expected):
    dub, truth = pal_dub(dubs_dir, generated.original, codec=dub_codec, channels=channels, name=f"x.{dub_codec}.mkv")
    svc = make_svc(codec=setting)
    plan = finalize(prepare(svc, str(library.film), str(dub), language=None, mode=None, force=False), truth, svc.config)
    assert (plan.codec, plan.bitrate, plan.sample_rate, plan.channel_layout) == expected
    assert plan.space_needed > plan.base_size + plan.dub_bytes > plan.base_size


def test_a_dub_without_language_tag_needs_lang(make_svc, library, generated, dubs_dir):
    dub, _ = pal_dub(dubs_dir, generated.original, name="untagged.mkv", language=None)
    with pytest.raises(UsageError, match="--lang"):
        prepare(make_svc(), str(library.film), str(dub), language=None, mode=None, force=False)
    assert prepare(make_svc(languages=["it"]), str(library.film), str(dub), language=None, mode=None,
                   force=False).language.bibliographic == "ita"


class ArrayReader:
    """PcmReader's contract over an in-memory signal."""

    def __init__(self, x):
        self.x = x

    def read(self, start, n):
        out = np.zeros((n, self.x.shape[1]), np.float32)
        lo, hi = max(start, 0), min(start + n, len(self.x))
        if hi > lo:
            out[lo - start:hi - start] = self.x[lo:hi]
        return out


def test_streamed_resampling_equals_one_whole_resample():
    x = np.random.default_rng(3).standard_normal((48000 * 25, 2)).astype(np.float32)
    up, down = pcm.ratio(PAL)
    assert (up, down) == (3125, 2997)
    streamed = np.concatenate(list(pcm.render_span(ArrayReader(x), 48000, 0.0, 0.0, PAL, 0, 48000 * 24)))
    taps = firwin(2 * 10 * max(up, down) + 1, 1.0 / max(up, down), window=("kaiser", 5.0))
    whole = resample_poly(x, up, down, axis=0, window=taps)
    assert streamed.shape == (48000 * 24, 2)
    assert np.abs(streamed[:48000 * 23] - whole[:48000 * 23]).max() < 1e-4


def test_a_speed_a_hair_off_one_is_copied():
    """1.0000256 (a 3 s segment's fit) has 1/1 as its nearest small fraction: copied, not
    resampled with a filter whose cutoff would be invalid, while that drifts under half a sample."""
    x = np.random.default_rng(5).standard_normal((48000 * 4, 2)).astype(np.float32)
    assert pcm.ratio(1.0000256) == (1, 1)
    out = np.concatenate(list(pcm.render_span(ArrayReader(x), 48000, 1.0, 0.0, 1.0000256, 0, 48000 // 4)))
    assert np.array_equal(out, x[48000:48000 + 48000 // 4])


@pytest.mark.parametrize("speed", [1.0000256, 1.00015, 0.99982])
def test_a_speed_no_small_fraction_reaches_is_played_at_the_exact_positions(speed):
    """Near 1 the small fractions are 1/4000 apart: 1.00015 would play as 1.00025, 0.2 ms off
    after 2 s (a tape dub's knots, where the next segment's crossfade then cancels treble)."""
    sr = 48000
    t = np.arange(sr * 5) / sr
    x = np.stack([np.sin(2 * np.pi * 2500 * t), np.sin(2 * np.pi * 440 * t)], axis=1).astype(np.float32)
    out = np.concatenate(list(pcm.render_span(ArrayReader(x), sr, 1.0, 0.0, speed, 0, sr * 3)))
    exact = 1.0 + np.arange(sr * 3) * speed / sr
    assert np.abs(out[:, 0] - np.sin(2 * np.pi * 2500 * exact)).max() < 1e-3
    assert np.abs(out[:, 1] - np.sin(2 * np.pi * 440 * exact)).max() < 1e-3


def test_crossfades_keep_a_steady_signal_steady_and_gaps_silent():
    sr, total = 1000, 3000
    ones = ArrayReader(np.ones((10 * sr, 1), np.float32))
    segments = [Segment(0, 1, 0, 1), Segment(5, 6, 1, 2), Segment(8, 8.5, 2.5, 3)]
    sink = io.BytesIO()
    writer = pcm.OverlapWriter(sink, 1, hold=41)
    from syncdub_companion.merge.render import _FadeWindow

    for seg, start, length in placed_segments(segments, sr, 10, total):
        fade, pos = _FadeWindow(length, 20), start
        for block in pcm.render_span(ones, sr, seg.dub_start, seg.orig_start, seg.speed, start, length):
            writer.add(pos, fade.apply(block, pos - start))
            pos += len(block)
    writer.finish(total)
    out = np.frombuffer(sink.getvalue(), np.float32)
    assert len(out) == total
    assert np.allclose(out[20:1990], 1.0)  # across the join at 1 s: no dip, no bump
    assert np.all(out[2020:2480] == 0.0)  # the gap between 2 and 2.5 s is silent
    assert np.all(np.diff(out[1980:2020]) <= 0) and np.all(np.diff(out[2480:2520]) >= 0)  # faded edges


def test_overlapping_segments_are_cut_not_summed():
    placed = placed_segments([Segment(0, 2, 0, 2), Segment(1, 3, 1.5, 3.5)], 100, 1, 400)
    assert [(start, length) for _, start, length in placed] == [(0, 201), (199, 152)]


def test_pcm_reader_serves_overlapping_chunks_without_restarting(tmp_path):
    from merge_media import SR, bed, write_wav

    signal = bed(6.0, seed=4)
    wav = write_wav(tmp_path / "x.wav", signal, channels=1)
    reader = pcm.PcmReader(FFmpeg("ffmpeg"), str(wav), 0, SR, 1)
    try:
        pad, step, got = 3000, SR, []
        for start in range(0, 5 * SR, step):  # each read reaches back `pad` into the last one
            block = reader.read(start - pad, step + 2 * pad)
            got.append(block[pad: pad + step, 0])
        assert reader.restarts == 1
        expected = np.round(np.clip(signal[: 5 * SR], -1, 1) * 32000) / 32768
        assert np.abs(np.concatenate(got) - expected).max() < 1e-4
        assert np.all(reader.read(-100, 50) == 0) and np.all(reader.read(10 * SR, 10) == 0)  # no audio there
        assert reader.restarts == 1
        assert np.abs(reader.read(0, 100)[:, 0] - expected[:100]).max() < 1e-4  # far back: decode again
        assert reader.restarts == 2
    finally:
        reader.close()
