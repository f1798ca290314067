"""PGS re-timed by display set.

A display set leans on palettes, objects and windows that earlier sets of its epoch
defined, so a set cannot simply be given a new PTS once a set before it was dropped or
moved past a cut. Every screen that is kept is therefore written as an epoch of its own:
its composition, every window, its palette and the objects it shows, as the stream
stood at that moment. Where a screen ends (at a cut, or where the next kept one is not
adjacent) an empty composition clears it. Fades (palette updates every frame) stay
fades: each step is one screen.

A *cue* here is a run of visible screens between two empty ones; the retimer's rules
(drop, clip, no flash) apply to the run as a whole, and each screen in it keeps
the part that falls inside the run's kept piece.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import MediaError
from .pgs import (CLOCK, END, EPOCH_START, NORMAL, ODS, PCS, PDS, WDS, Composition, DisplaySet, Segment,
                  read_display_sets, write_display_sets)
from .retime import Retimer, RetimeReport

LAST_SCREEN_SECONDS = 5.0  # a screen no later set clears (a cut-off stream) shows this long
ADJACENT = 1e-3


@dataclass
class Screen:
    """What one display set leaves on screen: its composition and the definitions it needs."""

    start: float
    composition: Composition
    windows: dict[int, bytes]
    palette: bytes | None
    objects: dict[int, list[Segment]]
    end: float = 0.0

    @property
    def visible(self) -> bool:
        return bool(self.composition.objects)


@dataclass
class _Epoch:
    windows: dict[int, bytes] = field(default_factory=dict)
    palettes: dict[int, bytes] = field(default_factory=dict)
    objects: dict[int, list[Segment]] = field(default_factory=dict)

    def update(self, ds: DisplaySet) -> None:
        for seg in ds.of(WDS):
            count = seg.data[0] if seg.data else 0
            for i in range(count):
                entry = seg.data[1 + 9 * i: 10 + 9 * i]
                self.windows[entry[0]] = entry
        for seg in ds.of(PDS):
            self.palettes[seg.data[0]] = seg.data
        pending: list[Segment] = []
        for seg in ds.of(ODS):
            pending = [seg] if seg.data[3] & 0x80 else pending + [seg]
            if seg.data[3] & 0x40:
                self.objects[int.from_bytes(seg.data[:2], "big")] = pending
                pending = []


def screens(sets: list[DisplaySet]) -> list[Screen]:
    """The screens of a stream, each lasting until the next set (the last: LAST_SCREEN_SECONDS)."""
    out, epoch = [], _Epoch()
    for ds in sets:
        comp = ds.composition
        if comp.state == EPOCH_START:
            epoch = _Epoch()
        epoch.update(ds)
        needed = {o.object_id for o in comp.objects}
        missing = needed - set(epoch.objects)
        if missing:
            raise MediaError(f"PGS: the set at {ds.pts / CLOCK:.3f} s shows object(s) {sorted(missing)} never defined")
        out.append(Screen(ds.pts / CLOCK, comp, dict(epoch.windows), epoch.palettes.get(comp.palette_id),
                          {i: epoch.objects[i] for i in needed}))
    for screen, following in zip(out, out[1:]):
        screen.end = following.start
    if out:
        out[-1].end = out[-1].start + LAST_SCREEN_SECONDS
    return out


def retime_screens(shown: list[Screen], retimer: Retimer, report: RetimeReport) -> list[tuple[float, float, Screen]]:
    """(start, end, screen) on the original's timeline for every screen kept, in order."""
    placed = []
    for run in _runs(shown):
        placement = retimer.place(run[0].start, run[-1].end)
        report.add(placement)
        if placement is None:
            continue
        for screen in run:
            for lo, hi in retimer.pieces(screen.start, screen.end):
                lo, hi = max(lo, placement.start), min(hi, placement.end)
                if hi > lo:
                    placed.append((lo, hi, screen))
                    break
    return placed


def _runs(shown: list[Screen]) -> list[list[Screen]]:
    runs, run = [], []
    for screen in shown:
        if screen.visible:
            run.append(screen)
        elif run:
            runs.append(run)
            run = []
    return runs + ([run] if run else [])


def build_sets(placed: list[tuple[float, float, Screen]]) -> list[DisplaySet]:
    """Self-contained display sets for the placed screens, with a clear wherever one ends alone."""
    sets, number = [], 0
    for i, (start, end, screen) in enumerate(placed):
        sets.append(_shown_set(screen, _ticks(start), number))
        number += 1
        following = placed[i + 1][0] if i + 1 < len(placed) else None
        if following is None or following > end + ADJACENT:
            sets.append(_clear_set(screen, _ticks(end), number))
            number += 1
    return sets


def _ticks(seconds: float) -> int:
    return max(0, round(seconds * CLOCK))


def _shown_set(screen: Screen, pts: int, number: int) -> DisplaySet:
    comp = replace(screen.composition, number=number, state=EPOCH_START, palette_update=False)
    segs = [Segment(PCS, pts, 0, comp.encode()), _windows(screen, pts)]
    if screen.palette is not None:
        segs.append(Segment(PDS, pts, 0, screen.palette))
    for fragments in screen.objects.values():
        segs += [Segment(ODS, pts, 0, f.data) for f in fragments]
    return DisplaySet(segs + [Segment(END, pts, 0, b"")])


def _clear_set(screen: Screen, pts: int, number: int) -> DisplaySet:
    comp = replace(screen.composition, number=number, state=NORMAL, palette_update=False, objects=[])
    return DisplaySet([Segment(PCS, pts, 0, comp.encode()), _windows(screen, pts), Segment(END, pts, 0, b"")])


def _windows(screen: Screen, pts: int) -> Segment:
    entries = [screen.windows[k] for k in sorted(screen.windows)]
    return Segment(WDS, pts, 0, bytes([len(entries)]) + b"".join(entries))


def retime_pgs(source: Path, target: Path, retimer: Retimer) -> RetimeReport:
    """Write ``source``'s ``.sup`` re-timed by ``retimer`` to ``target``."""
    report = RetimeReport()
    placed = retime_screens(screens(read_display_sets(source.read_bytes())), retimer, report)
    target.write_bytes(write_display_sets(build_sets(placed)))
    return report
