"""Library-root confinement and server<->local path mapping."""
from __future__ import annotations

import ntpath
import os
import posixpath
import re
from pathlib import Path, PurePosixPath
from typing import Iterable

from .errors import PathNotAllowedError, UsageError

NAME_MAX, PATH_MAX = 255, 4096  # Linux's limits, in bytes; beyond them every file call raises


def path_problem(path: str) -> str | None:
    """Why the text ``path`` can never name a file on this machine, or None when it could.

    Checked before any file call: os functions raise ValueError on a NUL or a lone
    surrogate and OSError (not "no such file") on an overlong name.
    """
    if "\x00" in path:
        return "contains a NUL character"
    try:
        encoded = path.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid UTF-8 text"
    if len(encoded) > PATH_MAX:
        return f"is longer than {PATH_MAX} bytes"
    if any(len(name) > NAME_MAX for name in encoded.split(b"/")):
        return f"has a name longer than {NAME_MAX} bytes"
    return None


def require_usable(path: str, what: str = "path") -> str:
    """``path`` unchanged, or UsageError (400) naming why it cannot be a file name."""
    problem = path_problem(path)
    if problem:
        shown = path if len(path) <= 80 else path[:77] + "..."
        raise UsageError(f"{what} {shown!r} {problem}")
    return path


def is_inside(path: str | os.PathLike, roots: Iterable[str | os.PathLike]) -> bool:
    """True when ``path``, with every symlink resolved, lies inside one of ``roots``."""
    real = Path(os.path.realpath(path))
    for root in roots:
        real_root = Path(os.path.realpath(root))
        if real == real_root or real_root in real.parents:
            return True
    return False


def ensure_inside(path: str | os.PathLike, roots: Iterable[str | os.PathLike], what: str = "path") -> Path:
    """``path`` resolved, or PathNotAllowedError when it (or a symlink in it) leaves the roots."""
    roots = list(roots)
    if not roots:
        raise PathNotAllowedError(f"{what} {path}: no library.roots are configured, so nothing may be written")
    if not is_inside(path, roots):
        raise PathNotAllowedError(f"{what} {path}: outside the configured library roots")
    return Path(os.path.realpath(path))


def is_windows_path(path: str) -> bool:
    """``C:\\...``, ``C:/...`` or ``\\\\server\\share``: a path as a Windows server (Plex, Emby, *arr) writes it."""
    return bool(re.match(r"^(?:[A-Za-z]:[\\/]|\\\\)", path))


def normalise(path: str) -> str:
    """``path`` with ``//``, ``/./`` and ``x/..`` folded, as text, in its own flavour (Windows or POSIX).

    Symlinks are left alone: the path may be on the server's side of a [paths] mapping;
    :func:`is_inside` resolves them once the path is local.
    """
    if is_windows_path(path):
        return ntpath.normpath(path)
    folded = posixpath.normpath(path)
    # POSIX leaves a leading // to the implementation; on Linux it is plain /.
    return "/" + folded.lstrip("/") if folded.startswith("//") else folded


def _swap_prefix(path: str, mapping: list[tuple[str, str]]) -> str:
    """``path`` with the first matching ``old`` prefix replaced by ``new`` (whole segments only)."""
    norm = path.replace("\\", "/")
    for old, new in mapping:
        old_n = old.replace("\\", "/").rstrip("/")
        # Windows servers (Plex, Emby) compare paths case-insensitively.
        fold = is_windows_path(old)
        head, probe = (norm.lower(), old_n.lower()) if fold else (norm, old_n)
        if head == probe or head.startswith(probe + "/"):
            rest = norm[len(old_n):]
            if "\\" in new:  # the other side is a Windows path: keep its separators
                rest = rest.replace("/", "\\")
            return new.rstrip("/\\") + rest
    return path


def server_to_local(path: str, path_map: list[tuple[str, str]]) -> str:
    """Map a path as the media server sees it to this machine's path (longest prefix wins)."""
    return _swap_prefix(path, sorted(path_map, key=lambda p: len(p[0].rstrip("/\\")), reverse=True))


def local_to_server(path: str, path_map: list[tuple[str, str]]) -> str:
    """The reverse mapping, for rescans: this machine's path as the server sees it."""
    reverse = sorted(((local, server) for server, local in path_map), key=lambda p: len(p[0].rstrip("/\\")), reverse=True)
    return _swap_prefix(path, reverse)


def parent_folder(path: str) -> str:
    """The folder holding ``path``, with forward slashes."""
    return str(PurePosixPath(path.replace("\\", "/")).parent)
