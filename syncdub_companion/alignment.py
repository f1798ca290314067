"""The one front door to the aligner: the ``syncdub_align`` hook with the configured options.

``syncdub align``, ``syncdub resync`` (through :func:`merge.align <.merge.api.align>`), the
job's align stage and remote workers all call :func:`align_files`, so a third-party
aligner plugin replaces the built-in one everywhere at once, and nothing else calls the hook.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from .align.timemap import TimeMap
from .errors import MediaError, PluginError


def align_options(services, **overrides) -> dict:
    """The options dict every syncdub_align implementation receives."""
    config = services.config
    options = {
        "orig_track": None,
        "dub_track": None,
        "device": config.get("align.device"),
        "speech": config.get("align.speech"),
        "min_confidence": config.get("align.min_confidence"),
        "min_coverage": config.get("align.min_coverage"),
        "read": config.get("align.read"),
        "probe_min_duration": config.get("align.probe_min_duration"),
        "ffmpeg": config.get("tools.ffmpeg"),
        "ffprobe": config.get("tools.ffprobe"),
        "speech_settings": {**config.section("speech"), "model_dir": str(services.model_dir)},
    }
    options.update({k: v for k, v in overrides.items() if v is not None})
    return options


def align_files(services, original: str, dubbed: str, *, progress: Callable[[float, str], None] | None = None,
                **overrides) -> TimeMap:
    """Align ``dubbed`` onto ``original``; MediaError for missing files, PluginError when no aligner answers.

    ``progress(fraction, doing)`` hears the aligner's sub-steps (``options["progress"]``);
    a cancelled job's callback raises there and stops the alignment.
    """
    for role, path in (("original", original), ("dubbed", dubbed)):
        if not Path(path).is_file():
            raise MediaError(f"{role} {path}: no such file")
    options = align_options(services, **overrides)
    if progress is not None:
        options["progress"] = progress
    result = services.hook.syncdub_align(original=str(original), dubbed=str(dubbed), options=options)
    if result is None:
        raise PluginError("no plugin implements syncdub_align (is the built-in 'aligner' plugin disabled?)")
    return result
