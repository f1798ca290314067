"""Monotonic matching of two films' speech segments by meaning.

A dub says the same lines in the same order as the original, so the best set of pairs is
the heaviest increasing path through the cosine-similarity matrix: dynamic programming
like a longest common subsequence, with either side free to skip a segment (a line cut,
a line the VAD missed, a window edge) and a pair allowed only at or above
``min_similarity``. Whisper often cuts the same line into one segment in one language and
two in the other, so a segment may also pair with two neighbours joined.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Sequence

import numpy as np

if TYPE_CHECKING:
    from .embed import Embedder
    from .transcribe import SpeechSegment

# Cosine similarity a pair of translated lines needs to count as the same line. On the
# drascula speech the same lines measured 0.33-0.95 (median 0.62), different lines at
# most 0.48 and mostly under 0.3 (docs/speech.md).
DEFAULT_MIN_SIMILARITY = 0.45
# (original segments, dub segments) one step may take together.
MOVES = ((1, 1), (1, 2), (2, 1))
# Only neighbours this close (s) may be joined: a line Whisper split, not two lines.
MAX_JOIN_GAP = 1.5
# Text shorter than this many words ("Oh!", "Shut up!") matches anything: it may pair
# only joined to a neighbour.
MIN_WORDS = 3
# A short piece ("Well,", "Hi, Mario.") just before a sentence usually opens the same line;
# joining it keeps the anchor at the line's start, so such a join earns this much extra.
LEAD_IN_BONUS = 0.1


def meaningful(seg: "SpeechSegment") -> bool:
    """Whether a segment says enough to be matched by meaning on its own."""
    return len(seg.text.split()) >= MIN_WORDS


@dataclass(frozen=True)
class SpeechMatch:
    """An original segment and the dub segment that says the same thing.

    Either side may be two neighbouring segments joined into one.
    """

    orig: "SpeechSegment"
    dub: "SpeechSegment"
    similarity: float


def monotonic_groups(gains: dict[tuple[int, int], np.ndarray], min_similarity: float) -> list[tuple[int, int, int, int]]:
    """Groups (i, a, j, b): original segments i..i+a-1 pair with dub segments j..j+b-1.

    ``gains[(a, b)][i, j]`` is the similarity of that grouping; ``(1, 1)`` is required and
    fixes the shape (n, m). The groups increase on both sides and maximise the summed
    similarity of cells at or above ``min_similarity``. Row by row, the best score up to
    column j is a running maximum over "skip" and the moves ending at (i, j), so each row
    is a few vectorised passes and a whole film (~1500 x 1500 lines) stays fast.
    """
    n, m = gains[(1, 1)].shape
    score = np.zeros((n + 1, m + 1))
    src = np.zeros((n + 1, m + 1), np.int8)  # 0: skip an original line; k: MOVES[k-1]
    usable = {mv: np.where(g >= min_similarity, g, -np.inf) for mv, g in gains.items() if g.size}
    for i in range(1, n + 1):
        cand, from_ = score[i - 1, 1:].copy(), np.zeros(m, np.int8)
        for k, (a, b) in enumerate(MOVES, 1):
            g = usable.get((a, b))
            if g is None or i < a:
                continue
            value = np.full(m, -np.inf)
            value[b - 1:] = score[i - a, : m - b + 1] + g[i - a, : m - b + 1]
            better = value > cand
            cand[better], from_[better] = value[better], k
        score[i, 1:] = np.maximum.accumulate(cand)
        src[i, 1:] = from_
    return _backtrack(score, src)


def _backtrack(score: np.ndarray, src: np.ndarray) -> list[tuple[int, int, int, int]]:
    i, j = score.shape[0] - 1, score.shape[1] - 1
    groups: list[tuple[int, int, int, int]] = []
    while i > 0 and j > 0:
        if score[i, j] == score[i, j - 1]:  # the running maximum came from the left: skip a dub line
            j -= 1
        elif src[i, j] == 0:
            i -= 1
        else:
            a, b = MOVES[src[i, j] - 1]
            groups.append((i - a, a, j - b, b))
            i, j = i - a, j - b
    return groups[::-1]


def monotonic_pairs(sim: np.ndarray, min_similarity: float) -> list[tuple[int, int]]:
    """One-to-one index pairs (i, j), increasing in both, maximising the summed similarity."""
    return [(i, j) for i, _, j, _ in monotonic_groups({(1, 1): np.asarray(sim, np.float64)}, min_similarity)]


def join(segments: Sequence["SpeechSegment"]) -> "SpeechSegment":
    """Neighbouring segments as one: first start and onset, last end, texts and words joined."""
    if len(segments) == 1:
        return segments[0]
    first, last = segments[0], segments[-1]
    return replace(first, end=last.end, text=" ".join(s.text for s in segments),
                   avg_logprob=float(np.mean([s.avg_logprob for s in segments])),
                   no_speech_prob=min(s.no_speech_prob for s in segments),
                   words=tuple(w for s in segments for w in s.words))


def _usable(segments: list["SpeechSegment"]) -> np.ndarray:
    """1 for segments long enough to pair, 0 (no pair possible) for the rest."""
    return np.array([meaningful(s) for s in segments], np.float32)


def _joinable(segments: list["SpeechSegment"]) -> np.ndarray:
    """Per neighbour pair: 1 where the two may be joined, 0 (no match possible) where not."""
    gaps = np.array([b.start - a.end for a, b in zip(segments, segments[1:])])
    return (gaps <= MAX_JOIN_GAP).astype(np.float32)


def match_segments(orig_segments: Sequence["SpeechSegment"], dub_segments: Sequence["SpeechSegment"],
                   embedder: "Embedder", min_similarity: float = DEFAULT_MIN_SIMILARITY) -> list[SpeechMatch]:
    """Pairs of segments (or joined neighbours) that say the same thing, in order on both sides.

    Both lists must be in time order and in one language the embedder understands
    (English for the bundled model). Segments under :data:`MIN_WORDS` words pair only
    joined to a neighbour.
    """
    orig, dub = list(orig_segments), list(dub_segments)
    if not orig or not dub:
        return []
    texts = ([s.text for s in orig] + [s.text for s in dub]
             + [join(orig[k:k + 2]).text for k in range(len(orig) - 1)]
             + [join(dub[k:k + 2]).text for k in range(len(dub) - 1)])
    vec = embedder.embed(texts)
    n, m = len(orig), len(dub)
    o, d, o2, d2 = np.split(vec, [n, n + m, n + m + n - 1])
    mo, md = _usable(orig), _usable(dub)
    mo2, md2 = _usable([join(orig[k:k + 2]) for k in range(n - 1)]), _usable([join(dub[k:k + 2]) for k in range(m - 1)])
    sims = {(1, 1): o @ d.T, (1, 2): o @ d2.T, (2, 1): o2 @ d.T}
    allowed = {(1, 1): np.outer(mo, md), (1, 2): np.outer(mo, md2 * _joinable(dub)),
               (2, 1): np.outer(mo2 * _joinable(orig), md)}
    bonus = {(1, 1): 0.0, (1, 2): LEAD_IN_BONUS * (1 - md[None, :-1]), (2, 1): LEAD_IN_BONUS * (1 - mo[:-1, None])}
    # The threshold applies to the similarity itself; the bonus only ranks allowed pairs.
    gains = {mv: np.where((sims[mv] >= min_similarity) & (allowed[mv] > 0), sims[mv] + bonus[mv], 0.0)
             for mv in sims}
    return [SpeechMatch(join(orig[i:i + a]), join(dub[j:j + b]), float(sims[(a, b)][i, j]))
            for i, a, j, b in monotonic_groups(gains, min_similarity)]
