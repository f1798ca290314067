"""Speech as a second opinion on an audio map: same content, agreeing anchors, languages.

The music-and-effects map is precise but can be fooled where the bed says little: a
mono mix whose dialogue cannot be removed, long stretches of silent bed, a different
episode sharing the score. Speech tells those apart. It is run when asked (``always``),
or in ``auto`` when the audio evidence is weak, since on a CPU it costs minutes for a film.
"""
from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np

from .speechmap import ON_LINE_S, extend, lines_of, share_on_map
from .timemap import Segment, TimeMap

log = logging.getLogger(__name__)

WEAK_CONFIDENCE = 0.8
MIN_AGREEMENT = 0.5
MIN_JUDGED_LINES = 3   # consistent line starts needed before their agreement can veto a map
# In auto, a rejection on coverage at this share of align.min_coverage or more goes to speech.
NEAR_COVERAGE = 0.6


def wants_speech(mode: str, result: TimeMap) -> bool:
    """``always``; ``never``; ``auto``: when an accepted audio map is weak, or the audio was
    rejected only on coverage, near the threshold (speech may confirm what lies between
    its segments: :func:`apply_speech`)."""
    if mode == "always":
        return True
    if mode != "auto":
        return False
    if not result.aligned:
        return near_coverage(result)
    return result.confidence < WEAK_CONFIDENCE or result.details.get("signal") == "full"


def near_coverage(result: TimeMap) -> bool:
    """A rejection on coverage alone, with NEAR_COVERAGE of the coverage needed or more:
    the bed found segments on a consistent map but too few seconds of them (a talk-heavy
    film with a weak bed; or a different episode sharing its music, which speech rejects)."""
    d = result.details
    if d.get("rejected_on") != "coverage" or not d.get("candidates"):
        return False
    return d.get("coverage", 0.0) >= NEAR_COVERAGE * d["basis"]["min_coverage"]


def candidates(result: TimeMap) -> list[Segment]:
    """The map's segments; for a rejection on coverage, the segments the bed had found."""
    if result.segments:
        return list(result.segments)
    return [Segment(**s) for s in result.details.get("candidates", [])]


def windows_for(result: TimeMap, orig_duration: float, dub_duration: float, count: int, seconds: float):
    """Original windows spread over the film, and the dub windows the map puts them at.

    The map's segments (or a coverage rejection's candidates) place each window, and where
    none holds it, the nearest one's line does, widened by 8 s for a cut or insert between.
    Without any segment the dub gets the same relative positions, widened so that an
    offset or speed change of several seconds still overlaps the same lines.
    """
    from .speech import full_dialogue_windows, sampled_windows

    if count <= 0:
        return full_dialogue_windows(orig_duration), full_dialogue_windows(dub_duration)
    orig = sampled_windows(orig_duration, count, seconds)
    segments = candidates(result)
    dub = []
    for start, length in orig:
        mapped = [_to_dub(segments, t) for t in (start, start + length)]
        if segments and None not in mapped:
            a, b = mapped
            dub.append((max(0.0, a - 3.0), b - a + 6.0))
        elif segments:
            a, b = (_nearest(segments, t).to_dub(t) for t in (start, start + length))
            dub.append((max(0.0, a - 8.0), b - a + 16.0))
        else:
            rel = start / max(orig_duration, 1e-9)
            dub.append((max(0.0, rel * dub_duration - 10.0), length + 20.0))
    return orig, dub


def _to_dub(segments: list[Segment], t: float) -> float | None:
    for seg in segments:
        if seg.orig_start <= t <= seg.orig_end:
            return seg.to_dub(t)
    return None


def _nearest(segments: list[Segment], t: float) -> Segment:
    return min(segments, key=lambda s: max(s.orig_start - t, t - s.orig_end, 0.0))


def audio_is_strong(result: TimeMap) -> bool:
    """A map from a dialogue-free bed with high confidence: speech may note doubts, not veto."""
    return result.aligned and result.confidence >= WEAK_CONFIDENCE and result.details.get("signal") != "full"


def hold_without_speech(result: TimeMap, why: str) -> TimeMap:
    """A weak map held for review when speech did not judge it (``why`` says why not);
    confident and rejected maps pass through.

    Music shared between two episodes, or a sequel's theme, can line up for minutes and
    give a map over part of the film: such maps have low coverage, hence low confidence.
    A ``review`` map keeps its segments for inspection and is never merged.
    """
    if not result.aligned or result.confidence >= WEAK_CONFIDENCE:
        return result
    details = {**result.details, "held": why}
    return replace(result, verdict="review", details=details,
                   reason=f"held for review: {result.reason}, but the audio evidence alone is weak "
                          f"(confidence {result.confidence:.2f}, needs {WEAK_CONFIDENCE:g}) and speech {why}; "
                          f"run it again with speech (speech = \"auto\" or \"always\") to decide")


def _map_places(result: TimeMap, evidence, tolerance: float = 0.6) -> bool:
    """Whether most matched line starts, consistent or not, land where the audio map puts them.

    The evidence judges its line starts only against each other. After cuts, inserts and a
    speed change every uncut piece has its own offset, and a piece with one or two matched
    lines has no others to agree with, so a true pair can look inconsistent; the map
    accounts for the pieces. Chance matches in a different film land at unrelated times.
    """
    starts = list(evidence.anchors) + list(evidence.outliers)
    hits = 0
    for a in starts:
        t = result.to_orig(a.dub)
        hits += t is not None and abs(t - a.orig) <= tolerance
    return len(starts) >= 3 and hits >= MIN_AGREEMENT * len(starts)


def _map_disagrees(result: TimeMap, evidence) -> bool:
    """Whether three or more matched line starts exist and the map puts most of them
    elsewhere: the evidence a different film gives, where chance matches land anywhere.

    Elsewhere is farther than a sentence split can move a matched onset (``ON_LINE_S``),
    not :func:`_map_places`' 0.6 s: on blind seed 5103 (a true mono pair, 100 % coverage)
    matched onsets sat 0.3-2.3 s off a map with a p95 of 0.1 ms, and the confident map was
    held for review. A chance match in a different film lands within 1.5 s of where a
    map puts it about once in a hundred on a 5-minute film, less on a longer one.
    """
    starts = list(evidence.anchors) + list(evidence.outliers)
    return len(starts) >= 3 and not _map_places(result, evidence, tolerance=ON_LINE_S)


def apply_speech(result: TimeMap, evidence) -> TimeMap:
    """The audio result, judged by the speech evidence: kept, held, or rejected with the reason.

    Whisper on short windows misses lines, so its "different content" only decides where
    the audio evidence is weak; against a strong audio map it lowers the confidence. A
    weak map is rejected only on evidence against it (matched lines the map puts
    elsewhere); too few matches decide nothing, and the map is judged as without speech.
    """
    details = dict(result.details)
    details["speech"] = evidence.to_dict()
    details["dub_language"] = evidence.dub_language
    out = replace(result, anchors=list(result.anchors) + list(evidence.anchors), details=details)
    same, why = evidence.same_content()
    if not result.aligned and details.get("rejected_on") == "coverage":
        return built_with_speech(out, evidence, same, why)
    if why.startswith("too little speech"):
        return hold_without_speech(out, f"found {why}")
    if not same and "times disagree" in why and result.aligned and _map_places(result, evidence):
        same, why = True, f"{why.removeprefix('different content: ')}; the audio map places them"
    if not same and result.aligned and not _map_disagrees(result, evidence):
        # Few lines matched, and none of them against the map: Whisper's translation missed
        # the rest, which says nothing about the film. The audio decides, as without speech.
        return hold_without_speech(out, f"matched too few lines to judge ({why.removeprefix('different content: ')})")
    if not same:
        if audio_is_strong(result):
            return replace(out, confidence=max(0.0, result.confidence - 0.1),
                           reason=f"{result.reason}; speech found few matching lines ({why})")
        if result.aligned and result.confidence >= WEAK_CONFIDENCE:
            # A confident full-mix map against speech that disagrees: on unseen pairs
            # Whisper's matches were the wrong ones as often as the map (validation 5007:
            # 99 % coverage, 9 of 38 lines matched, 6 of them elsewhere). Neither signal
            # decides alone; the user listens.
            return replace(out, verdict="review", confidence=min(result.confidence, WEAK_CONFIDENCE - 0.01),
                           reason=f"held for review: the audio map is confident ({result.reason}), "
                                  f"but speech disagrees ({why})")
        return replace(out, verdict="rejected", segments=[], reason=f"speech: {why}",
                       confidence=min(result.confidence, 0.2))
    if not result.aligned:
        return out
    agreement = evidence.agreement(result.to_orig)
    details["speech_agreement"] = round(agreement, 3)
    # Agreement over one or two consistent lines is no share at all (blind validation 5042:
    # a true map rejected on "0 % of 1"); under three, the lines decide nothing here.
    judged = len(evidence.anchors) >= MIN_JUDGED_LINES
    if judged and agreement < MIN_AGREEMENT and not audio_is_strong(result):
        return replace(out, verdict="rejected", segments=[], confidence=min(result.confidence, 0.3),
                       reason=f"speech disagrees with the audio map: only {agreement:.0%} of {len(evidence.anchors)} "
                              f"matched lines land where the map puts them ({why})")
    confidence = min(1.0, result.confidence + (0.1 * (agreement - 0.5) if judged else 0.0))
    out = replace(out, confidence=confidence, reason=f"{result.reason}; speech: {why}, {agreement:.0%} agree")
    return _carried_by_speech(out, evidence)


def _carried_by_speech(result: TimeMap, evidence) -> TimeMap:
    """An accepted map's gaps bridged and edges carried where matched lines land on its
    segments' lines (:mod:`.speechmap`); the offsets stay the bed's, so no speech-offset
    segment is added to a map the bed already vouches for."""
    basis = result.details.get("basis")
    if not basis or not result.segments:
        return result
    ext = extend(result.segments, lines_of(evidence), result.speed, basis["dub_s"], basis["orig_s"],
                 speech_segments=False)
    added = ext.seconds("continuity") + ext.seconds("edge")
    if added <= 0:
        return result
    coverage = ext.weighted_seconds() / basis["possible_s"]
    details = {**result.details, "coverage": round(coverage, 4), "speech_mapped_s": round(added, 2)}
    return replace(result, segments=ext.segments, details=details,
                   reason=f"{result.reason}; matched lines map {added:.1f} s more ({coverage:.0%} in all)")


def built_with_speech(result: TimeMap, evidence, same: bool, why: str) -> TimeMap:
    """A map the bed alone rejected on coverage, judged again with speech as evidence.

    The bed's candidate segments are bridged, carried and supplemented by the matched
    lines (:mod:`.speechmap`), and the coverage counts each stretch by its timing precision.
    A map with a segment whose offset only speech gives (not placed within a frame) is held
    for review, never merged.
    """
    if not same:
        return replace(result, reason=f"{result.reason}; speech: {why}")
    basis = result.details["basis"]
    lines = lines_of(evidence)
    ext = extend(candidates(result), lines, result.speed, basis["dub_s"], basis["orig_s"])
    coverage = ext.weighted_seconds() / basis["possible_s"]
    strength = float(result.details.get("strength", 0.0))
    confidence = float(np.clip(min(1.0, coverage / 0.9) * (0.5 + 0.5 * strength), 0, 1))
    kinds = ("bed", "continuity", "edge", "speech")
    details = {**result.details, "coverage": round(coverage, 4), "speech_built": True,
               "speech_mapped_s": {k: round(ext.seconds(k), 2) for k in kinds}}
    mapped = replace(result, verdict="aligned", segments=ext.segments, confidence=confidence, details=details)
    placed = share_on_map(ext.segments, lines)
    details["speech_lines_placed"] = round(placed, 3)
    if len(lines) < 3 or placed < MIN_AGREEMENT:
        # chance matches of a different film land at unrelated times
        return replace(result, details=details, reason=f"{result.reason}; speech: only {placed:.0%} of "
                                                       f"{len(lines)} matched lines land on the map ({why})")
    if coverage < basis["min_coverage"] or confidence < basis["min_confidence"]:
        return replace(result, details=details, confidence=confidence,
                       reason=f"{result.reason}; with speech still only {coverage:.0%} "
                              f"(confidence {confidence:.2f}; {why})")
    reason = (f"{len(ext.segments)} segment(s) cover {coverage:.0%} of the dub with speech: "
              f"{ext.seconds('bed'):.0f} s measured on the bed, {ext.seconds('continuity') + ext.seconds('edge'):.0f} s "
              f"on its offsets where matched lines confirm them, {ext.seconds('speech'):.0f} s placed by speech alone "
              f"(counted at half); speech: {why}")
    if ext.seconds("speech") > 0:
        return replace(mapped, verdict="review", reason=f"held for review: {reason}; speech's offsets are not "
                                                         f"within a frame, so check the map before merging")
    return replace(mapped, reason=reason)
