"""The aligner: a pure library. Media paths in, a TimeMap out; no web, store or server imports.

The engine (numpy, scipy) loads on first use of :func:`align`: the job store, the web pages
and the CLI read and write TimeMaps without aligning anything, and every process that
imported this package paid for scipy at start-up.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .timemap import Anchor, Segment, TimeMap

if TYPE_CHECKING:
    from .engine import AlignOptions, align

__all__ = ["align", "AlignOptions", "TimeMap", "Segment", "Anchor"]


def __getattr__(name: str):
    if name in ("align", "AlignOptions"):
        from . import engine

        return getattr(engine, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
