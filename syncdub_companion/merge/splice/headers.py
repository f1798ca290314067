"""The header elements the splice rebuilds: Info, Tracks (with the new entry) and Tags."""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from ... import __version__
from .. import ebml as E
from .layout import TrackFile

MATROSKA_EPOCH = 978307200  # 2001-01-01T00:00:00 UTC, in Unix seconds


@dataclass
class NewTrack:
    """How the added track is labelled."""

    language: str  # ISO 639-2/B
    language_bcp47: str | None
    name: str
    default: bool
    clear_audio_defaults: bool  # the dub becomes the only default audio track
    tags: dict[str, str]  # simple tags for the track (TargetTypeValue 50)


def info_element(info: bytes) -> bytes:
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


def new_track_ids(tracks: bytes) -> tuple[int, int]:
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


def tracks_element(tracks: bytes, dub: TrackFile, track: NewTrack, number: int, uid: int) -> bytes:
    kids = []
    for element_id, entry in E.children(tracks):
        if element_id == E.TRACK_ENTRY and track.clear_audio_defaults and _is_audio(entry):
            entry = _set_fields(entry, {E.FLAG_DEFAULT: b"\0"})
        kids.append((element_id, entry))
    labels = {E.TRACK_NUMBER: E.uint_bytes(number), E.TRACK_UID: uid.to_bytes(8, "big"),
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


def tags_element(base_tags: list[bytes], values: dict[str, str], uid: int) -> bytes:
    """The original's tags, plus ``values`` aimed at the new track."""
    kids = [(k, v) for payload in base_tags for k, v in E.children(payload) if k != E.CRC32]
    simple = b"".join(E.element(E.SIMPLE_TAG, E.string(E.TAG_NAME, k) + E.string(E.TAG_STRING, v))
                      for k, v in values.items())
    targets = E.element(E.TARGETS, E.uint(E.TARGET_TYPE_VALUE, 50) + E.uint(E.TAG_TRACK_UID, uid))
    kids.append((E.TAG, targets + simple))
    return E.master(E.TAGS, kids)
