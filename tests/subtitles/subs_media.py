"""A known map (logo, PAL speed-up, cut) and cues at known dub times, for the subtitle tests.

The expected original times are worked out here by hand from the map's definition, not
through TimeMap, so the tests do not check the retimer against itself.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

from syncdub_companion.align.timemap import Segment, TimeMap
from syncdub_companion.subtitles.pgs import (CLOCK, END, EPOCH_START, NORMAL, PCS, Composition, CompositionObject,
                                             DisplaySet, Segment as PgsSegment, object_segments, palette_segment,
                                             window_segment)

PAL = 2997 / 3125  # dub seconds per original second: a 25 fps release of a 23.976 fps film
LOGO = 3.0  # the dub opens with 3 s of its own logo
CUT = (10.0, 13.0)  # original seconds missing from the dub
DUB_START, ORIG_START = 0.032, 0.021  # where each file's audio starts decoding (the map's zero points)
FRAME = 0.040


def truth_map() -> TimeMap:
    j = LOGO + CUT[0] * PAL
    return TimeMap("aligned", 0.9, "", PAL, [Segment(LOGO, j, 0.0, CUT[0]), Segment(j, j + 10 * PAL, CUT[1], 23.0)])


def dub_time(orig: float) -> float:
    """Container time in the dub of original (decoded) time ``orig``."""
    return DUB_START + LOGO + (orig if orig <= CUT[0] else orig - (CUT[1] - CUT[0])) * PAL


def orig_time(orig: float) -> float:
    return ORIG_START + orig


# (dub start, dub end, expected original start/end or None when dropped, clipped?)
CUES = [
    ("in the logo", DUB_START + 1.0, DUB_START + 2.0, None),
    ("out of the logo", DUB_START + 2.5, dub_time(1.0), (orig_time(0.0), orig_time(1.0))),
    ("plain", dub_time(1.5), dub_time(3.5), (orig_time(1.5), orig_time(3.5))),
    ("across the cut", dub_time(9.2), dub_time(14.0), (orig_time(13.0), orig_time(14.0))),
    ("after the cut", dub_time(18.0), dub_time(20.0), (orig_time(18.0), orig_time(20.0))),
]


# --- PGS: tiny bitmaps, one per cue ------------------------------------------------------

def bitmap(n: int) -> list[list[int]]:
    """A 24x6 bitmap unique to ``n``: a frame of colour 1 around ``n`` pixels of colour 2."""
    rows = [[1] * 24] + [[1] + [0] * 22 + [1] for _ in range(4)] + [[1] * 24]
    for i in range(n + 1):
        rows[1 + i % 4][2 + i] = 2
    return rows


def shown_set(t: float, n: int, number: int, state: int = EPOCH_START, objects: bool = True) -> DisplaySet:
    pts = round(t * CLOCK)
    comp = Composition(720, 480, 0x10, number, state, not objects, 0, [CompositionObject(n, 0, 100 + n, 400)])
    segs = [PgsSegment(PCS, pts, 0, comp.encode()), window_segment([(0, 100, 400, 40, 6)], pts),
            palette_segment(0, {1: (235, 128, 128, 255), 2: (81, 90, 240, 200 - 10 * number % 100)}, pts, number % 256)]
    if objects:
        segs += object_segments(n, bitmap(n), pts)
    return DisplaySet(segs + [PgsSegment(END, pts, 0, b"")])


def clear_set(t: float, number: int) -> DisplaySet:
    pts = round(t * CLOCK)
    comp = Composition(720, 480, 0x10, number, NORMAL, False, 0, [])
    return DisplaySet([PgsSegment(PCS, pts, 0, comp.encode()), window_segment([(0, 100, 400, 40, 6)], pts),
                       PgsSegment(END, pts, 0, b"")])


def pgs_cues() -> list[DisplaySet]:
    """One epoch per cue; the cue across the cut also fades: a palette-only update (state
    normal, its object defined before the cut) in its second half."""
    sets, number = [], 0
    for n, (_, start, end, _) in enumerate(CUES):
        sets.append(shown_set(start, n, number))
        if n == 3:
            sets.append(shown_set(dub_time(13.5), n, number + 1, state=NORMAL, objects=False))
            number += 1
        sets.append(clear_set(end, number + 1))
        number += 2
    return sets


def packets(path: Path, stream: int = 0) -> list[tuple[float, float | None]]:
    """(pts, duration) of a stream's packets as ffprobe reads them from ``path``."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", str(stream), "-show_entries",
                          "packet=pts_time,duration_time", "-of", "json", str(path)],
                         capture_output=True, check=True).stdout
    rows = json.loads(out)["packets"]
    return [(float(p["pts_time"]), float(p["duration_time"]) if p.get("duration_time") not in (None, "N/A") else None)
            for p in rows]
