"""VobSub (DVD ``.idx``/``.sub``) re-timed by subpicture.

The ``.idx`` lists one ``timestamp: HH:MM:SS:mmm, filepos: …`` line per subpicture; the
``.sub`` holds the subpictures in MPEG program-stream packets. A subpicture's length is
not in the index: its control sequences (in the ``.sub``) say after how long it shows and
when it stops, in ticks of 1024/90000 s. So re-timing reads each subpicture's stop time,
applies the retimer's rules to [start, stop], writes the mapped start into the ``.idx``
and the mapped length into the stop command, in place (two bytes; the packets keep their
size, so every ``filepos`` stays valid). A dropped subpicture loses its index line; its
bytes stay in the ``.sub``, unreferenced. mkvmerge takes the pair back as it finds it.
"""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path

from ..errors import MediaError
from .retime import Retimer, RetimeReport

LINE_RE = re.compile(r"^timestamp:\s*(-?)(\d+):(\d+):(\d+):(\d+),\s*filepos:\s*([0-9a-fA-F]+)\s*$")
TICK = 1024 / 90000  # a control sequence's date unit
OPEN_ENDED = 0xFFFF  # "until the next subpicture", as ffmpeg writes it
LAST_SECONDS = 5.0  # an open-ended subpicture with none after it shows this long
ARGS = {0x00: 0, 0x01: 0, 0x02: 0, 0x03: 2, 0x04: 2, 0x05: 6, 0x06: 4}  # command -> argument bytes


def parse_time(match: re.Match) -> float:
    sign, h, m, s, ms = match.group(1), *map(int, match.groups()[1:5])
    value = h * 3600 + m * 60 + s + ms / 1000
    return -value if sign else value


def format_time(seconds: float) -> str:
    ms = max(0, round(seconds * 1000))
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}:{ms % 1000:03d}"


@dataclass
class Subpicture:
    """One index entry: its start (idx seconds), where its stop date lies in the ``.sub``, and that date."""

    start: float
    filepos: str
    line: int
    stop_at: tuple[int, int] | None  # file offsets of the stop date's two bytes
    show_ticks: int = 0  # date of the control sequence that starts the display
    stop_ticks: int | None = None


def spu_bytes(sub: bytes, pos: int) -> tuple[bytearray, list[int]]:
    """The subpicture unit whose first packet is at ``pos``, and the file offset of each of its bytes."""
    spu, where, stream, size = bytearray(), [], None, None
    while pos + 4 <= len(sub) and (size is None or len(spu) < size):
        if sub[pos:pos + 3] != b"\x00\x00\x01":
            raise MediaError(f"VobSub: no packet at byte {pos} of the .sub")
        code = sub[pos + 3]
        if code == 0xBA:  # pack header: MPEG-2 (14 bytes + stuffing) or MPEG-1 (12)
            pos += 14 + (sub[pos + 13] & 7) if sub[pos + 4] & 0xC0 == 0x40 else 12
            continue
        length = struct.unpack_from(">H", sub, pos + 4)[0]
        end = pos + 6 + length
        if code == 0xBD:
            body = pos + 9 + sub[pos + 8]
            if stream is None:
                stream = sub[body]
            if sub[body] == stream:
                spu += sub[body + 1:end]
                where += range(body + 1, end)
                if size is None and len(spu) >= 2:
                    size = struct.unpack_from(">H", spu)[0]
        pos = end
    if size is None or len(spu) < size:
        raise MediaError("VobSub: a subpicture runs past the end of the .sub")
    return spu[:size], where[:size]


def control_dates(spu: bytes) -> tuple[int, int | None, int | None]:
    """(show date, stop date, offset of the stop date in the unit) from the control sequences."""
    offset = struct.unpack_from(">H", spu, 2)[0]
    show, stop, stop_pos, seen = 0, None, None, set()
    while offset + 4 <= len(spu) and offset not in seen:
        seen.add(offset)
        date, following = struct.unpack_from(">HH", spu, offset)
        pos = offset + 4
        while pos < len(spu) and spu[pos] != 0xFF:
            command = spu[pos]
            if command not in ARGS:
                break  # an extended command (0x07): the rest of this sequence is not needed
            if command == 0x01:
                show = date
            elif command == 0x02:
                stop, stop_pos = date, offset
            pos += 1 + ARGS[command]
        offset = following
    return show, stop, stop_pos


def subpictures(idx: str, sub: bytes) -> list[Subpicture]:
    """Every index entry with its stop date (an idx-wide ``delay:`` is applied to the starts)."""
    out, delay = [], 0.0
    for n, line in enumerate(idx.splitlines()):
        if line.lower().startswith("delay:"):
            match = re.match(r"delay:\s*(-?)(\d+):(\d+):(\d+):(\d+)", line.strip(), re.I)
            if not match:
                raise MediaError(f"VobSub index: unreadable line {line!r}")
            delay = parse_time(match)
            continue
        match = LINE_RE.match(line)
        if not match:
            continue
        spu, where = spu_bytes(sub, int(match.group(6), 16))
        show, stop, stop_pos = control_dates(spu)
        at = None if stop_pos is None else (where[stop_pos], where[stop_pos + 1])
        out.append(Subpicture(parse_time(match) + delay, match.group(6), n, at, show, stop))
    return out


def _span(pics: list[Subpicture], i: int) -> tuple[float, float]:
    """[start, end] in seconds; an open-ended one lasts until the next starts."""
    pic = pics[i]
    if pic.stop_ticks is not None and pic.stop_ticks != OPEN_ENDED:
        return pic.start, pic.start + max(0, pic.stop_ticks - pic.show_ticks) * TICK
    following = pics[i + 1].start if i + 1 < len(pics) else pic.start + LAST_SECONDS
    return pic.start, max(following, pic.start)


def retime_vobsub(source: Path, target: Path, retimer: Retimer) -> RetimeReport:
    """Write ``target`` (an ``.idx``) and its ``.sub`` beside it, re-timed from ``source``'s pair."""
    sub_path = source.with_suffix(".sub")
    if not sub_path.is_file():
        raise MediaError(f"{source.name}: the VobSub index has no .sub beside it")
    idx = source.read_text(encoding="latin-1")
    sub = bytearray(sub_path.read_bytes())
    pics = subpictures(idx, bytes(sub))
    lines, report = idx.splitlines(), RetimeReport()
    for i, pic in enumerate(pics):
        placement = retimer.place(*_span(pics, i))
        report.add(placement)
        if placement is None:
            lines[pic.line] = None
            continue
        lines[pic.line] = f"timestamp: {format_time(placement.start)}, filepos: {pic.filepos}"
        if pic.stop_at is not None:
            ticks = min(OPEN_ENDED - 1, pic.show_ticks + round((placement.end - placement.start) / TICK))
            sub[pic.stop_at[0]], sub[pic.stop_at[1]] = ticks >> 8, ticks & 0xFF
    text = "\n".join("delay: 00:00:00:000" if (line or "").lower().startswith("delay:") else line
                     for line in lines if line is not None)
    target.write_text(text + "\n", encoding="latin-1")
    target.with_suffix(".sub").write_bytes(bytes(sub))
    return report
