"""Checks of carried subtitles: the re-timed file decodes, and the merged file holds it whole.

Decoding a subtitle track inside a two-hour merged file would mean reading the whole file
once more, so the small re-timed file is decoded instead (before the mux), and the merged
track must then hold as many frames as that file: mkvmerge writes the count into the
track's statistics tags (``NUMBER_OF_FRAMES``), which ffprobe reads from the header.
"""
from __future__ import annotations

from itertools import zip_longest
from pathlib import Path

from ..errors import VerificationError


def file_frames(services, path: Path) -> int:
    """How many subtitle frames ``path`` (an .srt, .ass, .vtt, .sup or .idx) decodes to; MediaError
    when ffprobe reports any error."""
    return services.ffprobe.count_frames(path)


def check_merged(streams: list[dict], after: dict, carried: list) -> list[dict]:
    """The carried subtitle streams, found right after the new audio track ``after`` (mkvmerge
    writes tracks in input order); VerificationError unless each is there with its language,
    name, forced flag and frame count."""
    start = next(i for i, s in enumerate(streams) if s is after) + 1
    found = [s for s in streams[start:start + len(carried)] if s.get("codec_type") == "subtitle"]
    for stream, sub in zip_longest(found, carried):
        if stream is None:
            raise VerificationError(f"the merged file lacks the synced subtitle track \"{sub.name}\"")
        tags = {k.lower(): v for k, v in (stream.get("tags") or {}).items()}
        got = (tags.get("language"), tags.get("title"), bool((stream.get("disposition") or {}).get("forced")))
        if got != (sub.language, sub.name, sub.forced):
            raise VerificationError(f"synced subtitle track {stream.get('index')} is {got}, "
                                    f"expected {(sub.language, sub.name, sub.forced)}")
        frames = tags.get("number_of_frames")
        if frames is not None and int(frames) != sub.frames:
            raise VerificationError(f"synced subtitle track \"{sub.name}\" holds {frames} frames, "
                                    f"the re-timed file {sub.frames}")
    return found
