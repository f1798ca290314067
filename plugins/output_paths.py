"""Where a merged file goes: the built-in answer to ``syncdub_output_path``.

Config it reads::

    [library]
    output_mode = "replace"      # replace | beside | folder
    output_folder = ""           # root of the mirror tree for folder mode

- replace: the original's own path (``.mkv``: a merged file is always Matroska);
- beside: ``Title (2010).multi.mkv`` next to the original;
- folder: the original's path below its library root, mirrored under ``output_folder``.

It runs last, so another plugin can choose differently by returning a path.
"""
from __future__ import annotations

import os
from pathlib import Path

from syncdub_companion import hookimpl
from syncdub_companion.errors import ConfigError, PathNotAllowedError

BESIDE_SUFFIX = ".multi"


@hookimpl(trylast=True)
def syncdub_output_path(item, dub, mode, services):
    """The default output path for ``mode``; None for a mode this plugin does not know."""
    original = Path(item.path)
    if mode == "replace":
        return str(original.with_suffix(".mkv"))
    if mode == "beside":
        stem = original.stem
        if stem.endswith(BESIDE_SUFFIX):  # the original already is a .multi file
            return str(original.with_suffix(".mkv"))
        return str(original.with_name(stem + BESIDE_SUFFIX + ".mkv"))
    if mode == "folder":
        return str(_mirrored(original, services.config))
    return None


def _mirrored(original: Path, config) -> Path:
    target = config.get("library.output_folder")
    if not target:
        raise ConfigError("library.output_folder: required when output_mode is folder")
    real = Path(os.path.realpath(original))
    for root in config.library_roots:
        real_root = Path(os.path.realpath(root))
        if real_root in real.parents:
            return (Path(target).expanduser() / real.relative_to(real_root)).with_suffix(".mkv")
    raise PathNotAllowedError(f"original {original}: outside the configured library roots")


__all__ = ["syncdub_output_path"]
