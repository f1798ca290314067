"""VobSub (DVD ``.idx``/``.sub``) re-timed through its index.

The ``.idx`` lists one ``timestamp: HH:MM:SS:mmm, filepos: …`` line per subpicture and
mkvmerge takes the pair back as it finds it, so re-timing rewrites those lines and leaves
the bitmaps in the ``.sub`` alone. A subpicture whose start lies in no segment of the map
is dropped (its line removed). Known limit: a subpicture's *length* is kept in the
``.sub`` packet itself (its stop command), so it is neither stretched by a speed change
(a PAL cue of 3 s ends 120 ms early) nor clipped at a cut; see docs/merge.md.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from ..errors import MediaError
from .retime import Placement, Retimer, RetimeReport

LINE_RE = re.compile(r"^timestamp:\s*(-?)(\d+):(\d+):(\d+):(\d+),\s*filepos:\s*([0-9a-fA-F]+)\s*$")


def parse_time(match: re.Match) -> float:
    sign, h, m, s, ms = match.group(1), *map(int, match.groups()[1:5])
    value = h * 3600 + m * 60 + s + ms / 1000
    return -value if sign else value


def format_time(seconds: float) -> str:
    ms = max(0, round(seconds * 1000))
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}:{ms % 1000:03d}"


def retime_idx_text(text: str, retimer: Retimer) -> tuple[str, RetimeReport]:
    """The ``.idx`` with each subpicture's start mapped (dropped outside the map)."""
    report, out, offset = RetimeReport(), [], 0.0
    for line in text.splitlines():
        if line.lower().startswith("delay:"):
            offset = _delay(line)  # an idx-wide delay applies to the lines after it
            out.append("delay: 00:00:00:000")
            continue
        match = LINE_RE.match(line)
        if not match:
            out.append(line)
            continue
        mapped = retimer.point(parse_time(match) + offset)
        report.add(None if mapped is None else Placement(mapped, mapped))
        if mapped is not None:
            out.append(f"timestamp: {format_time(mapped)}, filepos: {match.group(6)}")
    return "\n".join(out) + "\n", report


def _delay(line: str) -> float:
    match = re.match(r"delay:\s*(-?)(\d+):(\d+):(\d+):(\d+)", line.strip(), re.I)
    if not match:
        raise MediaError(f"VobSub index: unreadable line {line!r}")
    return parse_time(match)


def retime_vobsub(source: Path, target: Path, retimer: Retimer) -> RetimeReport:
    """Write ``target`` (an ``.idx``) and its ``.sub`` beside it, re-timed from ``source``'s pair."""
    sub = source.with_suffix(".sub")
    if not sub.is_file():
        raise MediaError(f"{source.name}: the VobSub index has no .sub beside it")
    text, report = retime_idx_text(source.read_text(encoding="latin-1"), retimer)
    target.write_text(text, encoding="latin-1")
    shutil.copyfile(sub, target.with_suffix(".sub"))
    return report
