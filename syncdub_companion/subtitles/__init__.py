"""Subtitles carried by the time map: the dub release's tracks in its language, re-timed onto the original.

``extract.choose`` picks the tracks, ``carry.carry`` extracts and re-times them (text
through pysubs2, PGS by display set, VobSub by subpicture), ``carry.carried_for`` does it for
a merge plan while mkvmerge muxes (``merge/mkv.py``); the rules for a cue (drop, clip, stretch) live in ``retime``.
"""
from __future__ import annotations

from .carry import CarriedSubtitle, carried_for, carry
from .extract import POLICIES, SubtitleTrack, choose
from .retime import Retimer

__all__ = ["CarriedSubtitle", "carried_for", "carry", "POLICIES", "SubtitleTrack", "choose", "Retimer"]
