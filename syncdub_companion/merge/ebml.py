"""The few EBML (Matroska) primitives the splicer needs: element headers, integers, masters.

A Matroska file is a tree of elements, each an ID, a size and a payload, where IDs and sizes
are variable-length integers (VINTs). Only what :mod:`.splice` reads or rewrites is here;
everything else is carried as opaque bytes.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO, Iterator

UNKNOWN_SIZE = -1

# Element IDs (with their VINT marker bits, as the spec writes them).
EBML_HEADER, DOC_TYPE_VERSION, MAX_SIZE_LENGTH = 0x1A45DFA3, 0x4287, 0x42F3
SEGMENT = 0x18538067
SEEK_HEAD, SEEK, SEEK_ID, SEEK_POSITION = 0x114D9B74, 0x4DBB, 0x53AB, 0x53AC
INFO, TIMESTAMP_SCALE, SEGMENT_UID, DATE_UTC, WRITING_APP = 0x1549A966, 0x2AD7B1, 0x73A4, 0x4461, 0x5741
TRACKS, TRACK_ENTRY, TRACK_NUMBER, TRACK_UID, TRACK_TYPE = 0x1654AE6B, 0xAE, 0xD7, 0x73C5, 0x83
DEFAULT_DURATION = 0x23E383
FLAG_DEFAULT, FLAG_FORCED, NAME, LANGUAGE, LANGUAGE_BCP47 = 0x88, 0x55AA, 0x536E, 0x22B59C, 0x22B59D
CHAPTERS, ATTACHMENTS = 0x1043A770, 0x1941A469
TAGS, TAG, TARGETS, TARGET_TYPE_VALUE, TAG_TRACK_UID = 0x1254C367, 0x7373, 0x63C0, 0x68CA, 0x63C5
SIMPLE_TAG, TAG_NAME, TAG_STRING = 0x67C8, 0x45A3, 0x4487
CUES, CUE_POINT, CUE_TRACK_POSITIONS, CUE_CLUSTER_POSITION = 0x1C53BB6B, 0xBB, 0xB7, 0xF1
CUE_CODEC_STATE, CUE_REFERENCE = 0xEA, 0xDB
CLUSTER, TIMESTAMP, POSITION, PREV_SIZE = 0x1F43B675, 0xE7, 0xA7, 0xAB
SIMPLE_BLOCK, BLOCK_GROUP, BLOCK, BLOCK_DURATION, REFERENCE_BLOCK = 0xA3, 0xA0, 0xA1, 0x9B, 0xFB
VOID, CRC32 = 0xEC, 0xBF

TRACK_TYPE_AUDIO = 2


class EbmlError(ValueError):
    """The bytes are not the EBML this module expects."""


@dataclass(frozen=True)
class Element:
    """An element in a file: ``start`` of its header, ``data`` where its payload begins."""

    id: int
    start: int
    data: int
    size: int  # payload bytes, or UNKNOWN_SIZE

    @property
    def end(self) -> int:
        return self.data + self.size

    @property
    def length(self) -> int:
        return self.end - self.start


def read_vint(buf: bytes, pos: int, keep_marker: bool = False) -> tuple[int, int]:
    """(value, length) of the VINT at ``buf[pos]``; all-ones sizes come back as UNKNOWN_SIZE."""
    if pos >= len(buf):
        raise EbmlError("truncated element header")
    first = buf[pos]
    length = 8 - first.bit_length() + 1
    if first == 0 or pos + length > len(buf):
        raise EbmlError(f"bad variable-length integer at byte {pos}")
    value = first if keep_marker else first & (0xFF >> length)
    for byte in buf[pos + 1:pos + length]:
        value = (value << 8) | byte
    if not keep_marker and value == (1 << (7 * length)) - 1:
        return UNKNOWN_SIZE, length
    return value, length


def encode_size(size: int, width: int | None = None) -> bytes:
    """A size VINT, as short as possible or exactly ``width`` bytes (for sizes patched later)."""
    length = width or next(n for n in range(1, 9) if size < (1 << (7 * n)) - 1)
    if size >= (1 << (7 * length)) - 1:
        raise EbmlError(f"size {size} does not fit in {length} bytes")
    return ((1 << (7 * length)) | size).to_bytes(length, "big")


def encode_id(element_id: int) -> bytes:
    return element_id.to_bytes((element_id.bit_length() + 7) // 8, "big")


def element(element_id: int, payload: bytes) -> bytes:
    return encode_id(element_id) + encode_size(len(payload)) + payload


def uint(element_id: int, value: int, width: int | None = None) -> bytes:
    return element(element_id, value.to_bytes(width, "big") if width else uint_bytes(value))


def uint_bytes(value: int) -> bytes:
    """An unsigned integer payload in as few bytes as it needs (at least one)."""
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


def string(element_id: int, value: str) -> bytes:
    return element(element_id, value.encode("utf-8"))


def read_uint(payload: bytes) -> int:
    return int.from_bytes(payload, "big")


def read_sint(payload: bytes) -> int:
    return int.from_bytes(payload, "big", signed=True)


def header_at(fh: BinaryIO, pos: int) -> Element:
    """The element whose header starts at ``pos`` in an open file."""
    fh.seek(pos)
    head = fh.read(12)
    element_id, id_len = read_vint(head, 0, keep_marker=True)
    if id_len > 4:
        raise EbmlError(f"bad element ID at byte {pos}")
    size, size_len = read_vint(head, id_len)
    return Element(element_id, pos, pos + id_len + size_len, size)


def children_in_file(fh: BinaryIO, parent: Element, file_size: int) -> Iterator[Element]:
    """The direct children of ``parent`` (the payload is not read)."""
    end = file_size if parent.size == UNKNOWN_SIZE else min(parent.end, file_size)
    pos = parent.data
    while pos < end:
        child = header_at(fh, pos)
        if child.size == UNKNOWN_SIZE:
            raise EbmlError(f"element {child.id:#x} at byte {pos} has an unknown size")
        if child.end > end:
            raise EbmlError(f"element {child.id:#x} at byte {pos} runs past its parent")
        yield child
        pos = child.end


def children(payload: bytes) -> list[tuple[int, bytes]]:
    """(id, payload) of every child of a master element already in memory."""
    out, pos = [], 0
    while pos < len(payload):
        element_id, id_len = read_vint(payload, pos, keep_marker=True)
        size, size_len = read_vint(payload, pos + id_len)
        start = pos + id_len + size_len
        if size == UNKNOWN_SIZE or start + size > len(payload):
            raise EbmlError(f"element {element_id:#x} runs past its parent")
        out.append((element_id, payload[start:start + size]))
        pos = start + size
    return out


def master(element_id: int, kids: list[tuple[int, bytes]]) -> bytes:
    """A master element from (id, payload) children; CRC-32s are dropped (they would be stale)."""
    return element(element_id, b"".join(element(k, v) for k, v in kids if k != CRC32))


def pack_int16(value: int) -> bytes:
    return struct.pack(">h", value)
