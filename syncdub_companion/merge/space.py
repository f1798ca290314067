"""Free-space checks, and telling a full disk apart from other write failures."""
from __future__ import annotations

import errno
import shutil
from contextlib import contextmanager
from pathlib import Path

from ..errors import DiskFullError, ToolError
from .plan import gib

# What ffmpeg, mkvmerge and the OS print when a write hits a full disk.
FULL_MARKERS = ("no space left", "drive may be full", "disk full", "enospc", "not enough space")


def free_bytes(folder: Path) -> int:
    """Free bytes for unprivileged writes on ``folder``'s filesystem (nearest existing parent)."""
    folder = Path(folder)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return shutil.disk_usage(folder).free


def check_space(folder: Path, needed: int, detail: str) -> None:
    """DiskFullError with the numbers when ``folder`` has less than ``needed`` bytes free."""
    free = free_bytes(folder)
    if free < needed:
        raise DiskFullError(f"not enough free space in {folder}: need {gib(needed)} ({detail}), "
                            f"only {gib(free)} free; nothing was written and the original is untouched")


def raise_if_full(message: str, folder: Path) -> None:
    """Raise DiskFullError when a tool's error ``message`` says the disk filled up."""
    lowered = message.lower()
    if any(marker in lowered for marker in FULL_MARKERS):
        raise DiskFullError(f"the disk holding {folder} filled up while writing "
                            f"({gib(free_bytes(folder))} free now); the temp file was removed "
                            f"and the original is untouched")


@contextmanager
def disk_full_as_error(folder: Path):
    """Inside it, a tool's failure that says the disk filled up becomes DiskFullError."""
    try:
        yield
    except ToolError as exc:
        raise_if_full(exc.stderr_tail, folder)
        raise


def is_enospc(exc: OSError) -> bool:
    return exc.errno in (errno.ENOSPC, errno.EDQUOT)
