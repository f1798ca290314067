"""PGS (HDMV Presentation Graphic Stream, Blu-ray ``.sup``): reading and writing segments.

A ``.sup`` file is a run of segments, each ``"PG"``, PTS and DTS (90 kHz, 32 bit), a type
byte and a 16-bit size, then the payload. Segments form *display sets*, each ending with
an END segment: a presentation composition (PCS: which objects show where), window
definitions (WDS), palettes (PDS) and objects (ODS: run-length coded bitmaps, split over
several segments when large). A display set either starts an *epoch* (state 0x80: a new
screen, everything defined afresh) or updates the one before it (state 0x00), so a set
can lean on palettes and objects defined earlier in its epoch.

No maintained Python library writes PGS; this module covers what re-timing needs, plus
the run-length coder, so tests (and plugins) can build a stream from bitmaps.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

from ..errors import MediaError

PDS, ODS, PCS, WDS, END = 0x14, 0x15, 0x16, 0x17, 0x80
EPOCH_START, NORMAL = 0x80, 0x00
CLOCK = 90000
_HEADER = struct.Struct(">2sIIBH")


@dataclass
class Segment:
    """One segment: its type, its PTS and DTS in 90 kHz ticks, and its payload."""

    kind: int
    pts: int
    dts: int
    data: bytes

    def encode(self) -> bytes:
        return _HEADER.pack(b"PG", self.pts & 0xFFFFFFFF, self.dts & 0xFFFFFFFF, self.kind, len(self.data)) + self.data


@dataclass
class CompositionObject:
    """An object placed on screen by a PCS; ``crop`` is (x, y, width, height) or None."""

    object_id: int
    window_id: int
    x: int
    y: int
    crop: tuple[int, int, int, int] | None = None


@dataclass
class Composition:
    """A PCS payload."""

    width: int
    height: int
    frame_rate: int
    number: int
    state: int
    palette_update: bool
    palette_id: int
    objects: list[CompositionObject] = field(default_factory=list)

    @classmethod
    def decode(cls, data: bytes) -> "Composition":
        if len(data) < 11:
            raise MediaError("PGS: a composition segment is too short")
        w, h, rate, number, state, update, palette, count = struct.unpack_from(">HHBHBBBB", data)
        objects, pos = [], 11
        for _ in range(count):
            oid, wid, flags, x, y = struct.unpack_from(">HBBHH", data, pos)
            pos += 8
            crop = None
            if flags & 0x40:
                crop = struct.unpack_from(">HHHH", data, pos)
                pos += 8
            objects.append(CompositionObject(oid, wid, x, y, crop))
        return cls(w, h, rate, number, state, bool(update & 0x80), palette, objects)

    def encode(self) -> bytes:
        out = struct.pack(">HHBHBBBB", self.width, self.height, self.frame_rate, self.number & 0xFFFF,
                          self.state, 0x80 if self.palette_update else 0, self.palette_id, len(self.objects))
        for o in self.objects:
            out += struct.pack(">HBBHH", o.object_id, o.window_id, 0x40 if o.crop else 0, o.x, o.y)
            if o.crop:
                out += struct.pack(">HHHH", *o.crop)
        return out


@dataclass
class DisplaySet:
    """The segments from one PCS to its END; ``pts`` is the PCS's."""

    segments: list[Segment]

    @property
    def pts(self) -> int:
        return self.segments[0].pts

    @property
    def composition(self) -> Composition:
        return Composition.decode(self.segments[0].data)

    def of(self, kind: int) -> list[Segment]:
        return [s for s in self.segments if s.kind == kind]


def read_segments(data: bytes) -> list[Segment]:
    """Every segment of a ``.sup``; MediaError at the first broken header."""
    out, pos = [], 0
    while pos < len(data):
        if len(data) - pos < _HEADER.size:
            raise MediaError(f"PGS: truncated segment header at byte {pos}")
        magic, pts, dts, kind, size = _HEADER.unpack_from(data, pos)
        if magic != b"PG":
            raise MediaError(f"PGS: no segment at byte {pos} (not a .sup stream)")
        start = pos + _HEADER.size
        if start + size > len(data):
            raise MediaError(f"PGS: segment at byte {pos} runs past the end")
        out.append(Segment(kind, pts, dts, data[start:start + size]))
        pos = start + size
    return out


def read_display_sets(data: bytes) -> list[DisplaySet]:
    """The display sets of a ``.sup``; segments before the first PCS or after the last END are ignored."""
    sets, current = [], None
    for seg in read_segments(data):
        if seg.kind == PCS:
            current = [seg]
        elif current is not None:
            current.append(seg)
            if seg.kind == END:
                sets.append(DisplaySet(current))
                current = None
    return sets


def write_display_sets(sets: list[DisplaySet]) -> bytes:
    return b"".join(seg.encode() for ds in sets for seg in ds.segments)


# --- run-length coded bitmaps (ODS) --------------------------------------------------------

def encode_rle(rows: list[list[int]]) -> bytes:
    """Palette indices, row by row, in PGS run-length code (each row ends with 00 00)."""
    out = bytearray()
    for row in rows:
        i = 0
        while i < len(row):
            color, run = row[i], 1
            while i + run < len(row) and row[i + run] == color and run < 16383:
                run += 1
            out += _run(color, run)
            i += run
        out += b"\x00\x00"
    return bytes(out)


def _run(color: int, run: int) -> bytes:
    if color != 0 and run <= 2:
        return bytes([color]) * run
    long = 0x40 if run > 63 else 0
    head = bytes([0, (0x80 if color else 0) | long | (run >> 8 if long else run)])
    return head + (bytes([run & 0xFF]) if long else b"") + (bytes([color]) if color else b"")


def decode_rle(data: bytes, width: int, height: int) -> list[list[int]]:
    """The inverse of :func:`encode_rle`; MediaError when the rows do not match the size."""
    rows, row, pos = [], [], 0
    while pos < len(data):
        byte = data[pos]
        pos += 1
        if byte:
            row.append(byte)
            continue
        flags = data[pos]
        pos += 1
        if flags == 0:
            rows.append(row)
            row = []
            continue
        run = flags & 0x3F
        if flags & 0x40:
            run = (run << 8) | data[pos]
            pos += 1
        color = 0
        if flags & 0x80:
            color = data[pos]
            pos += 1
        row += [color] * run
    if len(rows) != height or any(len(r) != width for r in rows):
        raise MediaError(f"PGS: bitmap rows do not make {width}x{height}")
    return rows


def object_segments(object_id: int, rows: list[list[int]], pts: int, version: int = 0,
                    chunk: int = 65000) -> list[Segment]:
    """ODS segments for a bitmap; payloads over ``chunk`` bytes continue in further segments."""
    rle = encode_rle(rows)
    height, width = len(rows), len(rows[0]) if rows else 0
    body = struct.pack(">HH", width, height) + rle
    length = len(body).to_bytes(3, "big")
    pieces = [body[i:i + chunk] for i in range(0, len(body), chunk)] or [b""]
    out = []
    for n, piece in enumerate(pieces):
        flags = (0x80 if n == 0 else 0) | (0x40 if n == len(pieces) - 1 else 0)
        head = struct.pack(">HBB", object_id, version, flags) + (length if n == 0 else b"")
        out.append(Segment(ODS, pts, 0, head + piece))
    return out


def object_bitmap(fragments: list[Segment]) -> list[list[int]]:
    """The bitmap of one object from its ODS segments (first to last)."""
    first = fragments[0].data
    width, height = struct.unpack_from(">HH", first, 7)
    rle = first[11:] + b"".join(f.data[4:] for f in fragments[1:])
    return decode_rle(rle, width, height)


def palette_segment(palette_id: int, entries: dict[int, tuple[int, int, int, int]], pts: int,
                    version: int = 0) -> Segment:
    """A PDS: index -> (Y, Cr, Cb, alpha)."""
    body = bytes([palette_id, version]) + b"".join(bytes([i, *ycrcba]) for i, ycrcba in sorted(entries.items()))
    return Segment(PDS, pts, 0, body)


def window_segment(windows: list[tuple[int, int, int, int, int]], pts: int) -> Segment:
    """A WDS: (window id, x, y, width, height) each."""
    body = bytes([len(windows)]) + b"".join(struct.pack(">BHHHH", *w) for w in windows)
    return Segment(WDS, pts, 0, body)
