"""The built-in aligner: shared music-and-effects features plus speech anchors.

Configuration lives in the core ``[align]`` and ``[speech]`` sections. It runs last
(``trylast``), so an aligner from another plugin that returns a TimeMap wins.
"""
from __future__ import annotations

from syncdub_companion import hookimpl


@hookimpl(trylast=True)
def syncdub_align(original, dubbed, options):
    from syncdub_companion.align import align

    return align(original, dubbed, options)
