"""Text subtitles (SRT, ASS/SSA, WebVTT) re-timed through pysubs2.

pysubs2 keeps what the format holds beside the times: ASS styles, script info, override
tags and comment lines come out as they went in. Each event's start and end are moved by
the map, and the times inside an ASS event's override tags (karaoke, ``\\t``, ``\\move``,
``\\fad``, ``\\fade``) are scaled by the speed of the segment it landed in (:mod:`.ass_tags`).

WebVTT goes back in as WebVTT only where this machine's ffprobe reads a WebVTT track in
Matroska (:func:`keeps_webvtt`, asked once per process); else as SRT. mkvmerge has
written WebVTT (``S_TEXT/WEBVTT``) since MKVToolNix 35, but FFmpeg's Matroska demuxer
knows only WebM's ``D_WEBVTT/*`` ids: ffprobe 5.1 calls the track ``unknown``, so this
service could not verify it, and Jellyfin's and Plex's FFmpeg-based players could not show
it. The cue settings WebVTT adds (position, line) are rarely used by releases.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import pysubs2

from ..errors import MediaError, SyncDubError
from .ass_tags import scale_tags
from .retime import Retimer, RetimeReport

# Extension (as extracted) -> pysubs2's format name
FORMATS = {".srt": "srt", ".ass": "ass", ".ssa": "ssa", ".vtt": "vtt"}
TAGGED = {"ass", "ssa"}  # formats whose events carry override tags with times in them


def output_suffix(services, extension: str) -> str:
    """The extension a re-timed text track of ``extension`` is written as (see the module's note)."""
    if extension == ".vtt" and not keeps_webvtt(services):
        return ".srt"
    return extension


def keeps_webvtt(services) -> bool:
    """Whether a WebVTT track written by mkvmerge reads back as WebVTT through ffprobe here."""
    known = services.extras.get("subtitles.webvtt_in_matroska")
    if known is None:
        known = services.extras["subtitles.webvtt_in_matroska"] = _webvtt_round_trip(services)
    return known


def _webvtt_round_trip(services) -> bool:
    from ..tools.mkvmerge import MkvInput

    with tempfile.TemporaryDirectory(prefix="syncdub-vtt-") as folder:
        vtt, mkv = Path(folder) / "probe.vtt", Path(folder) / "probe.mkv"
        vtt.write_text("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nprobe\n", encoding="utf-8")
        try:
            services.mkvmerge.mux(mkv, [MkvInput(vtt)])
            streams = services.ffprobe.probe(mkv).get("streams") or []
        except (SyncDubError, OSError):
            return False
    return [s.get("codec_name") for s in streams] == ["webvtt"]


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
            if fmt in TAGGED:
                event.text = scale_tags(event.text, placement.scale)
            kept.append(event)
    subs.events = kept
    subs.save(str(target), encoding="utf-8", format_=out_fmt)
    return report
