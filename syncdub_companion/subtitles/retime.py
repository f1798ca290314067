"""Where a subtitle cue of the dub goes on the original's timeline: the time map's rules for cues.

A :class:`TimeMap` maps the dub's *decoded audio* timeline onto the original's. A cue's
times are on the dub file's container timeline, so they are moved onto the decoded one
(minus ``dub_start``, the pts of the dub track's first decoded sample), mapped, and moved
back onto the original's container timeline (plus ``orig_start``); the merge knows both
starts (``MergePlan.dub_start``/``orig_start``, see docs/merge.md "Timing").

Rules, applied per cue:

- each segment the cue overlaps gives one piece, mapped linearly, so a PAL speed-up
  stretches the cue with the picture;
- a cue in no segment (a logo, a scene only the dub has) is dropped;
- a cue across a cut keeps its longest piece (it is clipped at the cut), because showing
  the same line twice, on both sides of a scene the dub lacks, reads as a glitch;
- a piece shorter than :data:`MIN_SECONDS` is dropped: a line cut down to a flash cannot
  be read and only flickers.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..align.timemap import TimeMap

MIN_SECONDS = 0.1


@dataclass(frozen=True)
class Placement:
    """A cue's place on the original's container timeline; ``clipped`` when the map cut some of it."""

    start: float
    end: float
    clipped: bool = False
    scale: float = 1.0  # original seconds per dub second where it landed: times inside the cue run at this rate


class Retimer:
    """Applies one time map to cues given in the dub's container seconds."""

    def __init__(self, timemap: "TimeMap", dub_start: float = 0.0, orig_start: float = 0.0):
        self.segments = sorted(timemap.segments, key=lambda s: s.dub_start)
        self.dub_start = dub_start
        self.orig_start = orig_start

    def pieces(self, start: float, end: float) -> list[tuple[float, float]]:
        """Every mapped piece of the cue [start, end], on the original's container timeline."""
        return [(lo, hi) for lo, hi, _ in self._pieces(start, end)]

    def _pieces(self, start: float, end: float) -> list[tuple[float, float, float]]:
        lo, hi = start - self.dub_start, end - self.dub_start
        out = []
        for seg in self.segments:
            a, b = max(lo, seg.dub_start), min(hi, seg.dub_end)
            if b > a:
                out.append((self.orig_start + seg.to_orig(a), self.orig_start + seg.to_orig(b), seg.speed))
        return out

    def place(self, start: float, end: float) -> Placement | None:
        """Where the cue shows in the original, or None when it is dropped (see the module's rules)."""
        pieces = self._pieces(start, end)
        if not pieces:
            return None
        lo, hi, speed = max(pieces, key=lambda p: p[1] - p[0])
        if hi - lo < MIN_SECONDS:
            return None
        whole = (end - start) / self._speed_at(start, end)
        return Placement(max(lo, 0.0), hi, clipped=len(pieces) > 1 or hi - lo < whole - 1e-6, scale=1 / speed)

    def point(self, t: float) -> float | None:
        """The original's container time of the dub's container time ``t``, or None outside the map."""
        d = t - self.dub_start
        for seg in self.segments:
            if seg.dub_start <= d <= seg.dub_end:
                return self.orig_start + seg.to_orig(d)
        return None

    def _speed_at(self, start: float, end: float) -> float:
        """The speed of the segment nearest the cue, to tell a clipped cue from a stretched one."""
        mid = (start + end) / 2 - self.dub_start
        seg = min(self.segments, key=lambda s: 0 if s.dub_start <= mid <= s.dub_end
                  else min(abs(mid - s.dub_start), abs(mid - s.dub_end)))
        return seg.speed


@dataclass
class RetimeReport:
    """What happened to one track's cues: counts for the job's notes."""

    kept: int = 0
    dropped: int = 0
    clipped: int = 0

    def add(self, placement: Placement | None) -> None:
        if placement is None:
            self.dropped += 1
        else:
            self.kept += 1
            self.clipped += placement.clipped

    def text(self) -> str:
        return f"{self.kept} cues kept ({self.clipped} clipped at a cut), {self.dropped} dropped"
