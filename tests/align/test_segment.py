"""The segmentation: the Viterbi pass's block-wise recurrence gives the step-by-step one's
path (on exact ties, a path of the same score); stretches that claim the same original
time are chosen again or split."""
import numpy as np
import pytest

from syncdub_companion.align.segment import (OUTSIDE, SWITCH_PENALTY, Similarity, Track, best_path, monotone_path,
                                             runs, split_gaps, split_overlaps)


def path_score(emis: np.ndarray, path: np.ndarray, penalty: float) -> float:
    """What a path scores: its states' emissions, less the penalty for every switch."""
    return float(emis[np.arange(len(path)), path].sum() - penalty * np.count_nonzero(np.diff(path)))


def step_by_step(emis: np.ndarray, penalty: float) -> np.ndarray:
    """The recurrence as first written (one numpy step per coarse frame): the reference."""
    score = emis[0].copy()
    back = np.zeros(emis.shape, dtype=np.int64)
    states = np.arange(emis.shape[1])
    for t in range(1, len(emis)):
        best = int(np.argmax(score))
        switch = score[best] - penalty
        stay = score >= switch
        back[t] = np.where(stay, states, best)
        score = np.where(stay, score, switch) + emis[t]
    path = np.empty(len(emis), dtype=np.int64)
    path[-1] = int(np.argmax(score))
    for t in range(len(emis) - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


def emissions(seed: int, frames: int, states: int, rounded: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    emis = rng.normal(-0.1, 0.3, (frames, states))
    if rounded:   # many exact ties, as silence (every state scoring zero) gives
        emis = np.round(emis, 1)
        emis[rng.random(frames) < 0.3] = 0.0
    for j in range(states - 1):   # each state matches for a while, one after another
        lo = rng.integers(0, frames - 500)
        emis[lo:lo + rng.integers(100, 3000), j] += 0.6
    emis[rng.integers(0, frames, frames // 50), 0] = OUTSIDE
    emis[:, -1] = 0.0
    return emis


@pytest.mark.parametrize("states", [2, 3, 8, 14])
def test_best_path_is_the_step_by_step_one(states):
    for seed in range(3):
        emis = emissions(seed, 6000, states, rounded=False)
        got = best_path(emis, SWITCH_PENALTY)
        assert np.array_equal(got, step_by_step(emis, SWITCH_PENALTY)), seed
        assert len(runs(got)) > 1   # not a trivial case: the path switches


@pytest.mark.parametrize("states", [2, 3, 8, 14])
def test_on_exact_ties_the_best_path_scores_as_the_step_by_step_one(states):
    """Silence scores every state alike: the blocks' sums, associated otherwise, may break
    such a tie the other way, never for a worse path."""
    for seed in range(3):
        emis = emissions(seed, 6000, states, rounded=True)
        got, reference = best_path(emis, SWITCH_PENALTY), step_by_step(emis, SWITCH_PENALTY)
        assert path_score(emis, got, SWITCH_PENALTY) == pytest.approx(
            path_score(emis, reference, SWITCH_PENALTY), abs=1e-9), seed
        assert np.mean(got == reference) > 0.99, seed
        assert len(runs(got)) > 1


def test_a_two_hour_pass_over_dozens_of_lags_is_the_step_by_step_one():
    """The size of a 2-hour film's segmentation (72,000 coarse frames, 40 lags)."""
    emis = emissions(11, 72000, 40, rounded=False)
    got = best_path(emis, SWITCH_PENALTY)
    assert np.array_equal(got, step_by_step(emis, SWITCH_PENALTY))


def test_best_path_of_pure_noise_is_the_step_by_step_one():
    """Noise changes the best state every few frames: the fallback, one frame at a time."""
    emis = np.random.default_rng(7).normal(0.0, 1.0, (4000, 5))
    emis[:, -1] = 0.0
    assert np.array_equal(best_path(emis, SWITCH_PENALTY), step_by_step(emis, SWITCH_PENALTY))


def _track(lag: int, n: int, orig_n: int, spans: list[tuple[int, int, float]]) -> Track:
    sim = np.full(n, -0.1, np.float32)
    for lo, hi, value in spans:
        sim[lo:hi] = value
    frames = np.arange(n) + lag
    return Track(lag=lag, sim=sim, evidence=np.ones(n, bool), inside=(frames >= 0) & (frames < orig_n))


def test_a_reused_cue_longer_than_each_short_scene_it_overlaps_but_not_all_of_them_is_dropped():
    """Short scenes between cuts (lags 0, 300, 600, 900, 1200), and a cue over the first
    scene's frames 2000-4500 that matches better at lag 5000, where the next three scenes
    play on the original. Judged pair by pair the 25 s cue outlasts each 20 s scene it
    overlaps, and they were dropped one after another."""
    n, orig_n = 12000, 20000
    scenes = [(0, 0, 4500), (300, 4500, 6500), (600, 6500, 8500), (900, 8500, 10500), (1200, 10500, 12000)]
    tracks = [_track(lag, n, orig_n, [(lo, hi, 0.5)]) for lag, lo, hi in scenes]
    tracks.append(_track(5000, n, orig_n, [(2000, 4500, 0.9)]))
    path = monotone_path(tracks, threshold=0.25)
    assert [(tracks[st].lag, s, e) for st, s, e in runs(path)] == [(lag, lo, hi) for lag, lo, hi in scenes]


def test_neighbours_across_an_inserted_scene_are_split_where_each_matches_better():
    """A dub with 5 s inserted at frame 4000 whose sound is a weak copy of what follows the
    cut: the stretch before runs into it (it resembles the original there), the stretch
    after starts at it; the original moments 4000-4500 are the later stretch's."""
    rng = np.random.default_rng(3)
    z_orig = rng.normal(size=(9000, 16)).astype(np.float32)
    insert = 0.6 * z_orig[4000:4500] + 0.8 * rng.normal(size=(500, 16)).astype(np.float32)
    z_dub = np.concatenate([z_orig[:4000], insert, z_orig[4000:]])
    n = len(z_dub)
    a, b = _track(0, n, len(z_orig), [(0, 4500, 0.6)]), _track(-500, n, len(z_orig), [(4000, n, 0.6)])
    path = np.full(n, 1)
    path[:4400] = 0
    out = split_overlaps(path, [a, b], z_dub, z_orig, threshold=0.25)
    assert runs(out) == [(0, 0, 4000), (-1, 4000, 4500), (1, 4500, n)]


def test_a_weak_cue_over_dub_only_scenes_loses_the_chain_to_the_short_scenes_it_hides():
    """Two 5 s scenes between dub-only ones (lags -800 and -1500), and a looped cue that
    matches the whole run weakly (music alone) at lag 3000, where the original plays a
    stretch the dub cut. By length the cue's two dub-only pieces (15 s) outlast the two
    scenes (10 s), and the chain kept them, mapping dub-only content 30 s off (seed 5032).
    Once the cue is suspect (the scenes beat it inside its stretch), its pieces count by
    how well they match against the film's typical match, and the scenes win."""
    n, orig_n = 3500, 6500
    tracks = [_track(0, n, orig_n, [(0, 1000, 0.9)]),
              _track(-800, n, orig_n, [(1800, 2300, 0.9)]),
              _track(-1500, n, orig_n, [(3000, 3500, 0.9)]),
              _track(3000, n, orig_n, [(1000, 3500, 0.4)])]
    assert [tracks[st].lag for st, _, _ in runs(monotone_path(tracks, threshold=0.25))] == [0, 3000]
    path = monotone_path(tracks, threshold=0.25, suspect=frozenset({3}))
    found = [(tracks[st].lag if st != -1 else None, s, e) for st, s, e in runs(path)]
    expected = [(0, 0, 1000), (None, 1000, 1800), (-800, 1800, 2300), (None, 2300, 3000), (-1500, 3000, 3500)]
    assert [f[0] for f in found] == [x[0] for x in expected], found
    assert all(abs(f[1] - x[1]) <= 20 and abs(f[2] - x[2]) <= 20 for f, x in zip(found, expected)), found


def test_on_a_bed_a_step_in_level_that_both_files_share_does_not_pull_a_segment_into_an_insert():
    from syncdub_companion.align.segment import Track, refine_boundaries

    rng = np.random.default_rng(11)
    n, cut = 600, 300
    z_orig = rng.standard_normal((n, 16)).astype(np.float32)
    z_dub = np.where(np.arange(n)[:, None] >= cut, z_orig + 0.2 * rng.standard_normal((n, 16)),
                     rng.standard_normal((n, 16))).astype(np.float32)
    # The insert's last 0.4 s is louder than the scene after it, and the original swells
    # there: every band of both files' detail rises together, though the sounds differ.
    z_dub[cut - 40:cut] += 2.0
    z_orig[cut - 40:cut] += 1.0
    track = Track(lag=0, sim=np.ones(n, np.float32), evidence=np.ones(n, bool), inside=np.ones(n, bool))
    path = np.where(np.arange(n) >= cut, 0, -1)
    by_level = refine_boundaries(path, [track], z_dub, z_orig, threshold=0.33)
    by_both = refine_boundaries(path, [track], z_dub, z_orig, threshold=0.33, shape=True)
    assert np.flatnonzero(by_level == 0)[0] < cut - 30     # the level alone maps the insert's end
    assert abs(np.flatnonzero(by_both == 0)[0] - cut) <= 10   # within chance wander of the noise


def test_tracks_taken_side_by_side_are_the_tracks_taken_one_by_one():
    rng = np.random.default_rng(5)
    z_orig = rng.standard_normal((3000, 16)).astype(np.float32)
    z_dub = np.roll(z_orig, -40, axis=0) + 0.3 * rng.standard_normal((3000, 16)).astype(np.float32)
    similarity = Similarity(z_dub, z_orig)
    lags = [40.2, -7, 39.6, 300, 0]
    together = similarity.tracks(lags)
    assert [t.lag for t in together] == [40, -7, 40, 300, 0]
    for lag, track in zip(lags, together):
        alone = similarity.track(int(round(lag)))
        assert np.array_equal(track.sim, alone.sim) and np.array_equal(track.evidence, alone.evidence)
        assert np.array_equal(track.inside, alone.inside)
    assert together[0].sim[200:2700].mean() > 0.8 > together[1].sim[200:2700].mean()


def _gap_path(n: int, s: int, e: int) -> np.ndarray:
    path = np.full(n, -1)
    path[:s], path[e:] = 0, 1
    return path


def test_a_gap_across_a_cut_is_given_to_its_neighbours_where_their_similarity_places_the_cut():
    """Dub frames 3000-3800 left unmapped between lags 0 and 900 (a 9 s cut at frame 3400):
    the frames before the cut match at lag 0 and those after at lag 900, both under the
    segmentation's threshold; together they say where the cut lies."""
    n, orig_n = 6000, 7000
    a = _track(0, n, orig_n, [(0, 3000, 0.6), (3000, 3400, 0.15), (3400, 3800, 0.0)])
    b = _track(900, n, orig_n, [(3000, 3400, 0.0), (3400, 3800, 0.15), (3800, n, 0.6)])
    out = split_gaps(_gap_path(n, 3000, 3800), [a, b], weak=0.1, margin=20.0)
    (first, _, left_end), (gap, _, _), (second, right_start, _) = runs(out)
    # moving the cut by k frames costs 0.15 k: within the margin for k <= 133
    assert (first, gap, second) == (0, -1, 1)
    assert 3400 - 140 <= left_end <= 3400 <= right_start <= 3400 + 140


def test_across_an_inserted_scene_only_about_the_scenes_length_stays_unmapped():
    """Lag 0 up to frame 2700, a 6 s scene inserted in the dub, lag -600 after it; the path
    left 2500-3600 unmapped. The 200 frames on each side go to their neighbour's lag."""
    n = 6000
    a = _track(0, n, n, [(0, 2700, 0.5), (2700, 3300, 0.0)])
    b = _track(-600, n, n, [(2700, 3300, 0.0), (3300, n, 0.5)])
    out = split_gaps(_gap_path(n, 2500, 3600), [a, b], weak=0.1, margin=20.0)
    (first, _, left_end), (gap, _, _), (second, right_start, _) = runs(out)
    # moving the scene by k frames costs 0.5 k: within the margin for k <= 40
    assert (first, gap, second) == (0, -1, 1)
    assert 2700 - 40 <= left_end <= 2700 and 3300 <= right_start <= 3300 + 40


def test_a_gap_nothing_tells_apart_stays_unmapped():
    """Silence, or a dub-only scene next to a cut: both lags score alike over the gap, every
    split is as good, and no frame of it is given to either side."""
    n, orig_n = 6000, 7000
    noise = np.random.default_rng(4).normal(0.0, 0.02, n).astype(np.float32)
    a = _track(0, n, orig_n, [(0, 3000, 0.6)])
    b = _track(900, n, orig_n, [(3800, n, 0.6)])
    a.sim[3000:3800] = noise[3000:3800]
    b.sim[3000:3800] = noise[3000:3800] + 0.01
    path = _gap_path(n, 3000, 3800)
    assert np.array_equal(split_gaps(path, [a, b], weak=0.1, margin=50.0), path)


def test_a_split_the_similarity_cannot_pin_down_leaves_the_gap_alone():
    """An inserted scene whose music carries on the cue before it (a weak match at the left
    lag), then a scene at a third offset that matches neither neighbour, then the right
    stretch: a two-sided split explains this badly, the best splits spread over seconds,
    and mapping the scene's first seconds by the cue would map dub-only sound."""
    n = 8000
    a = _track(0, n, n, [(0, 3000, 0.6), (3000, 3900, 0.1), (3900, 4500, -0.2)])
    b = _track(-400, n, n, [(3000, 3900, 0.0), (3900, 4500, -0.2), (4500, n, 0.6)])
    path = _gap_path(n, 3000, 4500)
    assert np.array_equal(split_gaps(path, [a, b], weak=0.1, margin=50.0), path)


def test_a_looped_cue_that_matches_weakly_all_through_a_gap_is_not_given_it():
    """The left lag is a bar of a looped cue: it matches at 0.07 all through the gap (other
    scenes, an inserted one), the right lag nowhere before its own stretch. The best
    split is sharp (give the left side everything) but what it gives matches at chance."""
    n = 8000
    a = _track(0, n, n, [(0, 3000, 0.6), (3000, 6000, 0.07)])
    b = _track(700, n, n, [(3000, 6000, 0.0), (6000, n, 0.6)])
    path = _gap_path(n, 3000, 6000)
    assert np.array_equal(split_gaps(path, [a, b], weak=0.11, margin=50.0), path)
    a.sim[3000:6000] = 0.2    # a true stretch that matches weakly: its frames go to it
    out = split_gaps(path, [a, b], weak=0.11, margin=50.0)
    assert (out[3000:5750] == 0).all() and (out[5750:6000] != 1).all()
