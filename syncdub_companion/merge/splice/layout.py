"""What the splicer reads of the two files: the original's top-level layout and clusters, and
the one-track file's entry and clusters. Anything it cannot carry over raises SpliceUnsupported."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import BinaryIO

from .. import ebml as E

LEVEL1_COPIED = (E.CHAPTERS, E.ATTACHMENTS)
LEVEL1_DROPPED = (E.SEEK_HEAD, E.VOID, E.CRC32)
CLUSTER_HEAD_READ = 64


class SpliceUnsupported(Exception):
    """The files hold something the splicer does not handle; mux with mkvmerge instead."""


@dataclass
class Cluster:
    start: int  # file offset of the cluster's header
    length: int
    timestamp: int  # ticks


@dataclass
class BaseFile:
    ebml_header: tuple[int, int]
    doc_type_version: int = 1
    timestamp_scale: int = 1_000_000
    info: bytes = b""
    tracks: bytes = b""
    copied: list[E.Element] = field(default_factory=list)  # chapters and attachments, copied whole
    tags: list[bytes] = field(default_factory=list)  # payloads of the Tags elements
    cues: bytes | None = None
    segment_data: int = 0
    clusters: list[Cluster] = field(default_factory=list)


@dataclass
class TrackFile:
    timestamp_scale: int
    entry: bytes  # payload of its one TrackEntry
    track_number: int
    default_duration: int  # ns per frame, 0 when the track does not say
    clusters: list[E.Element]


def _top_level(fh: BinaryIO, file_size: int) -> tuple[E.Element, E.Element]:
    header = E.header_at(fh, 0)
    if header.id != E.EBML_HEADER:
        raise SpliceUnsupported("not a Matroska file")
    segment = E.header_at(fh, header.end)
    if segment.id != E.SEGMENT or segment.size == E.UNKNOWN_SIZE or segment.end > file_size:
        raise SpliceUnsupported("the segment has no known size (a live recording?)")
    return header, segment


def read_base(fh: BinaryIO, file_size: int) -> BaseFile:
    header, segment = _top_level(fh, file_size)
    if segment.end < file_size:
        raise SpliceUnsupported("more than one segment in the file")
    fields = dict(E.children(payload(fh, header)))
    if E.read_uint(fields.get(E.MAX_SIZE_LENGTH, b"\x08")) < 8:
        raise SpliceUnsupported("the file allows sizes shorter than the 8 bytes the splice writes")
    base = BaseFile((header.start, header.length), E.read_uint(fields.get(E.DOC_TYPE_VERSION, b"\x01")),
                    segment_data=segment.data)
    for child in E.children_in_file(fh, segment, file_size):
        if child.id == E.CLUSTER:
            base.clusters.append(_cluster(fh, child))
        elif child.id == E.INFO and not base.info:
            base.info = payload(fh, child)
        elif child.id == E.TRACKS and not base.tracks:
            base.tracks = payload(fh, child)
        elif child.id in (E.INFO, E.TRACKS):
            raise SpliceUnsupported("more than one Info or Tracks element")
        elif child.id == E.TAGS:
            base.tags.append(payload(fh, child))
        elif child.id == E.CUES:
            base.cues = payload(fh, child)
        elif child.id in LEVEL1_COPIED:
            base.copied.append(child)
        elif child.id not in LEVEL1_DROPPED:
            raise SpliceUnsupported(f"unknown top-level element {child.id:#x}")
    if not base.info or not base.tracks or not base.clusters:
        raise SpliceUnsupported("no Info, Tracks or clusters")
    if base.cues is not None:
        _check_cues(base.cues, {c.start - base.segment_data for c in base.clusters})
    base.timestamp_scale = timestamp_scale(base.info)
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


def _cluster(fh: BinaryIO, cluster: E.Element) -> Cluster:
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
    return Cluster(cluster.start, cluster.length, timestamp)


def read_track_file(fh: BinaryIO, file_size: int) -> TrackFile:
    _, segment = _top_level(fh, file_size)
    info = entries = None
    clusters = []
    for child in E.children_in_file(fh, segment, file_size):
        if child.id == E.INFO:
            info = payload(fh, child)
        elif child.id == E.TRACKS:
            entries = [v for k, v in E.children(payload(fh, child)) if k == E.TRACK_ENTRY]
        elif child.id == E.CLUSTER:
            clusters.append(child)
    if info is None or not entries or len(entries) != 1:
        raise SpliceUnsupported("the dub track file must hold exactly one track")
    fields = dict(E.children(entries[0]))
    if E.TRACK_NUMBER not in fields:
        raise SpliceUnsupported("the dub track has no track number")
    return TrackFile(timestamp_scale(info), entries[0], E.read_uint(fields[E.TRACK_NUMBER]),
                     E.read_uint(fields.get(E.DEFAULT_DURATION, b"\0")), clusters)


def payload(fh: BinaryIO, el: E.Element) -> bytes:
    fh.seek(el.data)
    return fh.read(el.size)


def timestamp_scale(info: bytes) -> int:
    for element_id, value in E.children(info):
        if element_id == E.TIMESTAMP_SCALE:
            return E.read_uint(value)
    return 1_000_000
