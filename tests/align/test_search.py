"""The speed probes: the film ratio the decimated ranking lets through is the one scoring
every ratio at full rate would pick, with the same score and probes."""
from __future__ import annotations

import numpy as np
import pytest

from syncdub_companion.align.features import FPS
from syncdub_companion.align.search import (KNOWN_SPEEDS, ChunkSearch, OriginalIndex, find_speed, local_search,
                                           resample_envelope, score_speed)


def _pair(speed: float, seconds: float = 600.0, seed: int = 1):
    """An onset envelope (sparse hits over noise) and the same film played ``speed`` times as fast."""
    rng = np.random.default_rng(seed)
    n = int(seconds * FPS)
    env_o = (rng.random(n) < 0.03) * rng.exponential(3.0, n) + 0.2 * rng.standard_normal(n)
    env_o = env_o.astype(np.float32)
    env_d = resample_envelope(env_o, 1 / speed, int(n * speed))
    env_d += 0.3 * rng.standard_normal(len(env_d)).astype(np.float32)
    return env_o, env_d, np.ones(len(env_d), dtype=bool)


def _every_ratio(env_o, env_d, loud_d):
    probe_s = min(40.0, 0.5 * len(env_d) / FPS)
    index = OriginalIndex(env_o, int(probe_s * FPS) + 2)
    best = (1.0, -np.inf, [])
    for speed in KNOWN_SPEEDS:
        score, matches = score_speed(index, env_d, loud_d, speed, probe_s)
        if score > best[1]:
            best = (speed, score, matches)
    return best


@pytest.mark.parametrize("speed", [1.0, 24 / 23.976, 24 / 25, 25 / 23.976])
def test_the_ranked_probes_give_what_scoring_every_ratio_gives(speed):
    pair = _pair(speed)
    found, reference = find_speed(*pair, accept_z=6.5), _every_ratio(*pair)
    assert found[0] == reference[0] == speed
    assert found[1] == reference[1] > 6.5
    assert [(m.start, m.lag, m.z) for m in found[2]] == [(m.start, m.lag, m.z) for m in reference[2]]


def test_when_no_ranked_ratio_is_accepted_every_ratio_is_scored():
    pair = _pair(25 / 24, seed=4)
    found, reference = find_speed(*pair, accept_z=np.inf), _every_ratio(*pair)
    # The fine scan that follows may only improve on the best film ratio.
    assert found[1] >= reference[1]


def test_a_chunk_searched_at_several_lags_finds_what_one_search_per_lag_finds():
    rng = np.random.default_rng(7)
    z_orig = rng.standard_normal((30000, 16)).astype(np.float32)
    z_dub = np.roll(z_orig, -1234, axis=0) + 0.5 * rng.standard_normal((30000, 16)).astype(np.float32)
    search = ChunkSearch(z_dub, 5000, 2000)
    for lag, radius in [(1234.0, 40), (1250.0, 40), (-300.0, 40), (1230.0, 20), (-5000.0, 40), (1234.0, 40)]:
        once = local_search(z_dub, z_orig, 5000, 2000, lag, radius)
        kept = search.near(z_orig, lag, radius)
        assert (once is None) == (kept is None)
        if once is not None:
            assert (kept.lag, kept.ncc) == (once.lag, once.ncc)
    assert abs(search.near(z_orig, 1250.0, 40).lag - 1234.0) < 0.5   # the true lag, found 16 frames off


def test_a_chunk_searched_within_a_room_says_how_far_it_leads_every_other_lag():
    rng = np.random.default_rng(11)
    z_orig = rng.standard_normal((30000, 16)).astype(np.float32)
    z_dub = np.roll(z_orig, -1234, axis=0) + 0.5 * rng.standard_normal((30000, 16)).astype(np.float32)
    match, others = ChunkSearch(z_dub, 5000, 200).within(z_orig, 600, 2400)
    assert abs(match.lag - 1234.0) < 0.5 and match.ncc > 0.8
    assert others < 0.5 and match.ncc - others > 0.5
    unrelated = rng.standard_normal((30000, 16)).astype(np.float32)
    match, others = ChunkSearch(unrelated, 5000, 200).within(z_orig, 600, 2400)
    assert match.ncc - others < 0.1, "chance has no clear winner"


def test_a_chunk_searched_over_silence_finds_no_match_there():
    """Silent frames are zeroed in the features; a placement over them has no NCC. The
    transforms' rounding divided by next to nothing read 196 for an unrelated chunk."""
    rng = np.random.default_rng(1)
    z_orig = rng.standard_normal((20000, 16)).astype(np.float32)
    z_orig[8000:12000] = 0.0
    unrelated = 5 * rng.standard_normal((20000, 16)).astype(np.float32)
    match = ChunkSearch(unrelated, 1000, 600).near(z_orig, 7500.0, radius=1600)
    assert match is None or match.ncc < 0.3, match
    found = ChunkSearch(unrelated, 1000, 600).within(z_orig, 5000, 9000)
    assert found is None or found[0].ncc < 0.3, found
