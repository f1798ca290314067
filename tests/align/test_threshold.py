"""The segmentation threshold: between chance and the matches, read where both sides sound."""
from __future__ import annotations

import numpy as np

from syncdub_companion.align.engine import segmentation_threshold


def _chance_and_matches(rng, zeros: float):
    null = rng.normal(0.02, 0.06, 3000)
    hits = rng.normal(0.8, 0.08, 40)
    null[rng.random(len(null)) < zeros] = 0.0   # sound on one side only scores exactly 0
    hits[rng.random(len(hits)) < zeros] = 0.0
    return null, hits


def test_one_sided_silence_does_not_pull_the_threshold_to_chance():
    rng = np.random.default_rng(5)
    clean, _ = segmentation_threshold(*_chance_and_matches(rng, 0.0))
    # A tape's hiss under an original with long quiet stretches: most frames score 0. Read
    # over every frame, chance and the matches both had median 0 and the threshold was 0.
    quiet, stats = segmentation_threshold(*_chance_and_matches(rng, 0.6))
    assert stats["match_sim"] > 0.7 and abs(stats["null_sim"] - 0.02) < 0.01
    assert abs(quiet - clean) < 0.03 and quiet > 0.25


def test_weak_matches_lower_it_but_never_to_chance():
    rng = np.random.default_rng(6)
    null = rng.normal(0.0, 0.05, 3000)
    strong, _ = segmentation_threshold(null, rng.normal(0.8, 0.05, 40))
    weak, _ = segmentation_threshold(null, rng.normal(0.25, 0.05, 40))
    none, _ = segmentation_threshold(null, rng.normal(0.0, 0.05, 40))
    assert strong > weak > none >= 0.09   # two null SDs over chance at the least
