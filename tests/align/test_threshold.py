"""The segmentation threshold: between chance and the matches, and never at chance."""
from __future__ import annotations

import numpy as np

from syncdub_companion.align.engine import MIN_THRESHOLD_SD, segmentation_threshold


def _chance_and_matches(rng, zeros: float):
    null = rng.normal(0.02, 0.06, 3000)
    hits = rng.normal(0.8, 0.08, 40)
    null[rng.random(len(null)) < zeros] = 0.0   # sound on one side only scores exactly 0
    hits[rng.random(len(hits)) < zeros] = 0.0
    return null, hits


def test_one_sided_silence_does_not_pull_the_threshold_to_chance():
    rng = np.random.default_rng(5)
    clean, _ = segmentation_threshold(*_chance_and_matches(rng, 0.0))
    assert 0.25 < clean < 0.45
    # A tape's hiss under an original with long quiet stretches: most frames score 0. Read
    # over every frame, chance and the matches both had median 0, and the threshold was 0.
    quiet, stats = segmentation_threshold(*_chance_and_matches(rng, 0.6))
    assert stats["match_sim"] == 0.0
    assert quiet >= 0.02 + MIN_THRESHOLD_SD * 0.06 * 0.9


def test_weak_matches_lower_it_but_never_to_chance():
    rng = np.random.default_rng(6)
    null = rng.normal(0.0, 0.05, 3000)
    strong, _ = segmentation_threshold(null, rng.normal(0.8, 0.05, 40))
    weak, _ = segmentation_threshold(null, rng.normal(0.25, 0.05, 40))
    none, stats = segmentation_threshold(null, rng.normal(0.0, 0.05, 40))
    assert strong > weak > none
    assert none == stats["floor"] and none > 0.08   # two null SDs over chance


def test_a_clean_pair_keeps_the_threshold_it_had():
    """The floor only acts where the old rule fell under it."""
    rng = np.random.default_rng(7)
    null, hits = rng.normal(0.01, 0.05, 3000), rng.normal(0.45, 0.1, 40)
    null[:300] = 0.0
    threshold, stats = segmentation_threshold(null, hits)
    mu0, sd0, m1 = stats["null_sim"], stats["null_sd"], stats["match_sim"]
    assert threshold == min(mu0 + max(4 * sd0, 0.35 * (m1 - mu0)), mu0 + 0.55 * (m1 - mu0)) > stats["floor"]
