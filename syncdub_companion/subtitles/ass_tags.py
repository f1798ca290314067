"""The times inside an ASS event's override tags, scaled with the event.

An event's own start and end are moved by the map; the times in its override blocks are
relative to its start and must run at the same speed, or after a PAL speed-up (a dub 4 %
fast) a karaoke line ends its syllables 4 % early and a sign's fade or move finishes
before the sign is gone:

- ``\\k``, ``\\K``, ``\\kf``, ``\\ko``: a syllable's duration, in centiseconds;
- ``\\t(t1,t2,...)``: an animation from t1 to t2 ms (``\\t(accel,...)`` and ``\\t(...)``
  carry no times);
- ``\\move(x1,y1,x2,y2,t1,t2)``: the move's start and end in ms (the 4-argument form has none);
- ``\\fad(in,out)``: fade durations in ms; ``\\fade(a1,a2,a3,t1,t2,t3,t4)``: four times in ms.

A cue the map clipped at a cut keeps its tags' times scaled from its (new) start; the part
of an animation that fell into the cut is not shifted out of it.
"""
from __future__ import annotations

import re

_NUMBER = r"\s*(-?\d+(?:\.\d+)?)\s*"
_BLOCK = re.compile(r"\{[^}]*\}")
_KARAOKE = re.compile(r"(\\(?:kf|ko|k|K))(\d+(?:\.\d+)?)")
_TRANSFORM = re.compile(rf"\\t\({_NUMBER},{_NUMBER}(?=,)")
_MOVE = re.compile(rf"\\move\({_NUMBER},{_NUMBER},{_NUMBER},{_NUMBER},{_NUMBER},{_NUMBER}\)")
_FAD = re.compile(rf"\\fad\({_NUMBER},{_NUMBER}\)")
_FADE = re.compile(rf"\\fade\({_NUMBER},{_NUMBER},{_NUMBER},{_NUMBER},{_NUMBER},{_NUMBER},{_NUMBER}\)")


def scale_tags(text: str, scale: float) -> str:
    """``text`` (an ASS event's text) with every time in its override blocks times ``scale``."""
    if abs(scale - 1.0) < 1e-9 or "{" not in text:
        return text
    karaoke = _Karaoke(scale)
    return _BLOCK.sub(lambda block: _scale_block(block.group(), scale, karaoke), text)


class _Karaoke:
    """Scales a line's syllables by their running total, so that rounding each to a
    centisecond does not add up: the last syllable still ends where the scaled line does."""

    def __init__(self, scale: float):
        self.scale, self.before, self.after = scale, 0.0, 0

    def __call__(self, match: re.Match) -> str:
        self.before += float(match.group(2))
        duration = round(self.before * self.scale) - self.after
        self.after += duration
        return f"{match.group(1)}{duration}"


def _scale_block(block: str, scale: float, karaoke: _Karaoke) -> str:
    def ms(numbers) -> str:
        return ",".join(str(round(float(n) * scale)) for n in numbers)

    def kept(numbers) -> str:
        return ",".join(numbers)

    block = _KARAOKE.sub(karaoke, block)
    block = _TRANSFORM.sub(lambda m: f"\\t({ms(m.groups())}", block)
    block = _MOVE.sub(lambda m: f"\\move({kept(m.groups()[:4])},{ms(m.groups()[4:])})", block)
    block = _FAD.sub(lambda m: f"\\fad({ms(m.groups())})", block)
    return _FADE.sub(lambda m: f"\\fade({kept(m.groups()[:3])},{ms(m.groups()[3:])})", block)
