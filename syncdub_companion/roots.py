"""Which folders the product may read, and which it may write.

Writing is confined to ``library.roots``. Reading is allowed there and in the dub roots
(``counterparts.dub_roots``), because a dubbed release is only ever read. Every check
resolves symlinks first (:func:`paths.is_inside`), so ``Film.de.mka -> /elsewhere/dub.mkv``
counts as ``/elsewhere/dub.mkv``.
"""
from __future__ import annotations

import os
from pathlib import Path

from .errors import PathNotAllowedError
from .paths import ensure_inside, is_inside


def write_roots(config) -> list[Path]:
    """``library.roots``: the only folders anything may be written to."""
    return list(config.library_roots)


def read_roots(config) -> list[Path]:
    """``library.roots`` plus every ``counterparts.dub_roots`` folder."""
    dubs = [Path(str(root)).expanduser() for root in (config.get("counterparts.dub_roots") or {}).values()]
    return write_roots(config) + dubs


def is_readable(path: str | os.PathLike, config) -> bool:
    """True when ``path``, symlinks resolved, lies in a library or dub root."""
    return is_inside(path, read_roots(config))


def ensure_readable(path: str | os.PathLike, config, what: str = "path") -> Path:
    """``path`` resolved, or PathNotAllowedError when it (or a symlink in it) leaves the read roots."""
    roots = read_roots(config)
    if not roots:
        raise PathNotAllowedError(f"{what} {path}: no library.roots are configured, so nothing may be read")
    if not is_inside(path, roots):
        raise PathNotAllowedError(f"{what} {path}: outside library.roots and counterparts.dub_roots "
                                  f"(resolved: {os.path.realpath(path)})")
    return Path(os.path.realpath(path))


def ensure_writable(path: str | os.PathLike, config, what: str = "path") -> Path:
    """``path`` resolved, or PathNotAllowedError when it leaves ``library.roots``."""
    return ensure_inside(path, write_roots(config), what)
