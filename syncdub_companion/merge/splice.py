"""Add one stream-copied track to a Matroska file without remuxing the file.

mkvmerge rewrites every byte of the original through user space; for a pure offset the only
new data is the dub's packets. Here the original's clusters are copied verbatim inside the
kernel (``copy_file_range``: no copy through this process, and a server-side copy on NFS 4.2
or a reflink on XFS/Btrfs), and the dub's blocks go into clusters of their own, each placed
right after the original cluster whose time span it covers, so a player reading the file
front to back, or after a seek, finds the dub audio where it expects it. Only the small
header elements are rebuilt: Info (new segment UID), Tracks (plus the dub's entry), Tags,
the SeekHead and the Cues (new cluster positions).

The track file must be a one-track Matroska file already on the film's timeline (what
:func:`..render.copy_with_offset` writes). Anything this module does not recognise in the
original raises :class:`SpliceUnsupported` before a byte is written, and the caller muxes
with mkvmerge instead.
"""
from __future__ import annotations

import errno
import logging
import os
import secrets
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO, Callable

from .. import __version__
from . import ebml as E

log = logging.getLogger(__name__)

LEVEL1_COPIED = (E.CHAPTERS, E.ATTACHMENTS)
LEVEL1_DROPPED = (E.SEEK_HEAD, E.VOID, E.CRC32)
CLUSTER_HEAD_READ = 64
MAX_RELATIVE_TICKS = 32000  # block timestamps are int16 ticks from their cluster's timestamp
MATROSKA_EPOCH = 978307200  # 2001-01-01T00:00:00 UTC, in Unix seconds
SEEK_ENTRY_IDS = (E.INFO, E.TRACKS, E.CHAPTERS, E.ATTACHMENTS, E.TAGS, E.CUES)
SEEK_HEAD_ROOM = 160  # six fixed-width Seek entries (126 bytes) with their header, plus a Void


class SpliceUnsupported(Exception):
    """The files hold something the splicer does not handle; mux with mkvmerge instead."""


@dataclass
class NewTrack:
    """How the added track is labelled."""

    language: str  # ISO 639-2/B
    language_bcp47: str | None
    name: str
    default: bool
    clear_audio_defaults: bool  # the dub becomes the only default audio track
    tags: dict[str, str]  # simple tags for the track (TargetTypeValue 50)


@dataclass
class _Cluster:
    start: int  # file offset of the cluster's header
    length: int
    timestamp: int  # ticks


@dataclass
class _Base:
    ebml_header: tuple[int, int]
    doc_type_version: int = 1
    timestamp_scale: int = 1_000_000
    info: bytes = b""
    tracks: bytes = b""
    copied: list[tuple[int, int]] = field(default_factory=list)  # (offset, length) of chapters etc.
    tags: list[bytes] = field(default_factory=list)  # payloads of the Tags elements
    cues: bytes | None = None
    segment_data: int = 0
    clusters: list[_Cluster] = field(default_factory=list)


@dataclass
class _Dub:
    timestamp_scale: int
    entry: bytes  # payload of its one TrackEntry
    track_number: int
    default_duration: int  # ns per frame, 0 when the track does not say
    clusters: list[E.Element]


def splice_track(base_path: Path, track_path: Path, output: Path, track: NewTrack, delay_ms: int = 0,
                 progress: Callable[[float], None] | None = None) -> None:
    """Write ``output``: every stream of ``base_path`` plus the one track of ``track_path``,
    played ``delay_ms`` later (what would start before 0 is dropped, as mkvmerge --sync does).

    Raises SpliceUnsupported (nothing written) when either file has a layout this module
    does not handle, and OSError (ENOSPC included) from writing.
    """
    with open(base_path, "rb") as base_fh, open(track_path, "rb") as dub_fh:
        try:
            base = _read_base(base_fh, os.fstat(base_fh.fileno()).st_size)
            dub = _read_dub(dub_fh, os.fstat(dub_fh.fileno()).st_size)
        except E.EbmlError as exc:
            raise SpliceUnsupported(str(exc)) from None
        number, uid = _new_track_ids(base.tracks)
        if base.doc_type_version < 4:  # LanguageBCP47 came with Matroska v4; older readers skip it anyway
            track = replace(track, language_bcp47=None)
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            shift = round(delay_ms * 1_000_000 / base.timestamp_scale)
            _Writer(fd, base_fh, dub_fh, base, dub, shift, progress).write(
                _info(base.info), _tracks(base.tracks, dub, track, number, uid),
                (base.tags, track.tags, uid), number)
        finally:
            os.close(fd)


# --- reading ------------------------------------------------------------------------


def _top_level(fh: BinaryIO, file_size: int) -> tuple[E.Element, E.Element]:
    header = E.header_at(fh, 0)
    if header.id != E.EBML_HEADER:
        raise SpliceUnsupported("not a Matroska file")
    segment = E.header_at(fh, header.end)
    if segment.id != E.SEGMENT or segment.size == E.UNKNOWN_SIZE or segment.end > file_size:
        raise SpliceUnsupported("the segment has no known size (a live recording?)")
    return header, segment


def _read_base(fh: BinaryIO, file_size: int) -> _Base:
    header, segment = _top_level(fh, file_size)
    if segment.end < file_size:
        raise SpliceUnsupported("more than one segment in the file")
    fields = dict(E.children(_payload(fh, header)))
    if E.read_uint(fields.get(E.MAX_SIZE_LENGTH, b"\x08")) < 8:
        raise SpliceUnsupported("the file allows sizes shorter than the 8 bytes the splice writes")
    base = _Base((header.start, header.length), _doc_type_version(_payload(fh, header)), segment_data=segment.data)
    for child in E.children_in_file(fh, segment, file_size):
        if child.id == E.CLUSTER:
            base.clusters.append(_cluster(fh, child))
        elif child.id in (E.INFO, E.TRACKS):
            if getattr(base, "info" if child.id == E.INFO else "tracks"):
                raise SpliceUnsupported("more than one Info or Tracks element")
            setattr(base, "info" if child.id == E.INFO else "tracks", _payload(fh, child))
        elif child.id == E.TAGS:
            base.tags.append(_payload(fh, child))
        elif child.id == E.CUES:
            base.cues = _payload(fh, child)
        elif child.id in LEVEL1_COPIED:
            base.copied.append((child.start, child.length))
        elif child.id not in LEVEL1_DROPPED:
            raise SpliceUnsupported(f"unknown top-level element {child.id:#x}")
    if not base.info or not base.tracks or not base.clusters:
        raise SpliceUnsupported("no Info, Tracks or clusters")
    if base.cues is not None:
        _check_cues(base.cues, {c.start - base.segment_data for c in base.clusters})
    base.timestamp_scale = _timestamp_scale(base.info)
    return base


def _check_cues(cues: bytes, cluster_starts: set[int]) -> None:
    """Cues the splicer can move: each names a cluster start, and none points elsewhere."""
    for element_id, point in E.children(cues):
        for kind, positions in E.children(point) if element_id == E.CUE_POINT else []:
            for field_id, value in E.children(positions) if kind == E.CUE_TRACK_POSITIONS else []:
                if field_id == E.CUE_REFERENCE or (field_id == E.CUE_CODEC_STATE and E.read_uint(value)):
                    raise SpliceUnsupported("cues that refer to codec states or other cues")
                if field_id == E.CUE_CLUSTER_POSITION and E.read_uint(value) not in cluster_starts:
                    raise SpliceUnsupported("a cue that points where no cluster starts")


def _cluster(fh: BinaryIO, cluster: E.Element) -> _Cluster:
    """A cluster's timestamp; positional children (stale once clusters move) are refused."""
    fh.seek(cluster.data)
    head = fh.read(min(CLUSTER_HEAD_READ, cluster.size))
    pos, timestamp = 0, None
    while pos < len(head):
        try:
            element_id, id_len = E.read_vint(head, pos, keep_marker=True)
            size, size_len = E.read_vint(head, pos + id_len)
        except E.EbmlError:
            break  # the head read ended inside a block header: the timestamp comes first anyway
        start = pos + id_len + size_len
        if element_id in (E.POSITION, E.PREV_SIZE):
            raise SpliceUnsupported("clusters carry their own positions")
        if element_id == E.TIMESTAMP and start + size <= len(head):
            timestamp = E.read_uint(head[start:start + size])
        if element_id in (E.SIMPLE_BLOCK, E.BLOCK_GROUP) or size == E.UNKNOWN_SIZE:
            break
        pos = start + size
    if timestamp is None:
        raise SpliceUnsupported("a cluster without a leading timestamp")
    return _Cluster(cluster.start, cluster.length, timestamp)


def _read_dub(fh: BinaryIO, file_size: int) -> _Dub:
    _, segment = _top_level(fh, file_size)
    info = entries = None
    clusters = []
    for child in E.children_in_file(fh, segment, file_size):
        if child.id == E.INFO:
            info = _payload(fh, child)
        elif child.id == E.TRACKS:
            entries = [v for k, v in E.children(_payload(fh, child)) if k == E.TRACK_ENTRY]
        elif child.id == E.CLUSTER:
            clusters.append(child)
    if info is None or not entries or len(entries) != 1:
        raise SpliceUnsupported("the dub track file must hold exactly one track")
    fields = dict(E.children(entries[0]))
    return _Dub(_timestamp_scale(info), entries[0], E.read_uint(fields[E.TRACK_NUMBER]),
                E.read_uint(fields.get(E.DEFAULT_DURATION, b"\0")), clusters)


def _payload(fh: BinaryIO, el: E.Element) -> bytes:
    fh.seek(el.data)
    return fh.read(el.size)


def _doc_type_version(header: bytes) -> int:
    return next((E.read_uint(v) for k, v in E.children(header) if k == E.DOC_TYPE_VERSION), 1)


def _timestamp_scale(info: bytes) -> int:
    for element_id, value in E.children(info):
        if element_id == E.TIMESTAMP_SCALE:
            return E.read_uint(value)
    return 1_000_000


# --- the rebuilt header elements ---------------------------------------------------------


def _info(info: bytes) -> bytes:
    """The original's Info with a fresh segment UID and date: this is a new file."""
    date_ns = ((int(time.time()) - MATROSKA_EPOCH) * 10**9).to_bytes(8, "big", signed=True)  # whole seconds, as mkvmerge
    kids = []
    for element_id, value in E.children(info):
        if element_id == E.SEGMENT_UID:
            value = secrets.token_bytes(16)
        elif element_id == E.DATE_UTC:
            value = date_ns
        elif element_id == E.WRITING_APP:
            value = f"SyncDub Companion {__version__} (splice)".encode()
        kids.append((element_id, value))
    return E.master(E.INFO, kids)


def _new_track_ids(tracks: bytes) -> tuple[int, int]:
    numbers, uids = set(), set()
    for element_id, entry in E.children(tracks):
        if element_id == E.TRACK_ENTRY:
            fields = dict(E.children(entry))
            numbers.add(E.read_uint(fields.get(E.TRACK_NUMBER, b"\0")))
            uids.add(E.read_uint(fields.get(E.TRACK_UID, b"\0")))
    uid = 0
    while uid == 0 or uid in uids:
        uid = secrets.randbits(64)
    return max(numbers, default=0) + 1, uid


def _tracks(tracks: bytes, dub: _Dub, track: NewTrack, number: int, uid: int) -> bytes:
    kids = []
    for element_id, entry in E.children(tracks):
        if element_id == E.TRACK_ENTRY and track.clear_audio_defaults and _is_audio(entry):
            entry = _set_fields(entry, {E.FLAG_DEFAULT: b"\0"})
        kids.append((element_id, entry))
    labels = {E.TRACK_NUMBER: _uint_bytes(number), E.TRACK_UID: uid.to_bytes(8, "big"),
              E.FLAG_DEFAULT: bytes([int(track.default)]), E.FLAG_FORCED: b"\0",
              E.NAME: track.name.encode("utf-8"), E.LANGUAGE: track.language.encode("ascii")}
    if track.language_bcp47:
        labels[E.LANGUAGE_BCP47] = track.language_bcp47.encode("ascii")
    entry = dub.entry if track.language_bcp47 else _drop_fields(dub.entry, {E.LANGUAGE_BCP47})
    kids.append((E.TRACK_ENTRY, _set_fields(entry, labels)))
    return E.master(E.TRACKS, kids)


def _is_audio(entry: bytes) -> bool:
    return any(k == E.TRACK_TYPE and E.read_uint(v) == E.TRACK_TYPE_AUDIO for k, v in E.children(entry))


def _set_fields(master_payload: bytes, values: dict[int, bytes]) -> bytes:
    """A master's payload with ``values`` replacing (or appended as) those children."""
    kids, seen = [], set()
    for element_id, value in E.children(master_payload):
        if element_id in values:
            value = values[element_id]
            seen.add(element_id)
        if element_id != E.CRC32:
            kids.append((element_id, value))
    kids += [(k, v) for k, v in values.items() if k not in seen]
    return b"".join(E.element(k, v) for k, v in kids)


def _drop_fields(master_payload: bytes, ids: set[int]) -> bytes:
    return b"".join(E.element(k, v) for k, v in E.children(master_payload) if k not in ids)


def _uint_bytes(value: int) -> bytes:
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


def _tags(base_tags: list[bytes], values: dict[str, str], uid: int) -> bytes:
    """The original's tags, plus ``values`` aimed at the new track."""
    kids = [(k, v) for payload in base_tags for k, v in E.children(payload) if k != E.CRC32]
    simple = b"".join(E.element(E.SIMPLE_TAG, E.string(E.TAG_NAME, k) + E.string(E.TAG_STRING, v))
                      for k, v in values.items())
    targets = E.element(E.TARGETS, E.uint(E.TARGET_TYPE_VALUE, 50) + E.uint(E.TAG_TRACK_UID, uid))
    kids.append((E.TAG, targets + simple))
    return E.master(E.TAGS, kids)


class _Statistics:
    """What mkvmerge's statistics tags say of a track, counted over the blocks written."""

    def __init__(self, frame_ticks: float):
        # one frame's duration from the track's default duration; without one, block spacing tells
        self.frame_ticks, self.measured = frame_ticks, not frame_ticks
        self.frames = self.bytes = self.end = 0
        self.first: int | None = None  # ticks
        self.previous: tuple[int, int] | None = None  # (ticks, frames) of the block before

    def add(self, ticks: int, rest: bytes, duration: int | None) -> None:
        frames, payload = _frames(rest)
        self.frames += frames
        self.bytes += payload
        self.first = ticks if self.first is None else min(self.first, ticks)
        if self.measured and self.previous and ticks > self.previous[0]:
            self.frame_ticks = (ticks - self.previous[0]) / self.previous[1]
        self.previous = (ticks, frames)
        self.end = max(self.end, ticks + (duration if duration is not None else round(frames * self.frame_ticks)))

    def tags(self, scale: int) -> dict[str, str]:
        ns = (self.end - (self.first or 0)) * scale
        seconds, fraction = divmod(ns, 10**9)
        hours, rest = divmod(seconds, 3600)
        return {"BPS": str(round(self.bytes * 8 * 10**9 / ns) if ns else 0),
                "DURATION": f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}.{fraction:09d}",
                "NUMBER_OF_FRAMES": str(self.frames), "NUMBER_OF_BYTES": str(self.bytes),
                "_STATISTICS_WRITING_APP": f"SyncDub Companion {__version__}",
                "_STATISTICS_WRITING_DATE_UTC": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
                "_STATISTICS_TAGS": "BPS DURATION NUMBER_OF_FRAMES NUMBER_OF_BYTES"}


def _frames(rest: bytes) -> tuple[int, int]:
    """(frames, frame bytes) of a block, from its flags byte on; lace headers are not frame bytes."""
    lacing = (rest[0] >> 1) & 3
    if lacing == 0:
        return 1, len(rest) - 1
    count, pos = rest[1] + 1, 2
    if lacing == 1:  # Xiph: each size but the last as a run of 255s and a final byte
        for _ in range(count - 1):
            while rest[pos] == 255:
                pos += 1
            pos += 1
    elif lacing == 3:  # EBML: the first size, then count - 2 signed differences
        for _ in range(count - 1):
            pos += E.read_vint(rest, pos)[1]
    return count, len(rest) - pos


# --- writing -------------------------------------------------------------------------------


class _Writer:
    """Lays the new file out front to back; the sizes and positions that are only known at the
    end (the segment's size, the SeekHead) are fixed-width placeholders patched last."""

    def __init__(self, fd: int, base_fh: BinaryIO, dub_fh: BinaryIO, base: _Base, dub: _Dub, shift: int,
                 progress: Callable[[float], None] | None):
        self.fd, self.base_fh, self.dub_fh, self.base, self.dub = fd, base_fh, dub_fh, base, dub
        self.shift = shift
        self.progress = progress
        self.pos = 0
        self.copier = _KernelCopy(base_fh.fileno(), fd)
        self.positions: dict[int, int] = {}  # element id -> segment-relative position
        self.cluster_moves: dict[int, int] = {}  # old -> new segment-relative cluster position

    def write(self, info: bytes, tracks: bytes, tags: tuple[list[bytes], dict[str, str], int], dub_number: int) -> None:
        self._copy(*self.base.ebml_header)
        segment_size_at = self.pos + len(E.encode_id(E.SEGMENT))
        self._put(E.encode_id(E.SEGMENT) + b"\x01" + bytes(7))  # 8-byte size, patched below
        self.segment_data = self.pos
        seek_head_at = self.pos
        self._put(_void(SEEK_HEAD_ROOM))  # the SeekHead goes here once the positions are known
        self._level1(E.INFO, info)
        self._level1(E.TRACKS, tracks)
        for offset, length in self.base.copied:
            self.positions.setdefault(E.header_at(self.base_fh, offset).id, self.pos - self.segment_data)
            self._copy(offset, length)
        statistics = self._clusters(dub_number)
        if self.base.cues is not None:
            self._level1(E.CUES, self._cues())
        base_tags, values, uid = tags
        # last, because the new track's statistics are only known now; the SeekHead finds them
        self._level1(E.TAGS, _tags(base_tags, {**values, **statistics.tags(self.base.timestamp_scale)}, uid))
        os.pwrite(self.fd, E.encode_size(self.pos - self.segment_data, width=8), segment_size_at)
        seek_head = _seek_head(self.positions)
        os.pwrite(self.fd, seek_head + _void(SEEK_HEAD_ROOM - len(seek_head)), seek_head_at)

    def _put(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]
        self.pos += len(data)

    def _copy(self, offset: int, length: int) -> None:
        self.copier.copy(offset, length)
        self.pos += length

    def _level1(self, element_id: int, data: bytes) -> None:
        self.positions[element_id] = self.pos - self.segment_data
        self._put(data)

    def _clusters(self, dub_number: int) -> _Statistics:
        blocks = _DubBlocks(self.dub_fh, self.dub, self.base.timestamp_scale, self.shift)
        number_vint = E.encode_size(dub_number)
        statistics = _Statistics(self.dub.default_duration / self.base.timestamp_scale)
        clusters = self.base.clusters
        total = sum(c.length for c in clusters)
        done = 0
        for i, cluster in enumerate(clusters):
            self.cluster_moves[cluster.start - self.base.segment_data] = self.pos - self.segment_data
            self._copy(cluster.start, cluster.length)
            until = clusters[i + 1].timestamp if i + 1 < len(clusters) else None
            for dub_cluster in _pack_clusters(blocks.take_until(until), number_vint, statistics):
                self._put(dub_cluster)
            done += cluster.length
            if self.progress:
                self.progress(done / total)
        return statistics

    def _cues(self) -> bytes:
        points = []
        for element_id, point in E.children(self.base.cues):
            if element_id == E.CUE_POINT:
                point = b"".join(E.element(k, self._moved_positions(v) if k == E.CUE_TRACK_POSITIONS else v)
                                 for k, v in E.children(point) if k != E.CRC32)
            points.append((element_id, point))
        return E.master(E.CUES, points)

    def _moved_positions(self, positions: bytes) -> bytes:
        kids = []
        for element_id, value in E.children(positions):
            if element_id == E.CUE_CLUSTER_POSITION:
                value = _uint_bytes(self.cluster_moves[E.read_uint(value)])
            kids.append((element_id, value))
        return b"".join(E.element(k, v) for k, v in kids)


def _seek_head(positions: dict[int, int]) -> bytes:
    entries = b"".join(E.element(E.SEEK, E.element(E.SEEK_ID, E.encode_id(i))
                                 + E.uint(E.SEEK_POSITION, positions[i], width=8))
                       for i in SEEK_ENTRY_IDS if i in positions)
    return E.element(E.SEEK_HEAD, entries)


def _void(length: int) -> bytes:
    """A Void element exactly ``length`` bytes long (at least 2)."""
    for size_len in range(1, 9):
        payload = length - 1 - size_len
        if 0 <= payload < (1 << (7 * size_len)) - 1:
            return E.encode_id(E.VOID) + E.encode_size(payload, width=size_len) + bytes(payload)
    raise E.EbmlError(f"no Void element is {length} bytes long")


class _DubBlocks:
    """The track file's blocks in order, as (ticks on the original's timestamp scale, SimpleBlock
    or BlockGroup, the block's bytes after its track number and timestamp, the group's other
    children rescaled)."""

    def __init__(self, fh: BinaryIO, dub: _Dub, scale: int, shift: int):
        self.fh, self.dub, self.shift = fh, dub, shift
        self.ratio = dub.timestamp_scale / scale
        self.source = self._with_ends()
        self.peeked = None

    def take_until(self, limit: int | None) -> list[tuple[int, int, bytes, list[tuple[int, bytes]]]]:
        """Blocks that end by ``limit`` ticks (all that are left when None).

        Grouping by end rather than start puts the block still playing when an original
        cluster begins after that cluster, so a player that seeks there finds its audio.
        """
        out = []
        while True:
            if self.peeked is None:
                self.peeked = next(self.source, None)
                if self.peeked is None:
                    return out
            end, block = self.peeked
            if limit is not None and end > limit:
                return out
            out.append(block)
            self.peeked = None

    def _with_ends(self):
        """(end, block) pairs: a block ends where the next one starts."""
        previous = None
        for block in self._blocks():
            if previous is not None:
                yield block[0], previous
            previous = block
        if previous is not None:
            yield previous[0] + 1, previous

    def _blocks(self):
        for cluster in self.dub.clusters:
            self.fh.seek(cluster.data)
            kids = E.children(self.fh.read(cluster.size))
            cluster_time = next((E.read_uint(v) for k, v in kids if k == E.TIMESTAMP), None)
            if cluster_time is None:
                raise E.EbmlError("a dub cluster without a timestamp")
            for element_id, value in kids:
                if element_id == E.SIMPLE_BLOCK:
                    yield self._block(cluster_time, value, E.SIMPLE_BLOCK, [])
                elif element_id == E.BLOCK_GROUP:
                    group = E.children(value)
                    block = next((v for k, v in group if k == E.BLOCK), None)
                    if block is None:
                        raise E.EbmlError("a block group without a block")
                    yield self._block(cluster_time, block, E.BLOCK_GROUP, self._rescaled(group))

    def _block(self, cluster_time: int, payload: bytes, kind: int, group: list[tuple[int, bytes]]):
        number, length = E.read_vint(payload, 0)
        if number != self.dub.track_number:
            raise E.EbmlError(f"a block of track {number} in a one-track file of track {self.dub.track_number}")
        relative = E.read_sint(payload[length:length + 2])
        ticks = round((cluster_time + relative) * self.ratio) + self.shift
        rest = payload[length + 2:]
        return ticks, kind, rest, group

    def _rescaled(self, group: list[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
        out = []
        for element_id, value in group:
            if element_id == E.BLOCK_DURATION:
                value = _uint_bytes(round(E.read_uint(value) * self.ratio))
            elif element_id == E.REFERENCE_BLOCK:
                value = round(E.read_sint(value) * self.ratio).to_bytes(8, "big", signed=True)
            if element_id != E.CRC32:
                out.append((element_id, value))
        return out


def _pack_clusters(blocks: list, number_vint: bytes, statistics: _Statistics) -> list[bytes]:
    """Blocks in clusters of their own, each spanning less than an int16 of ticks."""
    out, current, cluster_time = [], [], None
    for ticks, kind, rest, group in blocks:
        if ticks < 0:
            continue  # it would start before the film
        statistics.add(ticks, rest, next((E.read_uint(v) for k, v in group if k == E.BLOCK_DURATION), None))
        if cluster_time is None or ticks - cluster_time > MAX_RELATIVE_TICKS:
            if current:
                out.append(_cluster_bytes(cluster_time, current))
            cluster_time, current = ticks, []
        current.append(_block_bytes(number_vint, ticks - cluster_time, kind, rest, group))
    if current:
        out.append(_cluster_bytes(cluster_time, current))
    return out


def _block_bytes(number_vint: bytes, relative: int, kind: int, rest: bytes,
                 group: list[tuple[int, bytes]]) -> bytes:
    head = number_vint + E.pack_int16(relative)
    if kind == E.SIMPLE_BLOCK:
        return E.element(E.SIMPLE_BLOCK, head + rest)
    return E.element(E.BLOCK_GROUP, b"".join(E.element(E.BLOCK, head + rest) if k == E.BLOCK else E.element(k, v)
                                              for k, v in group))


def _cluster_bytes(cluster_time: int, blocks: list[bytes]) -> bytes:
    return E.element(E.CLUSTER, E.uint(E.TIMESTAMP, cluster_time) + b"".join(blocks))


class _KernelCopy:
    """Copies byte ranges between two files inside the kernel: copy_file_range, else sendfile,
    else (a filesystem that supports neither) plain reads and writes."""

    UNSUPPORTED = (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL)

    def __init__(self, src: int, dst: int):
        self.src, self.dst = src, dst
        self.methods = [self._copy_file_range, self._sendfile, self._read_write]

    def copy(self, offset: int, length: int) -> None:
        while length:
            try:
                done = self.methods[0](offset, length)
            except OSError as exc:
                if exc.errno in self.UNSUPPORTED and len(self.methods) > 1:
                    log.debug("in-kernel copy unavailable (%s); trying the next way", exc)
                    self.methods.pop(0)
                    continue
                raise
            if done == 0:
                raise OSError(errno.EIO, "the original ended early while copying it")
            offset += done
            length -= done

    def _copy_file_range(self, offset: int, length: int) -> int:
        return os.copy_file_range(self.src, self.dst, length, offset)

    def _sendfile(self, offset: int, length: int) -> int:
        return os.sendfile(self.dst, self.src, offset, length)

    def _read_write(self, offset: int, length: int) -> int:
        data = os.pread(self.src, min(length, 8 << 20), offset)
        view = memoryview(data)
        while view:
            view = view[os.write(self.dst, view):]
        return len(data)
