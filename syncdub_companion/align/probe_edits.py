"""Edits seen from windows: the probe path's map where the dub was cut or has scenes of its own.

A cut or an inserted scene moves every window after it onto another offset. Rather than
decode both films in full for it, the probe path keeps each window's offset as a *knot*;
neighbouring knots on one offset are one straight stretch, and between two that disagree
the window in the middle is placed on each side's line, halving the stretch until the edit
lies within EDIT_SPAN of the dub. The full engine then maps only that stretch, from windows
of both files, and its map must leave each end on the line its neighbour proved. Whatever
does not join up is the full decode's work (:class:`NoProof`).

What no window sees is still an insert and a cut of the same length between two knots
(docs/aligner.md, "Reading less").
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .features import FPS
from .timemap import Segment

EDIT_SPAN = 60.0          # halve a disagreeing stretch until its edit lies within this much of the dub
ENGINE_PAD = 60.0         # dub read past each end of an edit's stretch, so the engine's chunks reach the ends
ORIG_PAD = 5.0            # and the original's window reaches this far past both lines
MAX_ORIG_SPAN = 900.0     # an edit's stretch of the original longer than this is the full decode's work
MAX_ENGINE_SHARE = 0.5    # of the dub: past this the windows would read most of the film
RUN_FRAMES = 3.0          # knots this close in offset (plus the speed's doubt over their distance) are one stretch
SPEED_DOUBT = 1e-4
EDGE_DOUBT = 0.2          # s an edge of an edit's map next to unmapped dub is moved inward
JOIN_TOLERANCE = 4.0      # frames: an engine segment this close to a knot's line lies on it
PAIRS_AGREE = 3           # neighbouring knots' slopes that must agree before they overrule the scouts' speed
SLOPE_AGREE = 5e-5        # two frames over 7 minutes
MIN_SLOPE_SPAN = 600.0    # s of dub that runs of knots must span before they refine the speed


class NoProof(Exception):
    """The windows cannot prove a map; the message says why (the full decode follows)."""


class Unjoined(NoProof):
    """``knot`` does not hold its line: an edit's map leaves it there, or its stretch's
    other knots lie on another."""

    def __init__(self, message: str, knot: "Knot"):
        super().__init__(message)
        self.knot = knot


@dataclass
class Knot:
    """A dub window's middle ``dub`` plays at original time ``orig``; None: it sounds on both
    sides and matched nowhere it was looked for."""

    dub: float
    orig: float | None
    ncc: float = 0.0
    tentative: bool = False   # found by a wide search alone: an edit's map may overrule it

    @property
    def found(self) -> bool:
        return self.orig is not None


@dataclass(frozen=True)
class Line:
    """orig = dub / speed + offset."""

    speed: float
    offset: float

    def orig(self, dub: float) -> float:
        return dub / self.speed + self.offset

    def off_by(self, dub: float, orig: float) -> float:
        """How far (frames) a point sits from the line."""
        return (orig - self.orig(dub)) * FPS

    def on(self, d0: float, d1: float) -> Segment:
        return Segment(d0, d1, self.orig(d0), self.orig(d1))


def runs_of(knots: list[Knot], speed: float) -> list[list[Knot]]:
    """Found knots in dub order, split wherever the offset moves: one run per straight stretch."""
    runs: list[list[Knot]] = []
    for k in (k for k in knots if k.found):
        if runs and _same_offset(runs[-1][-1], k, speed):
            runs[-1].append(k)
        else:
            runs.append([k])
    return runs


def _same_offset(a: Knot, b: Knot, speed: float) -> bool:
    moved = abs((b.orig - b.dub / speed) - (a.orig - a.dub / speed)) * FPS
    return moved <= RUN_FRAMES + SPEED_DOUBT * abs(b.dub - a.dub) * FPS


def pairwise_speed(knots: list[Knot], speed: float) -> float:
    """The speed most neighbouring knots agree on, where the scouts could only guess a film
    ratio (they did not share one line): two knots with no edit between them differ by the
    speed alone, so their slopes cluster on it while an edit's slope lies anywhere. The
    scouts' speed unless PAIRS_AGREE pairs agree within SLOPE_AGREE."""
    found = [k for k in knots if k.found]
    slopes = np.array([(b.dub - a.dub) / (b.orig - a.orig) for a, b in zip(found, found[1:])
                       if b.dub - a.dub > 60.0 and b.orig > a.orig])
    slopes = slopes[np.abs(slopes / speed - 1) < 0.01]
    if len(slopes) < PAIRS_AGREE:
        return speed
    support = [(np.abs(slopes - c) <= SLOPE_AGREE * c).sum() for c in slopes]
    best = int(np.argmax(support))
    if support[best] < PAIRS_AGREE:
        return speed
    return float(np.median(slopes[np.abs(slopes - slopes[best]) <= SLOPE_AGREE * slopes[best]]))


def shared_speed(runs: list[list[Knot]], speed: float) -> float:
    """One slope through every run, an intercept each (every real conversion runs the whole
    film at one rate); the scouts' speed where the runs are too short to say."""
    long_runs = [r for r in runs if len(r) > 1]
    if sum(r[-1].dub - r[0].dub for r in long_runs) < MIN_SLOPE_SPAN:
        return speed
    rows = [(k, i) for i, run in enumerate(long_runs) for k in run]
    design = np.zeros((len(rows), 1 + len(long_runs)))
    for row, (k, i) in enumerate(rows):
        design[row, 0], design[row, 1 + i] = k.dub, 1.0
    target = np.array([k.orig for k, _ in rows])
    weight = np.array([max(k.ncc, 0.05) for k, _ in rows])   # the root of fit_line's ncc ** 2 weights
    solution, *_ = np.linalg.lstsq(design * weight[:, None], target * weight, rcond=None)
    return float(1.0 / solution[0])


def line_of(run: list[Knot], speed: float, tolerance: float) -> Line:
    """The run's line at the shared speed; Unjoined (with the knot furthest off) if a knot
    sits more than ``tolerance`` frames off it (the speed varies, a stretch holds an edit
    under RUN_FRAMES, or the knot is a look-alike a few frames off)."""
    offsets = np.array([k.orig - k.dub / speed for k in run])
    weights = np.array([max(k.ncc, 0.05) for k in run]) ** 2
    line = Line(speed, float(np.average(offsets, weights=weights)))
    worst = max(run, key=lambda k: abs(line.off_by(k.dub, k.orig)))
    off = abs(line.off_by(worst.dub, worst.orig))
    if off > tolerance:
        raise Unjoined(f"the windows of one stretch sit up to {off * 1000 / FPS:.0f} ms off one line: "
                       "the speed varies", worst)
    return line


@dataclass
class Stretch:
    """Two found knots in dub order and the lines they lie on; ``blind``: a window between them
    sounded and matched nowhere."""

    start: Knot
    end: Knot
    start_line: Line
    end_line: Line
    blind: bool = False

    @property
    def straight(self) -> bool:
        return self.start_line == self.end_line and not self.blind


def stretches(knots: list[Knot], lines: dict[int, Line]) -> list[Stretch]:
    """Consecutive found knots paired up; ``lines`` maps each found knot's id() to its line.

    Between two knots on one line, a window that sounds and matched nowhere may lie in a
    scene only the dub has (an insert, with a cut of the same length elsewhere between
    them): the engine maps EDIT_SPAN around it (a blind stretch on that line), and the rest
    stays straight. Between knots on two lines such a window is one more reason to map the
    stretch between them.
    """
    out: list[Stretch] = []
    last, unplaced = None, []
    for k in knots:
        if not k.found:
            unplaced += [k.dub] if last is not None else []
            continue
        if last is not None:
            out += _paired(last, k, lines[id(last)], lines[id(k)], unplaced)
        last, unplaced = k, []
    return out


def _paired(a: Knot, b: Knot, a_line: Line, b_line: Line, unplaced: list[float]) -> list[Stretch]:
    if not unplaced or a_line != b_line:
        return [Stretch(a, b, a_line, b_line, blind=bool(unplaced))]
    out, at = [], a
    for lo, hi in _around(unplaced, a.dub, b.dub):
        start, end = Knot(lo, a_line.orig(lo)), Knot(hi, a_line.orig(hi))
        out += [Stretch(at, start, a_line, a_line)] if lo > at.dub else []
        out.append(Stretch(start if lo > at.dub else at, end if hi < b.dub else b, a_line, a_line, blind=True))
        at = end if hi < b.dub else b
    return out + ([Stretch(at, b, a_line, a_line)] if at is not b else [])


def _around(points: list[float], lo: float, hi: float) -> list[tuple[float, float]]:
    """EDIT_SPAN around each point, inside (lo, hi), overlapping spans merged."""
    spans: list[tuple[float, float]] = []
    for p in points:
        s0, s1 = max(lo, p - EDIT_SPAN / 2), min(hi, p + EDIT_SPAN / 2)
        if spans and s0 <= spans[-1][1]:
            spans[-1] = (spans[-1][0], s1)
        else:
            spans.append((s0, s1))
    return spans


def edit_window(stretch: Stretch, dub_s: float, orig_s: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """The dub and original windows the engine maps an edit's stretch from: the dub between
    the knots and ENGINE_PAD past each, the original wherever either line puts that."""
    d0 = max(0.0, stretch.start.dub - ENGINE_PAD)
    d1 = min(dub_s, stretch.end.dub + ENGINE_PAD)
    ends = [line.orig(d) for line in (stretch.start_line, stretch.end_line) for d in (d0, d1)]
    o0 = max(0.0, min(ends) - ORIG_PAD)
    o1 = min(orig_s, max(ends) + ORIG_PAD)
    if o1 - o0 > MAX_ORIG_SPAN:
        raise NoProof(f"the edit between {stretch.start.dub / 60:.1f} and {stretch.end.dub / 60:.1f} min of the dub "
                       f"spans {(o1 - o0) / 60:.0f} min of the original")
    return (d0, d1), (o0, o1)


@dataclass
class Claim:
    """What one piece of the map says about the dub from ``start`` to ``end``."""

    start: float
    end: float
    segments: list[Segment]
    yields: bool = False    # a straight stretch between knots gives way to an engine's map after it


def joined_stretch(segments: list[Segment], stretch: Stretch, slack: float) -> Claim:
    """The engine's map of an edit's stretch, snapped onto the knots' lines.

    It must hold the first knot's line within ``slack`` seconds of that knot's middle (what
    the knot's window proves around it) and the last knot's likewise; the edit may lie
    inside either knot's window, so the claim reaches as far past the knots as the engine's
    segments on their lines do. Between them it is the engine's map as it stands.
    """
    a, b = stretch.start.dub, stretch.end.dub
    lines = (stretch.start_line, stretch.end_line)
    mapped = [snapped(s, lines) for s in segments if s.dub_end > a - slack and s.dub_start < b + slack]
    first = next((s for s in mapped if _on_line(s, stretch.start_line) and s.dub_end >= a - slack), None)
    last = next((s for s in reversed(mapped) if _on_line(s, stretch.end_line) and s.dub_start <= b + slack), None)
    if first is None or first.dub_start > a + slack:
        raise Unjoined(f"the engine's map of dub {a / 60:.1f}-{b / 60:.1f} min leaves its start off the line "
                       "its window proved", stretch.start)
    if last is None or last.dub_end < b - slack or last.dub_end <= first.dub_start:
        raise Unjoined(f"the engine's map of dub {a / 60:.1f}-{b / 60:.1f} min does not reach the line "
                       "its last window proved", stretch.end)
    start, end = min(a, first.dub_start), max(b, last.dub_end)
    inside = [s for s in (_cut(s, start, end) for s in mapped) if s is not None]
    inside[0] = stretch.start_line.on(start, inside[0].dub_end)
    inside[-1] = stretch.end_line.on(inside[-1].dub_start, end)
    return Claim(start, end, _pulled_in(inside))


def _pulled_in(segments: list[Segment]) -> list[Segment]:
    """Edges inside an edit's map that border an unmapped stretch, moved EDGE_DOUBT inward:
    the engine on two windows sees less of the film around an edge than on the whole of it,
    and put one 0.15 s into an inserted scene where the full decode put it to the ms."""
    out = []
    for i, seg in enumerate(segments):
        open_start = i > 0 and seg.dub_start - segments[i - 1].dub_end > 1e-3
        open_end = i + 1 < len(segments) and segments[i + 1].dub_start - seg.dub_end > 1e-3
        cut = _cut(seg, seg.dub_start + EDGE_DOUBT * open_start, seg.dub_end - EDGE_DOUBT * open_end)
        out += [cut] if cut is not None else []
    return out


def assembled(claims: list[Claim]) -> list[Segment]:
    """The pieces in dub order, each cut where the one before it ends; a straight stretch
    also gives way to an engine's claim after it, which holds its line there."""
    out: list[Segment] = []
    reach = 0.0
    for i, claim in enumerate(claims):
        end = claim.end
        nxt = claims[i + 1] if i + 1 < len(claims) else None
        if claim.yields and nxt is not None and not nxt.yields:
            end = min(end, nxt.start)
        out += [s for s in (_cut(s, max(claim.start, reach), end) for s in claim.segments) if s is not None]
        reach = max(reach, end)
    return joined(out)


def _cut(seg: Segment, a: float, b: float) -> Segment | None:
    d0, d1 = max(seg.dub_start, a), min(seg.dub_end, b)
    if d1 - d0 <= 1e-3:
        return None
    return Segment(d0, d1, seg.to_orig(d0), seg.to_orig(d1))


def _on_line(seg: Segment, line: Line) -> bool:
    return max(abs(line.off_by(seg.dub_start, seg.orig_start)), abs(line.off_by(seg.dub_end, seg.orig_end))) \
        <= JOIN_TOLERANCE


def snapped(seg: Segment, lines: tuple[Line, ...]) -> Segment:
    """``seg`` onto the first of ``lines`` it lies on (within JOIN_TOLERANCE), else as it is."""
    for line in lines:
        if _on_line(seg, line):
            return line.on(seg.dub_start, seg.dub_end)
    return seg


def joined(segments: list[Segment]) -> list[Segment]:
    """Neighbours that touch on one line are one segment."""
    out: list[Segment] = []
    for seg in segments:
        if out and abs(seg.dub_start - out[-1].dub_end) < 1e-3 and abs(seg.orig_start - out[-1].orig_end) < 2e-3 \
                and abs(seg.speed / out[-1].speed - 1) < 1e-9:
            prev = out[-1]
            out[-1] = Segment(prev.dub_start, seg.dub_end, prev.orig_start, seg.orig_end)
        else:
            out.append(seg)
    return out
