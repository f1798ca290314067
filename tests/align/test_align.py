"""The aligner on real speech pairs with known truth (built from the drascula game data)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.corpus import build_pair
from benchmarks.evaluate import evaluate
from syncdub_companion.align import TimeMap, align
from syncdub_companion.align.timemap import Segment

# A spread of the corpus that touches every case the issue lists, in both directions.
CASES = [
    ("offset_pos", "es-en"),
    ("offset_neg", "en-es"),
    ("pal_speedup_pitch", "en-es"),
    ("pal_speedup_tempo", "es-en"),
    ("pal_slowdown", "es-en"),
    ("ntsc_1001", "en-es"),
    ("missing_scenes", "es-en"),
    ("extra_scenes", "en-es"),
    ("combo", "es-en"),
    ("surround_vs_stereo", "en-es"),
    ("quiet_bed", "es-en"),
    ("wrong_film", "en-es"),
]


def _pair(case, direction, pairs_dir, duration=60.0):
    return build_pair(case, direction, duration, pairs_dir, reuse=True)


@pytest.mark.parametrize("case,direction", CASES)
def test_align_meets_accuracy_targets(case, direction, pairs_dir):
    pair = _pair(case, direction, pairs_dir)
    result = align(str(pair.original), str(pair.dubbed), {"speech": "never"})
    metrics = evaluate(result.to_dict(), pair)
    assert metrics["passed"], (metrics["failures"], result.reason, result.segments)
    if result.aligned:
        _assert_well_formed(result)


def _assert_well_formed(result: TimeMap):
    segs = result.segments
    assert segs, "an aligned map has segments"
    for seg in segs:
        assert seg.dub_end > seg.dub_start and seg.orig_end > seg.orig_start
        assert abs(seg.speed - result.speed) < 1e-6
    for a, b in zip(segs, segs[1:]):
        assert b.dub_start >= a.dub_end - 1e-9, "ordered, no overlap on the dub timeline"
        assert b.orig_start >= a.orig_end - 1e-9, "no overlap on the original timeline"


# Mono and dual-mono files have no dialogue-free bed: the aligner works on the full mix.
MONO_CASES = [
    ("mono_offset", "es-en"),
    ("mono_pal_cuts", "es-en"),
    ("mono_vs_surround", "en-es"),
    ("mono_wrong_film", "es-en"),
    ("mono_wrong_film", "en-es"),
]


@pytest.mark.parametrize("case,direction", MONO_CASES)
def test_full_mix_meets_accuracy_targets(case, direction, pairs_dir):
    pair = _pair(case, direction, pairs_dir)
    result = align(str(pair.original), str(pair.dubbed), {"speech": "never"})
    assert result.details["signal"] == "full"
    metrics = evaluate(result.to_dict(), pair)
    assert metrics["passed"], (metrics["failures"], result.reason, result.segments)


# 60 s full-mix pairs with cuts, inserts or silent-bed stretches: what is mapped must be
# exact and no dub-only sound mapped, but a short stretch with dialogue and no bed (the
# end of a scene, a quiet stretch) is left out, so coverage stays under the 98 % target
# (docs/aligner.md). The 7-10 minute pairs meet every target (docs/benchmarks.md).
@pytest.mark.parametrize("case,direction,coverage", [
    ("mono_pal_cuts", "en-es", 0.95),
    ("dualmono_stereo", "en-es", 0.9),
    ("mono_quiet_bed", "en-es", 0.75),
])
def test_full_mix_with_edits_maps_exactly_what_it_maps(case, direction, coverage, pairs_dir):
    pair = _pair(case, direction, pairs_dir)
    result = align(str(pair.original), str(pair.dubbed), {"speech": "never"})
    assert result.details["signal"] == "full"
    metrics = evaluate(result.to_dict(), pair)
    assert metrics["verdict"] == "aligned", result.reason
    assert metrics["median_ms"] <= 5.0 and metrics["p95_ms"] <= 40.0, metrics
    assert metrics["dub_only_mapped_s"] <= 0.05, metrics
    assert metrics["coverage"] >= coverage, (metrics, result.segments)
    _assert_well_formed(result)


def test_a_stretch_claiming_time_a_longer_one_maps_is_chosen_again():
    """A reused cue: lag B matches 10 s as well as the true lag A, at a place A maps later."""
    from syncdub_companion.align.segment import Track, monotone_path, runs

    n = 10000
    true = Track(lag=0, sim=np.full(n, 0.5, np.float32), evidence=np.ones(n, bool), inside=np.ones(n, bool))
    sim = np.full(n, -0.1, np.float32)
    sim[2000:3000] = 0.9
    loop = Track(lag=5000, sim=sim, evidence=np.ones(n, bool), inside=np.arange(n) + 5000 < n)
    path = monotone_path([true, loop], threshold=0.25)
    assert [r[0] for r in runs(path)] == [0], runs(path)


def _looped_cue_film(seconds: int, seed: int = 1) -> np.ndarray:
    """Band energies at 100 Hz of a bed: music and effects that change every 0.1-0.5 s, the
    music looping one 8 s bar from 40 s to 100 s (effects sound 60 % of the time)."""
    from syncdub_companion.align.features import N_BANDS

    rng = np.random.default_rng(seed)

    def texture(frames):
        out = np.empty((frames, N_BANDS), np.float32)
        t = 0
        while t < frames:
            step = int(rng.integers(10, 50))
            out[t:t + step] = rng.normal(0, 1.0, N_BANDS)
            t += step
        return out

    n = seconds * 100
    music, effects = texture(n), texture(n)
    music[4000:10000] = np.tile(texture(800), (8, 1))[:6000]
    sounding = np.repeat(rng.random(n // 50) < 0.6, 50)[:, None]
    return (10 ** (music + 6) + np.where(sounding, 10 ** (effects + 6.3), 0)).astype(np.float32)


def _energy_track(energy: np.ndarray):
    """A decoded track whose band energies are ``energy`` (its PCM silent)."""
    from syncdub_companion.align.decode import DecodedTrack
    from syncdub_companion.align.features import HOP, WIN

    pcm = np.zeros((len(energy) - 1) * HOP + WIN, np.int16)
    return DecodedTrack(bed=pcm, full=pcm, stream=None, bed_kind="full", bed_energy=energy, full_energy=energy)


def _align_kept(master: np.ndarray, orig_keep, dub_keep) -> TimeMap:
    """Audio only, an original and a dub each keeping those stretches (s) of ``master``."""
    from syncdub_companion.align.engine import AlignOptions, align_tracks

    def kept(keep):
        return _energy_track(np.concatenate([master[int(a * 100):int(b * 100)] for a, b in keep]))

    return align_tracks(kept(orig_keep), kept(dub_keep), AlignOptions(speech="never"))


def test_dub_only_scenes_under_a_looped_cue_are_not_mapped_where_the_loop_repeats():
    """Two dub-only scenes (master 48-56 s and 61-67 s) around a 5 s scene, then 20 s the
    dub cut, all under one looping music bar. The 20 s chunks found only the loop's lag for
    that run: it matched it all at half the strength the film's true stretches do (music
    alone), left no gap to search again, and outlasted the short scenes on the chain. The
    map put 4.5 s of dub-only sound at the cut's start and 15 s at +10 s (seed 5032 of the
    randomized corpus: 17 s of dub-only content mapped, confidence 0.97)."""
    master = _looped_cue_film(120)
    result = _align_kept(master, [(0, 48), (56, 61), (67, 120)], [(0, 72), (92, 120)])
    assert result.aligned, result.reason
    truth = [(0.0, 48.0, 0.0), (56.0, 61.0, -8.0), (67.0, 72.0, -14.0), (72.0, 100.0, 6.0)]   # dub span, lag
    for seg in result.segments:
        inside = [lag for a, b, lag in truth if a - 0.1 <= seg.dub_start and seg.dub_end <= b + 0.1]
        assert inside and abs(seg.orig_start - seg.dub_start - inside[0]) < 0.05, result.segments
    mapped = sum(min(seg.dub_end, b) - max(seg.dub_start, a) for seg in result.segments for a, b, _ in truth
                 if min(seg.dub_end, b) > max(seg.dub_start, a))
    assert mapped >= 0.97 * sum(b - a for a, b, _ in truth), result.segments


def test_a_silent_lead_in_is_not_mapped_onto_the_originals_silent_lead_in():
    """The dub opens with 3 s of digital silence, the original with 5 s (different prerolls),
    then the same film. The similarity is read over +-1 s, so it is as high a second before
    the sound as inside it, and the first stretch began a second early: a second of the
    dub's lead-in mapped (seeds 5057 and 5062 of the randomized corpus: 0.3 s and 2 s)."""
    from syncdub_companion.align.engine import AlignOptions, align_tracks
    from syncdub_companion.align.features import N_BANDS

    film = _looped_cue_film(120)[:6000]

    def track(lead_in_s):
        return _energy_track(np.concatenate([np.zeros((lead_in_s * 100, N_BANDS), np.float32), film]))

    result = align_tracks(track(5), track(3), AlignOptions(speech="never"))
    assert result.aligned, result.reason
    first = result.segments[0]
    assert 2.97 <= first.dub_start <= 3.1, result.segments
    assert abs(first.orig_start - first.dub_start - 2.0) < 0.02, result.segments


def _lags(result: TimeMap) -> list[tuple[float, float, float]]:
    return [(round(s.dub_start, 2), round(s.dub_end, 2), round(s.orig_start - s.dub_start, 2)) for s in result.segments]


def test_anchors_a_few_frames_apart_get_a_track_each():
    """Two pieces 56 ms apart (seed 2 of the tuning set): one track at their median lag
    sat 6 frames off the shorter piece, whose similarity then fell under the threshold for
    6 s of its 14; a track matches within a frame of its lag."""
    from syncdub_companion.align.engine import _State
    from syncdub_companion.align.search import Match

    found = [(1000, 354.81), (2000, 354.82), (7000, 2537.96), (8000, 4056.01), (9000, 4056.0),
             (10000, 4056.0), (11000, 4055.99), (13000, 2543.56), (14000, 2543.6)]
    lags = _State._candidate_lags([Match(start=s, length=2000, lag=lag, ncc=0.5, z=0.0) for s, lag in found])
    assert sorted(round(lag) for lag in lags) == [355, 2538, 2544, 4056], lags


def test_a_tapes_drifting_anchors_keep_one_track():
    """Lags drifting a frame per chunk along one piece (a tape's wobble) are one piece: a
    track each for them placed neighbouring stretches apart at their joins."""
    from syncdub_companion.align.engine import _State
    from syncdub_companion.align.search import Match

    steps = [0, 3, 6, 3, 0, -3, -6, -3, 0, 3, 6, 3]          # 3 frames from chunk to chunk
    drift = [(1000 * i, 500.0 + d) for i, d in enumerate(steps)]
    lags = _State._candidate_lags([Match(start=s, length=2000, lag=lag, ncc=0.5, z=0.0) for s, lag in drift])
    assert len(lags) == 1 and abs(lags[0] - 500.0) < 3.5, lags


def _edge_tracks(path, lags, n_orig=12000):
    """What the aligner adds for ``path``'s unmapped file edges: dub 10000 frames long."""
    from types import SimpleNamespace

    from syncdub_companion.align.engine import _State
    from syncdub_companion.align.segment import Similarity

    z_orig, z_dub = _looped_cue_film(120, seed=3)[:n_orig], _looped_cue_film(100, seed=4)
    state = SimpleNamespace(z_orig=z_orig, z_dub=z_dub)
    return _State._edge_tracks(state, np.asarray(path), lags, Similarity(z_dub, z_orig))


def test_an_unmapped_opening_before_a_cut_gets_the_offset_that_starts_both_files_together():
    """The dub opens with a localised song and keeps a few seconds of film before a cut:
    too little shared bed for the chunk search (seed 5047 of the randomized corpus: its
    first 43 s unmapped). The lag that starts both files together is tried there, and only
    there."""
    path = np.full(10000, 0)
    path[:4000] = -1                                    # the stretch after the gap: lag 364
    tracks = _edge_tracks(path, [364.0])
    assert [t.lag for t in tracks] == [0]
    assert tracks[0].inside[:4000].all() and not tracks[0].inside[4000:].any()


def test_an_unmapped_ending_after_a_cut_gets_the_offset_that_ends_both_files_together():
    path = np.full(10000, 0)
    path[9000:] = -1
    tracks = _edge_tracks(path, [0.0])                  # 12000 - 10000 frames: a 20 s cut
    assert [t.lag for t in tracks] == [2000]
    assert tracks[0].inside[9000:].all() and not tracks[0].inside[:9000].any()


def test_no_offset_is_tried_that_would_put_the_dubs_lead_in_on_the_originals():
    """A dub-only logo before the film: the first stretch's lag is under 0, and the files
    starting together would map the logo onto the original's own (seed 5044: 3.6 s)."""
    path = np.full(10000, 0)
    path[:900] = -1
    path[-50:] = -1                                     # too short an end to search
    assert _edge_tracks(path, [-464.0]) == []
    assert _edge_tracks(path, [1.0]) == [], "a lag already tried is not tried again"


def test_a_piece_of_two_and_a_half_seconds_left_between_two_cuts_is_mapped():
    """The dub keeps 2.5 s of a scene it otherwise cut (a director's cut against a
    theatrical cut trims scenes to a few shots). Too short for the 6 s chunks, it stayed
    unmapped and the stretch before ran 0.3 s into it at its own lag (seed 2 of the tuning
    set: 3.3 s between two cuts)."""
    master = _looped_cue_film(240, seed=3)[12000:]     # past the looped bar

    result = _align_kept(master, [(0, 120)], [(0, 50), (60, 62.5), (75, 120)])
    assert result.aligned, result.reason
    lags = _lags(result)
    assert [lag for _, _, lag in lags] == [0.0, 10.0, 22.5], lags
    assert abs(lags[1][0] - 50.0) < 0.05 and abs(lags[1][1] - 52.5) < 0.05, lags


@pytest.mark.parametrize("seed", [1, 3])
def test_a_scene_between_cuts_is_not_mapped_onto_a_look_alike_bar_near_the_next_offset(seed):
    """A 6 s scene kept between two cuts, under a music bar that loops every 8 s: one bar
    on, 0.3 s short of the next stretch's offset, the same music plays. Searched near that
    offset the scene matched there (NCC 0.5) and was mapped 8 s off (seed 3017 of the
    randomized corpus: 7.5 s mapped 7.9 s off). The best place in the room the neighbours
    leave is now one more candidate, and the segmentation chooses."""
    master = _looped_cue_film(120, seed=seed)

    result = _align_kept(master, [(0, 120)], [(0, 50), (60, 66), (74.3, 120)])
    assert result.aligned, result.reason
    lags = _lags(result)
    assert [lag for _, _, lag in lags] == [0.0, 10.0, 18.3], lags


def test_a_short_scene_of_the_dubs_own_where_the_original_cut_more_stays_unmapped():
    """2.5 s the original never had, where it has 25 s the dub cut: there is room for a
    piece between the cuts, and nothing in it matches."""
    from syncdub_companion.align.engine import AlignOptions, align_tracks

    master = _looped_cue_film(240, seed=3)[12000:]
    other = _looped_cue_film(120, seed=9)
    dub = np.concatenate([master[:5000], other[:250], master[7500:]])
    result = align_tracks(_energy_track(master), _energy_track(dub), AlignOptions(speech="never"))
    assert result.aligned, result.reason
    lags = _lags(result)
    assert [lag for _, _, lag in lags] == [0.0, 22.5], "no third offset: " + str(lags)
    # The edges rest on the features alone here (the test's PCM is silent, so the
    # waveform cannot refine them): within the 0.4 s a feature window smears, and 0.05 s
    # more since a full mix is segmented on evenly weighted frames (50.37 -> 50.43 s:
    # their threshold is lower, so the split gives the unmatched side less).
    assert lags[0][1] <= 50.45 and lags[1][0] >= 52.1, lags


def test_a_directors_cut_dub_at_pal_speed_is_mapped_around_its_short_scenes(pairs_dir):
    """A dub with 7 short scenes of its own, at PAL speed (120 s of the corpus case). Two
    stretches ran into the scene between them from both sides and so claimed 4 s of the same
    original time; the shorter was dropped, and the other carried on over it 4.3 s off
    (p95 4.3 s and 4.4 s of the dub's own scenes mapped, before)."""
    pair = _pair("directors_cut", "es-en", pairs_dir, duration=120.0)
    assert len(pair.dub_only) >= 5
    result = align(str(pair.original), str(pair.dubbed), {"speech": "never"})
    metrics = evaluate(result.to_dict(), pair)
    assert metrics["passed"], (metrics["failures"], result.reason, result.segments)
    _assert_well_formed(result)


def test_a_speech_model_that_fails_to_load_leaves_a_confident_map_and_says_why(pairs_dir, tmp_path):
    pair = _pair("offset_pos", "es-en", pairs_dir)
    result = align(str(pair.original), str(pair.dubbed),
                   {"speech": "always", "speech_settings": {"whisper_model": str(tmp_path / "no-such-model")}})
    assert result.aligned, result.reason
    assert "no-such-model" in result.details["speech_error"]


@pytest.mark.parametrize("speech", ["never", "fails"])
def test_a_different_episode_with_the_same_songs_is_never_merged_without_speech(speech, pairs_dir, tmp_path):
    """Opening and ending songs shared bit for bit, the same length: rejected or held,
    with speech off and with a speech model that fails to load."""
    pair = _pair("wrong_episode", "es-en", pairs_dir, duration=120.0)
    options = {"speech": "never"} if speech == "never" else \
        {"speech": "always", "speech_settings": {"whisper_model": str(tmp_path / "no-such-model")}}
    result = align(str(pair.original), str(pair.dubbed), options)
    assert result.verdict in ("rejected", "review") and not result.aligned, result.reason


def test_a_swapped_song_and_opening_are_mapped_through(pairs_dir):
    pair = _pair("songs_swapped", "es-en", pairs_dir, duration=150.0)
    result = align(str(pair.original), str(pair.dubbed), {"speech": "never"})
    metrics = evaluate(result.to_dict(), pair)
    assert metrics["passed"], (metrics["failures"], result.reason, result.segments)
    assert result.details["bridged_s"] > 0  # some of it only continuity.bridge maps


def test_a_stretch_dropped_off_the_chain_is_searched_again_up_to_the_originals_end(pairs_dir):
    """Seed 5164 of the randomized corpus (five cuts, two songs swapped): the song swapped
    into the original's middle is the music of the film's last 28 s. The 20 s chunks placed
    the dub's last scene there, and the first path mapped it, since nothing between was
    mapped yet; the searches of the gap between then made that lag run backwards, so the
    chosen-again path dropped it, and nothing searched the scene's own place after the
    last cut: 22 % of the dub unmapped."""
    pair = build_pair("random", "es-en", 203.0, pairs_dir, seed=5164, reuse=True)
    result = align(str(pair.original), str(pair.dubbed), {"speech": "never"})
    metrics = evaluate(result.to_dict(), pair)
    assert metrics["passed"], (metrics["failures"], result.reason, result.segments)
    last = result.segments[-1]
    assert last.dub_end > 136.0 and abs(last.orig_start - last.dub_start - 73.67) < 0.05, result.segments
    assert result.details["reopened"], result.details


def test_alignment_reports_its_sub_steps_and_stops_where_the_callback_raises(pairs_dir, monkeypatch):
    """A cancelled job's progress callback raises: the aligner stops inside its work and the
    decoders are killed (syncdub_companion.merge passes the job's callback in as options.progress)."""
    import syncdub_companion.align.decode as decode

    monkeypatch.setattr(decode, "PROGRESS_EVERY", 0.01)
    pair = _pair("offset_pos", "es-en", pairs_dir)
    heard = []
    result = align(str(pair.original), str(pair.dubbed),
                   {"speech": "never", "progress": lambda f, doing: heard.append((f, doing))})
    assert result.aligned
    doing = [d for _, d in heard]
    assert any(d.startswith("decoding ") for d in doing) and doing.index("placing the dub's chunks") < doing.index("fitting the map")
    assert [f for f, _ in heard] == sorted(f for f, _ in heard), "progress never goes back"

    class Cancelled(Exception):
        pass

    def cancel(fraction, doing):
        if doing.startswith("decoding") and fraction > 0:
            raise Cancelled()

    with pytest.raises(Cancelled):
        align(str(pair.original), str(pair.dubbed), {"speech": "never", "progress": cancel})
    left = subprocess.run(["pgrep", "-f", f"ffmpeg.*{pair.original.name}"], capture_output=True, text=True)
    assert left.stdout.strip() == "", "the decoders were stopped"


def test_speed_found_for_pal_is_the_film_ratio(pairs_dir):
    pair = _pair("pal_speedup_pitch", "es-en", pairs_dir)
    result = align(str(pair.original), str(pair.dubbed), {"speech": "never"})
    assert result.speed == pytest.approx(23.976 / 25, rel=2e-5)


def test_noise_against_noise_is_rejected(tmp_path):
    """A map must never be produced from noise."""
    for name, seed in (("a.flac", 1), ("b.flac", 2)):
        _lavfi(tmp_path / name, f"anoisesrc=d=40:c=pink:seed={seed}:a=0.3")
    result = align(str(tmp_path / "a.flac"), str(tmp_path / "b.flac"), {"speech": "never"})
    assert result.verdict == "rejected"
    assert result.segments == []
    assert result.reason


def test_decoded_timeline_includes_codec_priming(tmp_path, pairs_dir):
    """The same audio as FLAC and as AAC in MKV: the map shows AAC's 1024 priming samples."""
    pair = _pair("offset_pos", "es-en", pairs_dir)
    src = tmp_path / "src.flac"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(pair.original), "-t", "40", "-map", "0:a:0",
                    "-ac", "2", "-ar", "48000", str(src)], check=True)
    aac = tmp_path / "aac.mkv"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(src), "-c:a", "aac", "-b:a", "192k", str(aac)], check=True)
    result = align(str(src), str(aac), {"speech": "never"})
    assert result.aligned, result.reason
    seg = result.segments[0]
    priming = seg.dub_start - seg.orig_start if seg.orig_start < 0.01 else seg.to_dub(0.0)
    assert priming == pytest.approx(1024 / 48000, abs=0.001)


# --- the command line ------------------------------------------------------------------


def _syncdub(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "syncdub_companion.cli", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def test_cli_json_document(pairs_dir, tmp_path):
    pair = _pair("missing_scenes", "es-en", pairs_dir)
    proc = _syncdub("align", str(pair.original), str(pair.dubbed), "--json", "--speech", "never", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc) == {"verdict", "confidence", "reason", "speed", "segments"}
    assert doc["verdict"] == "aligned" and 0.0 <= doc["confidence"] <= 1.0
    assert all(set(s) == {"dub_start", "dub_end", "orig_start", "orig_end"} for s in doc["segments"])
    assert evaluate(doc, pair)["passed"]
    assert list(tmp_path.iterdir()) == [], "align writes nothing"


def test_cli_readable_summary(pairs_dir, tmp_path):
    pair = _pair("offset_pos", "es-en", pairs_dir)
    proc = _syncdub("align", str(pair.original), str(pair.dubbed), "--speech", "never", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "verdict:    aligned" in proc.stdout and "segment  1:" in proc.stdout


def _lavfi(path: Path, source: str, extra: tuple[str, ...] = ()):
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", source, *extra, str(path)], check=True)


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory, pairs_dir):
    """Made once: every test using them only reads them."""
    tmp_path = tmp_path_factory.mktemp("bad_inputs")
    good = _pair("offset_pos", "es-en", pairs_dir).original
    junk = tmp_path / "junk.mkv"
    junk.write_bytes(np.random.default_rng(0).bytes(20000))
    video_only = tmp_path / "video.mkv"
    _lavfi(video_only, "testsrc=d=12:s=64x48:r=5", ("-c:v", "mpeg4"))
    short = tmp_path / "short.flac"
    _lavfi(short, "sine=f=440:d=5")
    return {"good": str(good), "junk": str(junk), "video": str(video_only), "short": str(short),
            "missing": str(tmp_path / "nope.mkv")}


@pytest.mark.parametrize("case,args,message", [
    ("unreadable", ("good", "junk"), "not a readable media file"),
    ("no audio", ("good", "video"), "no audio track"),
    ("missing", ("missing", "good"), "no such file"),
    ("too short", ("good", "short"), "at least 10 s"),
])
def test_cli_bad_input_is_one_line_and_exit_2(bad_inputs, tmp_path, case, args, message):
    work = tmp_path / "cwd"
    work.mkdir()
    proc = _syncdub("align", bad_inputs[args[0]], bad_inputs[args[1]], "--json", cwd=work)
    assert proc.returncode == 2, (case, proc.stdout, proc.stderr)
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert list(work.iterdir()) == []


def test_cli_track_out_of_range(bad_inputs, tmp_path):
    proc = _syncdub("align", bad_inputs["good"], bad_inputs["good"], "--dub-track", "5", cwd=tmp_path)
    assert proc.returncode == 2
    assert "audio track 5 out of range" in proc.stderr and "Traceback" not in proc.stderr


# --- the hook ----------------------------------------------------------------------------


class _FixedAligner:
    def __init__(self, result):
        self.result = result
        self.calls = []

    from syncdub_companion import hookimpl

    @hookimpl
    def syncdub_align(self, original, dubbed, options):
        self.calls.append((original, dubbed, options))
        return self.result


def test_third_party_aligner_replaces_the_builtin(services, bad_inputs):
    from syncdub_companion.alignment import align_files

    fixed = TimeMap("aligned", 0.9, "from a plugin", 1.0, [Segment(0, 10, 1, 11)])
    plugin = _FixedAligner(fixed)
    services.pm.register(plugin, name="fixed-aligner")
    try:
        result = align_files(services, bad_inputs["good"], bad_inputs["good"], dub_track=0)
    finally:
        services.pm.unregister(name="fixed-aligner")
    assert result is fixed
    (_, _, options), = plugin.calls
    assert options["dub_track"] == 0 and options["min_coverage"] == services.config.get("align.min_coverage")


def test_degraded_dub_mix_still_meets_targets(pairs_dir, tmp_path):
    """EQ, compression, a 3 kHz low-pass and 64 kb/s AAC on the dub: a cheap web release.

    AAC in MP4 carries an edit list that hides its priming, so the degraded dub keeps the
    clean dub's decoded timeline and the corpus truth still applies. Short scenes between
    cuts must keep offsets of their own here, even when close to a neighbour's.
    """
    pair = _pair("combo", "en-es", pairs_dir)
    degraded = tmp_path / "degraded.m4a"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(pair.dubbed), "-map", "0:a:0", "-af",
                    "equalizer=f=200:t=q:w=1:g=6,acompressor=threshold=-20dB:ratio=4,lowpass=f=3000,volume=-8dB",
                    "-c:a", "aac", "-b:a", "64k", str(degraded)], check=True)
    result = align(str(pair.original), str(degraded), {"speech": "never"})
    metrics = evaluate(result.to_dict(), pair)
    assert metrics["passed"], (metrics["failures"], result.segments)
