"""Make a verified temp file the library file: ownership, fsync, optional backup, atomic rename.

Until the final ``os.replace`` the original is never opened for writing, so a crash, a kill
or a full disk at any earlier moment leaves it exactly as it was.
"""
from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

from ..errors import DiskFullError
from ..paths import ensure_inside
from .cleanup import TempSet, journal_dir
from .plan import MergePlan
from .space import check_space, is_enospc

log = logging.getLogger(__name__)


def fsync_path(path: Path) -> None:
    """Flush a file's data, or a folder's entries, to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def owner_for(reference: os.stat_result, config) -> tuple[int, int]:
    """(uid, gid) for written files: library.puid/pgid when set (>= 0), else the original's."""
    uid, gid = config.get("library.puid"), config.get("library.pgid")
    return (uid if uid >= 0 else reference.st_uid, gid if gid >= 0 else reference.st_gid)


def apply_ownership(path: Path, reference: os.stat_result, config) -> list[str]:
    """Give ``path`` the original's mode and the configured or original owner; notes on failure."""
    uid, gid = owner_for(reference, config)
    notes = []
    try:
        os.chown(path, uid, gid)
    except PermissionError:
        # Only root may give files away; a non-root service keeps its own ids and says so.
        notes.append(f"could not set owner {uid}:{gid} on {path.name} (not permitted); it keeps "
                     f"{os.getuid()}:{os.getgid()}")
        log.warning(notes[-1])
    os.chmod(path, reference.st_mode & 0o7777)
    return notes


def make_folders(folder: Path, reference: os.stat_result, config) -> None:
    """Create ``folder`` and missing parents (folder mode), owned like the original's folder."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    uid, gid = owner_for(reference, config)
    for path in reversed(missing):
        path.mkdir()
        try:
            os.chown(path, uid, gid)
        except PermissionError:
            pass


def publish(services, plan: MergePlan, temp: Path) -> Path:
    """Rename the verified ``temp`` onto ``plan.output`` (backing the original up first if set)."""
    if plan.mode == "replace" and services.config.get("library.backup_dir"):
        backup_original(services, plan)
    os.replace(temp, plan.output)
    fsync_path(plan.output.parent)
    if plan.mode == "replace" and plan.output != plan.original:
        # A non-Matroska original (.mp4, .avi) now lives on as the .mkv beside it.
        plan.original.unlink()
        fsync_path(plan.original.parent)
    return plan.output


def backup_path(services, plan: MergePlan) -> Path:
    """Where the original is kept: its path below its library root, mirrored under backup_dir."""
    config = services.config
    backup_root = ensure_inside(Path(config.get("library.backup_dir")).expanduser(), config.library_roots,
                                "library.backup_dir")
    relative = Path(plan.original.name)
    for root in config.library_roots:
        real_root = Path(os.path.realpath(root))
        if real_root in plan.original.parents:
            relative = plan.original.relative_to(real_root)
            break
    target = backup_root / relative
    if target.exists():
        target = target.with_name(f"{target.stem}.{time.strftime('%Y%m%d-%H%M%S')}{target.suffix}")
    return target


def backup_original(services, plan: MergePlan) -> Path:
    """Keep the original under backup_dir: a hard link when on the same disk, else a copy."""
    target = backup_path(services, plan)
    make_folders(target.parent, plan.original.stat(), services.config)
    try:
        os.link(plan.original, target)
    except OSError:
        _copy_backup(services, plan.original, target)
    fsync_path(target.parent)
    log.info("original backed up to %s", target)
    return target


def _copy_backup(services, original: Path, target: Path) -> None:
    size = original.stat().st_size
    check_space(target.parent, size, f"a backup copy of {original.name}")
    with TempSet(target, journal_dir(services)) as temps:
        temp = temps.path("backup")
        try:
            shutil.copyfile(original, temp)
            shutil.copystat(original, temp)
            fsync_path(temp)
        except OSError as exc:
            if is_enospc(exc):
                raise DiskFullError(f"the backup disk filled up while copying {original.name} to {target.parent}; "
                                    "the original is untouched") from None
            raise
        os.replace(temp, target)
