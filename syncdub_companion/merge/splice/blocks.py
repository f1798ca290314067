"""The new track's blocks: read from the track file, retimed, packed into clusters, counted."""
from __future__ import annotations

import time
from typing import BinaryIO

from ... import __version__
from .. import ebml as E
from .layout import TrackFile

MAX_RELATIVE_TICKS = 32000  # block timestamps are int16 ticks from their cluster's timestamp


class TrackStatistics:
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


class TrackBlocks:
    """The track file's blocks in order, as (ticks on the original's timestamp scale, SimpleBlock
    or BlockGroup, the block's bytes after its track number and timestamp, the group's other
    children rescaled)."""

    def __init__(self, fh: BinaryIO, dub: TrackFile, scale: int, shift: int):
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
                value = E.uint_bytes(round(E.read_uint(value) * self.ratio))
            elif element_id == E.REFERENCE_BLOCK:
                value = round(E.read_sint(value) * self.ratio).to_bytes(8, "big", signed=True)
            if element_id != E.CRC32:
                out.append((element_id, value))
        return out


def pack_clusters(blocks: list, number_vint: bytes, statistics: TrackStatistics) -> list[bytes]:
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
