"""Continuity: stretches the bed cannot place, bridged where the map on both sides agrees.

A dub release may swap the music of a scene (a localised song, a licensed track) or of the
opening titles. The bed then says nothing there, yet the picture is the same: the segments
before and after the stretch lie on one line, and the stretch is equally long on both
timelines. An inserted scene or a cut changes the offset across the stretch, so agreement
of the two neighbours is the evidence that nothing was added or removed in between.

Two limits keep this from inventing a film: the gap may be no longer than the evidence on
its two sides together (two episodes that share only an opening and an ending song are
not bridged across the episode), and at the file's edges the stretch must reach time 0 (or
the end) of both files at once, which a logo or a lead-in of another length never does, and
be no longer than the evidence after it or a title song (90 s).
"""
from __future__ import annotations

from .timemap import Segment

# The neighbours' maps must meet within this at the far side of the gap: a cut or an
# inserted scene moves the offset by its own length, at least a second.
JOIN_TOLERANCE_S = 0.03
# Files' edges carry codec priming and padding of a few tens of milliseconds.
EDGE_TOLERANCE_S = 0.1
# Same slope: both neighbours come from one fit, so only a different speed differs here.
SPEED_TOLERANCE = 2e-4
# An opening or ending song: bridged at a file's edge even where the first (last) stretch
# is shorter, since both files reaching time 0 (their ends) together is evidence of its own.
TITLE_SONG_S = 90.0


def bridge(segments: list[Segment], orig_duration: float, dub_duration: float,
           join_tolerance: float = JOIN_TOLERANCE_S) -> tuple[list[Segment], float]:
    """``segments`` (in dub order, not overlapping) with agreeing gaps filled, and the
    seconds of dub that the bridges added. Neighbours agree when they meet within
    ``join_tolerance`` (a tape's wobble moves the offset between two stretches: see
    :func:`wobble_tolerance`)."""
    if not segments:
        return [], 0.0
    head = _lead_in(segments[0])
    out: list[Segment] = [head] if head else []
    for seg in segments:
        if out and _continues(out[-1], seg, _evidence_around(out, seg), join_tolerance):
            out.append(Segment(out[-1].dub_end, seg.dub_start, out[-1].orig_end, seg.orig_start))
        out.append(seg)
    tail = _lead_out(segments[-1], orig_duration, dub_duration)
    if tail:
        out.append(tail)
    added = sum(s.dub_end - s.dub_start for s in out) - sum(s.dub_end - s.dub_start for s in segments)
    return out, added


def _length(seg: Segment) -> float:
    return seg.dub_end - seg.dub_start


def _evidence_around(done: list[Segment], nxt: Segment) -> float:
    """Dub seconds measured on both sides of the gap before ``nxt``: the run of segments
    already joined up to it, plus ``nxt`` itself."""
    run, i = 0.0, len(done) - 1
    while i >= 0:
        run += _length(done[i])
        if i == 0 or done[i - 1].dub_end < done[i].dub_start - 1e-6:
            break
        i -= 1
    return run + _length(nxt)


def wobble_tolerance(bend_s: float) -> float:
    """How far apart two stretches of one line may meet on a dub whose map bends by up to
    ``bend_s`` either way: each stretch's own offset takes in the bend's mean over it, so
    two of them differ by up to twice the bend (seed 5163, a swapped song on a tape dub:
    its neighbours 114 ms apart, a bend of 60 + 41 ms, the song left unmapped)."""
    return JOIN_TOLERANCE_S + 2.0 * bend_s


def _continues(prev: Segment, seg: Segment, evidence: float, tolerance: float) -> bool:
    gap = seg.dub_start - prev.dub_end
    return 1e-6 < gap <= evidence and same_line(prev, seg, tolerance)


def same_line(prev: Segment, seg: Segment, tolerance: float = JOIN_TOLERANCE_S) -> bool:
    """Whether ``seg`` lies on ``prev``'s line: the same speed, and it starts within
    ``tolerance`` of where that line reaches."""
    if abs(prev.speed - seg.speed) > SPEED_TOLERANCE * max(prev.speed, seg.speed):
        return False
    return abs(prev.to_orig(seg.dub_start) - seg.orig_start) <= tolerance


def _lead_in(first: Segment) -> Segment | None:
    """The stretch before the first segment, when both files start it at their time 0."""
    if first.dub_start <= 1e-6 or first.dub_start > max(_length(first), TITLE_SONG_S):
        return None
    at_zero = first.to_orig(0.0)
    if abs(at_zero) > EDGE_TOLERANCE_S or first.orig_start <= 1e-6:
        return None
    d0 = max(0.0, first.to_dub(0.0)) if at_zero < 0 else 0.0
    o0 = max(0.0, at_zero)
    return Segment(d0, first.dub_start, o0, first.orig_start) if first.dub_start - d0 > 1e-6 else None


def _lead_out(last: Segment, orig_duration: float, dub_duration: float) -> Segment | None:
    """The stretch after the last segment, when both files end it at their ends."""
    rest = dub_duration - last.dub_end
    if rest <= 1e-6 or rest > max(_length(last), TITLE_SONG_S):
        return None
    at_end = last.to_orig(dub_duration)
    if abs(at_end - orig_duration) > EDGE_TOLERANCE_S or last.orig_end >= orig_duration - 1e-6:
        return None
    d1 = min(dub_duration, last.to_dub(orig_duration))
    o1 = min(orig_duration, at_end)
    return Segment(last.dub_end, d1, last.orig_end, o1) if d1 - last.dub_end > 1e-6 else None
