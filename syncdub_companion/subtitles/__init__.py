"""Subtitles carried by the time map: the dub release's tracks in its language, re-timed onto the original.

``extract.choose`` picks the tracks, ``carry.carry`` extracts and re-times them (text
through pysubs2, PGS by display set, VobSub through its index) and ``carry.mux_args`` gives
the mkvmerge options; the rules for a cue (drop, clip, stretch) live in ``retime``.
"""
from __future__ import annotations

from .carry import CarriedSubtitle, carry, mux_args
from .extract import POLICIES, SubtitleTrack, choose
from .retime import Retimer

__all__ = ["CarriedSubtitle", "carry", "mux_args", "POLICIES", "SubtitleTrack", "choose", "Retimer"]
