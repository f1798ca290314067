"""Lays the spliced file out front to back."""
from __future__ import annotations

import os
from typing import BinaryIO, Callable

from .. import ebml as E
from .blocks import TrackBlocks, TrackStatistics, pack_clusters
from .headers import tags_element
from .kernelcopy import KernelCopy, write_all
from .layout import BaseFile, TrackFile

SEEK_ENTRY_IDS = (E.INFO, E.TRACKS, E.CHAPTERS, E.ATTACHMENTS, E.TAGS, E.CUES)
SEEK_HEAD_ROOM = 160  # six fixed-width Seek entries (126 bytes) with their header, plus a Void


class Writer:
    """Lays the new file out front to back; the sizes and positions that are only known at the
    end (the segment's size, the SeekHead) are fixed-width placeholders patched last."""

    def __init__(self, fd: int, base_fh: BinaryIO, dub_fh: BinaryIO, base: BaseFile, dub: TrackFile, shift: int,
                 progress: Callable[[float], None] | None):
        self.fd, self.base_fh, self.dub_fh, self.base, self.dub = fd, base_fh, dub_fh, base, dub
        self.shift = shift
        self.progress = progress
        self.pos = 0
        self.copier = KernelCopy(base_fh.fileno(), fd)
        self.positions: dict[int, int] = {}  # element id -> segment-relative position
        self.cluster_moves: dict[int, int] = {}  # old -> new segment-relative cluster position

    def write(self, info: bytes, tracks: bytes, track_tags: dict[str, str], dub_number: int, dub_uid: int) -> None:
        self._copy(*self.base.ebml_header)
        segment_size_at = self.pos + len(E.encode_id(E.SEGMENT))
        self._put(E.encode_id(E.SEGMENT) + b"\x01" + bytes(7))  # 8-byte size, patched below
        self.segment_data = self.pos
        seek_head_at = self.pos
        self._put(_void(SEEK_HEAD_ROOM))  # the SeekHead goes here once the positions are known
        self._level1(E.INFO, info)
        self._level1(E.TRACKS, tracks)
        for element in self.base.copied:
            self.positions.setdefault(element.id, self.pos - self.segment_data)
            self._copy(element.start, element.length)
        statistics = self._clusters(dub_number)
        if self.base.cues is not None:
            self._level1(E.CUES, self._cues())
        # last, because the new track's statistics are only known now; the SeekHead finds them
        values = {**track_tags, **statistics.tags(self.base.timestamp_scale)}
        self._level1(E.TAGS, tags_element(self.base.tags, values, dub_uid))
        os.pwrite(self.fd, E.encode_size(self.pos - self.segment_data, width=8), segment_size_at)
        seek_head = _seek_head(self.positions)
        os.pwrite(self.fd, seek_head + _void(SEEK_HEAD_ROOM - len(seek_head)), seek_head_at)

    def _put(self, data: bytes) -> None:
        write_all(self.fd, data)
        self.pos += len(data)

    def _copy(self, offset: int, length: int) -> None:
        self.copier.copy(offset, length)
        self.pos += length

    def _level1(self, element_id: int, data: bytes) -> None:
        self.positions[element_id] = self.pos - self.segment_data
        self._put(data)

    def _clusters(self, dub_number: int) -> TrackStatistics:
        blocks = TrackBlocks(self.dub_fh, self.dub, self.base.timestamp_scale, self.shift)
        number_vint = E.encode_size(dub_number)
        statistics = TrackStatistics(self.dub.default_duration / self.base.timestamp_scale)
        clusters = self.base.clusters
        total = sum(c.length for c in clusters)
        done = 0
        for i, cluster in enumerate(clusters):
            self.cluster_moves[cluster.start - self.base.segment_data] = self.pos - self.segment_data
            self._copy(cluster.start, cluster.length)
            until = clusters[i + 1].timestamp if i + 1 < len(clusters) else None
            for dub_cluster in pack_clusters(blocks.take_until(until), number_vint, statistics):
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
                value = E.uint_bytes(self.cluster_moves[E.read_uint(value)])
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
