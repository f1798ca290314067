"""Text subtitles (SRT, ASS/SSA, WebVTT) re-timed through pysubs2.

pysubs2 keeps what the format holds beside the times: ASS styles, script info, override
tags and comment lines come out as they went in. Only each event's start and end change.
WebVTT goes out as SRT (``OUTPUT``): ffmpeg before 6.0, and so many players, cannot read
a WebVTT track in Matroska, and the cue settings WebVTT adds are rarely used by releases.
Times inside an ASS event (``\\move``, ``\\fad``, karaoke) are relative to its start and are
left alone: after a PAL speed-up they run 4 % fast, which nobody sees in a sign's fade.
"""
from __future__ import annotations

from pathlib import Path

import pysubs2

from ..errors import MediaError
from .retime import Retimer, RetimeReport

# Extension (as extracted) -> pysubs2's format name
FORMATS = {".srt": "srt", ".ass": "ass", ".ssa": "ssa", ".vtt": "vtt"}
OUTPUT = {".vtt": ".srt"}  # extension in -> extension written, where they differ


def retime_text(source: Path, target: Path, retimer: Retimer) -> RetimeReport:
    """Write ``source``'s cues, re-timed by ``retimer``, to ``target`` in the format its suffix names."""
    fmt, out_fmt = FORMATS.get(source.suffix.lower()), FORMATS.get(target.suffix.lower())
    if fmt is None or out_fmt is None:
        raise MediaError(f"{source.name}: not a text subtitle format this can re-time")
    try:
        subs = pysubs2.load(str(source), encoding="utf-8", format_=fmt)
    except (pysubs2.Pysubs2Error, UnicodeDecodeError, ValueError) as exc:
        raise MediaError(f"{source.name}: unreadable {fmt} subtitles ({exc})") from None
    report = RetimeReport()
    kept = []
    for event in subs.events:
        placement = retimer.place(event.start / 1000, event.end / 1000)
        report.add(placement)
        if placement is not None:
            event.start, event.end = round(placement.start * 1000), round(placement.end * 1000)
            kept.append(event)
    subs.events = kept
    subs.save(str(target), encoding="utf-8", format_=out_fmt)
    return report
