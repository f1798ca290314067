"""Add one track to a Matroska file without remuxing the file.

mkvmerge rewrites every byte of the original through user space; for a pure offset the only
new data is the dub's packets. Here the original's clusters are copied verbatim inside the
kernel (``copy_file_range``: no copy through this process; on NFS 4.2 the client may ask the
server to copy), and the dub's blocks go into clusters of their own, each placed
right after the original cluster whose time span it covers, so a player reading the file
front to back, or after a seek, finds the dub audio where it expects it. Only the small
header elements are rebuilt: Info (new segment UID), Tracks (plus the dub's entry), Tags,
the SeekHead and the Cues (new cluster positions).

The track file must be a one-track Matroska file (what :func:`..render.prepare_dub` writes);
it plays ``delay_ms`` later. Anything the splicer does not recognise in the original raises
:class:`SpliceUnsupported` before a byte is written, and the caller muxes with mkvmerge.

Modules: ``layout`` reads both files, ``headers`` rebuilds Info, Tracks and Tags, ``blocks``
retimes and packs the new track's blocks, ``writer`` lays the file out, ``kernelcopy`` copies.
"""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Callable

from .. import ebml as E
from .headers import NewTrack, info_element, new_track_ids, tracks_element
from .layout import SpliceUnsupported, read_base, read_track_file
from .writer import Writer

__all__ = ["NewTrack", "SpliceUnsupported", "splice_track"]


def splice_track(base_path: Path, track_path: Path, output: Path, track: NewTrack, delay_ms: int = 0,
                 progress: Callable[[float], None] | None = None) -> None:
    """Write ``output``: every stream of ``base_path`` plus the one track of ``track_path``,
    played ``delay_ms`` later (what would start before 0 is dropped, as mkvmerge --sync does).

    Raises SpliceUnsupported when either file has a layout this module does not handle
    (found before writing, except for bad blocks in the track file, found as they are
    copied; the caller's mkvmerge overwrites ``output`` then), and OSError (ENOSPC
    included) from writing.
    """
    with open(base_path, "rb") as base_fh, open(track_path, "rb") as dub_fh:
        try:
            base = read_base(base_fh, os.fstat(base_fh.fileno()).st_size)
            dub = read_track_file(dub_fh, os.fstat(dub_fh.fileno()).st_size)
        except E.EbmlError as exc:
            raise SpliceUnsupported(str(exc)) from None
        number, uid = new_track_ids(base.tracks)
        if base.doc_type_version < 4:  # LanguageBCP47 came with Matroska v4; older readers skip it anyway
            track = replace(track, language_bcp47=None)
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            shift = round(delay_ms * 1_000_000 / base.timestamp_scale)
            Writer(fd, base_fh, dub_fh, base, dub, shift, progress).write(
                info_element(base.info), tracks_element(base.tracks, dub, track, number, uid),
                track.tags, number, uid)
        except E.EbmlError as exc:  # a track file's blocks are read as they are written
            raise SpliceUnsupported(f"{track_path.name}: {exc}") from None
        finally:
            os.close(fd)
