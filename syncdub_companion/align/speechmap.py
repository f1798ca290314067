"""Speech anchors as map evidence: matched lines place the map where the bed says nothing.

A segment measured on the music-and-effects bed is precise to a millisecond; a matched
line pair (a dub line start and the original's, matched by meaning) is known only to a
few tenths of a second (Whisper's onsets), but it tells which segment's line a stretch
of the dub belongs to. So, with the offsets still the bed's wherever a bed segment exists:

- a gap between two segments of one line is bridged when lines inside it land on that
  line and none lands elsewhere (a cut or an inserted scene would move the later lines
  by its own length), however long the gap;
- a segment's edge is carried over the lines next to it that land on its line, up to the
  first line that does not (the scene boundary lies before it);
- where two or more lines agree on an offset that no segment has, they make a segment of
  their own. Its offset is speech's, not within a frame, so a map holding one is for
  review, and it counts toward coverage only at :data:`SPEECH_WEIGHT`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .continuity import same_line
from .timemap import Segment

# A line start lands on a segment's line when the segment maps it within this of the
# original's. Whisper cuts a line into sentences differently in the two languages, so a
# matched pair's onsets can sit a second apart (1.24 s measured on the drascula lines);
# a cut or an inserted scene moves the offset by a scene's length, several seconds.
ON_LINE_S = 1.5
# A line's start is known to a few tenths of a second; a carried edge stops this far before it.
LINE_PAD_S = 0.2
# A lone line elsewhere is passed over when this many lines beyond it land on the line.
OUTVOTE = 2
# A gap longer than this needs two lines on the line to be bridged; shorter, one.
LONG_GAP_S = 30.0
# Lines that agree on an offset among themselves (s) make a speech segment; at least MIN_LINES.
AGREE_S = 0.5
MIN_LINES = 2
# Coverage weight of a stretch whose offset comes from speech (timing precision ~0.3 s,
# against the bed's ~1 ms): it helps a verdict, it cannot carry one alone.
SPEECH_WEIGHT = 0.5


@dataclass(frozen=True, order=True)
class Line:
    """A matched line: where it starts in the dub and in the original, where the dub's ends."""

    dub: float
    orig: float
    dub_end: float


@dataclass
class Extended:
    """Segments (in dub order) with the kind of evidence each rests on: ``bed`` (measured),
    ``continuity`` and ``edge`` (the bed's offset, speech's extent) or ``speech``."""

    pieces: list[tuple[Segment, str]] = field(default_factory=list)

    @property
    def segments(self) -> list[Segment]:
        """The pieces, those that continue one another on one line joined."""
        out: list[Segment] = []
        for seg, _ in self.pieces:
            if out and abs(seg.dub_start - out[-1].dub_end) < 1e-6 and same_line(out[-1], seg):
                seg = Segment(out[-1].dub_start, seg.dub_end, out[-1].orig_start, seg.orig_end)
                out.pop()
            out.append(seg)
        return out

    def seconds(self, kind: str) -> float:
        return sum(s.dub_end - s.dub_start for s, k in self.pieces if k == kind)

    def weighted_seconds(self) -> float:
        """Dub seconds mapped, a speech-offset stretch counting :data:`SPEECH_WEIGHT`."""
        return sum((SPEECH_WEIGHT if k == "speech" else 1.0) * (s.dub_end - s.dub_start) for s, k in self.pieces)


def lines_of(evidence) -> list[Line]:
    """Every matched pair, at its onsets, with the dub line's end: line starts consistent
    or not (after cuts each piece agrees only with itself), and matches inside lines too.
    Each says which segment's line its moment belongs to, to within :data:`ON_LINE_S`."""
    out = {(float(m.dub.onset), float(m.orig.onset)): float(m.dub.end) for m in getattr(evidence, "matches", [])}
    for a in list(evidence.anchors) + list(getattr(evidence, "outliers", [])):
        out.setdefault((float(a.dub), float(a.orig)), float(a.dub) + 1.0)
    return sorted(Line(d, o, max(d, end)) for (d, o), end in out.items())


def share_on_map(segments: list[Segment], lines: list[Line]) -> float:
    """Share of ``lines`` that a map places within :data:`ON_LINE_S` (0 without lines)."""
    if not lines:
        return 0.0
    hits = sum(any(s.dub_start <= ln.dub <= s.dub_end and on_line(s, ln) for s in segments) for ln in lines)
    return hits / len(lines)


def on_line(seg: Segment, line: Line) -> bool:
    return abs(seg.to_orig(line.dub) - line.orig) <= ON_LINE_S


def extend(segments: list[Segment], lines: list[Line], speed: float, dub_duration: float,
           orig_duration: float, speech_segments: bool = True) -> Extended:
    """``segments`` (the bed's, in dub order) bridged, carried and supplemented by ``lines``."""
    pieces = _bridged([(s, "bed") for s in segments], lines)
    pieces = _carried(pieces, lines, dub_duration, orig_duration)
    if speech_segments:
        pieces = _with_speech_segments(pieces, lines, speed, dub_duration, orig_duration)
    return Extended(pieces)


def _between(lines: list[Line], lo: float, hi: float) -> list[Line]:
    return [ln for ln in lines if lo < ln.dub < hi]


def _bridged(pieces, lines):
    out = pieces[:1]
    for seg, kind in pieces[1:]:
        prev = out[-1][0]
        inside = _between(lines, prev.dub_end, seg.dub_start)
        agree = sum(on_line(prev, ln) for ln in inside)
        needed = 2 if seg.dub_start - prev.dub_end > LONG_GAP_S else 1
        if same_line(prev, seg) and agree >= needed and agree == len(inside):
            out.append((Segment(prev.dub_end, seg.dub_start, prev.orig_end, seg.orig_start), "continuity"))
        out.append((seg, kind))
    return out


def _carried(pieces, lines, dub_duration, orig_duration):
    """Each segment's edges carried over the neighbouring lines on its line, into the
    unmapped room beside it (never past the room's middle line that is not on it)."""
    out = []
    for i, (seg, kind) in enumerate(pieces):
        lo = out[-1][0].dub_end if out else 0.0
        hi = pieces[i + 1][0].dub_start if i + 1 < len(pieces) else dub_duration
        start, end = seg.dub_start, seg.dub_end
        carried, _ = _reach(seg, list(reversed(_between(lines, lo, seg.dub_start))))
        for ln in carried:
            start = max(lo, ln.dub - LINE_PAD_S)
        carried, stop = _reach(seg, _between(lines, seg.dub_end, hi))
        for ln in carried:
            end = min(hi, max(end, ln.dub_end))
        if stop is not None:  # a line's end may run into the next line
            end = min(end, max(seg.dub_end, stop.dub - LINE_PAD_S))
        # the original's room too: the map stays monotonic, inside the original
        o_lo = out[-1][0].orig_end if out else 0.0
        o_hi = pieces[i + 1][0].orig_start if i + 1 < len(pieces) else orig_duration
        start = max(start, seg.to_dub(o_lo)) if start < seg.dub_start else start
        end = min(end, seg.to_dub(o_hi)) if end > seg.dub_end else end
        if start < seg.dub_start - 1e-6:
            out.append((Segment(start, seg.dub_start, seg.to_orig(start), seg.orig_start), "edge"))
        out.append((seg, kind))
        if end > seg.dub_end + 1e-6:
            out.append((Segment(seg.dub_end, end, seg.orig_end, seg.to_orig(end)), "edge"))
    return out


def _reach(seg: Segment, outward: list[Line]) -> tuple[list[Line], Line | None]:
    """The lines (nearest first) a segment is carried over, and the line that stops it.

    A lone line elsewhere between lines on the segment's line is a wrong match (Whisper
    pairs a generic sentence with a look-alike): a cut or an inserted scene moves every
    later line, so it is passed when the next :data:`OUTVOTE` lines land on the line.
    """
    for i, ln in enumerate(outward):
        if on_line(seg, ln):
            continue
        after = outward[i + 1: i + 1 + OUTVOTE]
        if len(after) < OUTVOTE or not all(on_line(seg, a) for a in after):
            return outward[:i], ln
    return outward, None


def _with_speech_segments(pieces, lines, speed, dub_duration, orig_duration):
    """Lines that no segment explains, grouped where they agree on an offset, as segments."""
    segs = [s for s, _ in pieces]
    loose = [ln for ln in lines if not any(s.dub_start <= ln.dub <= s.dub_end for s in segs)
             and not any(on_line(s, ln) for s in segs)]
    out = list(pieces)
    for group in _agreeing_runs(loose, speed):
        offset = float(np.median([ln.orig - ln.dub / speed for ln in group]))
        d0, d1 = group[0].dub - LINE_PAD_S, group[-1].dub_end
        before = [s for s in segs if s.dub_end <= group[0].dub]
        after = [s for s in segs if s.dub_start >= group[-1].dub]
        d0 = max(d0, before[-1].dub_end if before else 0.0, -offset * speed)
        d1 = min(d1, after[0].dub_start if after else dub_duration, (orig_duration - offset) * speed)
        o0, o1 = offset + d0 / speed, offset + d1 / speed
        if d1 - d0 < 1.0 or (before and o0 < before[-1].orig_end) or (after and o1 > after[0].orig_start):
            continue
        out.append((Segment(d0, d1, o0, o1), "speech"))
    return sorted(out, key=lambda p: p[0].dub_start)


def _agreeing_runs(lines: list[Line], speed: float) -> list[list[Line]]:
    """Consecutive lines whose offsets agree within :data:`AGREE_S`, runs of MIN_LINES or more."""
    runs: list[list[Line]] = []
    for ln in lines:
        if runs and abs((ln.orig - ln.dub / speed) - (runs[-1][0].orig - runs[-1][0].dub / speed)) <= AGREE_S:
            runs[-1].append(ln)
        else:
            runs.append([ln])
    return [r for r in runs if len(r) >= MIN_LINES]
