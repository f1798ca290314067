"""One merge per library file at a time, whoever runs it: a job, ``syncdub resync``, a remote worker.

Two merges of one file that both read its tracks before either renames its result lose
one of the two new tracks (the later rename wins), or fail verification against a stale
stream count. :func:`file_lock` serialises them: the lock is taken before the file's
tracks are read and held until the result is renamed into place, so the second merge
reads the first one's result.

The lock file lives under ``data_dir/locks``, named by a hash of the file's resolved path,
never in the library (media servers would index it, and it would stay there). Keyed by
path, not inode, because a replace-mode merge gives the file a new inode. Lock files are
empty and left in place (deleting one while another process opens it would split the
lock); there is one per library file ever merged, and the folder may be emptied while
nothing runs.

With the redis backend (``[queue] backend = "redis"``) the lock is taken in Redis instead,
by every process of the deployment: see :mod:`syncdub_companion.queue.locks`.

Caveats: only processes that share the data dir (or at least its ``locks`` folder) and see
the library under the same path exclude each other. On NFS the lock is an ``flock``, which
Linux emulates with NFS byte-range locks: it holds across clients only with a working lock
manager (NFSv4, or NFSv3 with lockd), and never across a ``nolock`` mount. As a last line,
the merge also refuses to publish when the file changed under it
(:class:`~syncdub_companion.errors.FileChangedError`).
"""
from __future__ import annotations

import hashlib
import logging
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from filelock import FileLock, Timeout

from ..errors import FileBusyError

log = logging.getLogger(__name__)

LOCK_FOLDER = "locks"


def lock_path(services, path: str | os.PathLike) -> Path:
    """The lock file of the library file ``path`` (resolved first)."""
    real = os.path.realpath(path)
    name = hashlib.sha256(real.encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return services.config.data_dir / LOCK_FOLDER / f"{name}.lock"


@contextmanager
def file_lock(services, path: str | os.PathLike, wait: float | None = None,
              on_wait: Callable[[str], None] | None = None) -> Iterator[Path]:
    """Hold the merge lock of ``path``.

    ``wait`` is how many seconds to wait for another holder (None: as long as it takes);
    then FileBusyError. ``on_wait(message)`` is told once when the lock is taken already.
    """
    shared = getattr(services, "extras", {}).get("merge_lock")
    if shared is not None:
        # the redis backend: one lock for every machine (syncdub_companion.queue.locks)
        with shared(path, wait, on_wait) as key:
            yield key
        return
    target = lock_path(services, path)
    target.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(target))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        message = f"another merge of {Path(path).name} is running (a job, syncdub resync or a worker); waiting for it"
        log.info("%s (lock %s)", message, target)
        if on_wait is not None:
            on_wait(message)
        try:
            lock.acquire(timeout=-1 if wait is None else wait, poll_interval=0.2)
        except Timeout:
            raise FileBusyError(f"{path}: another merge still holds it after {wait:g} s; trying again later") from None
    try:
        yield target
    finally:
        lock.release()
