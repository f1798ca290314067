"""The aligner: a pure library. Media paths in, a TimeMap out; no web, store or server imports."""
from __future__ import annotations

from .engine import AlignOptions, align
from .timemap import Anchor, Segment, TimeMap

__all__ = ["align", "AlignOptions", "TimeMap", "Segment", "Anchor"]
