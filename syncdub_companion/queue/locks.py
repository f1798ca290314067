"""The per-file merge lock in Redis, for the redis backend: honoured across machines.

The embedded backend's lock is a file under ``data_dir/locks`` (:mod:`syncdub_companion.merge.lock`):
one per machine, so two workers on two hosts would not see each other's. With the redis
backend every process of the deployment (the service, ``syncdub resync`` beside it, every
``syncdub worker``) takes the lock in the broker's Redis instead:

- keyed by the file's path as the **service** sees it (a worker maps its own path back
  through its ``[paths]``), so every machine names the same file the same way;
- a Redis lock (redis-py's ``Lock``: SET NX with a token) that expires after
  ``queue.lock_ttl`` seconds unless its holder renews it; a thread renews it every third of
  that, so a live merge keeps it as long as it runs and a worker killed with SIGKILL frees
  it within ``queue.lock_ttl`` seconds.

Why not a lock file on the library's own filesystem: over NFS an ``flock`` holds only with
a working lock manager (never across a ``nolock`` mount), over SMB from a Windows GPU box
not at all, and a crashed holder's lock may linger until the server notices. Redis is
already what every worker must reach, and its expiry bounds a dead holder's lock.
A holder cut off from Redis longer than the TTL loses the lock while it may still be
writing; the merge's last check (FileChangedError: the file changed under it) stays the
line that keeps a second writer's work from being thrown away.
"""
from __future__ import annotations

import hashlib
import logging
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import redis
from redis.exceptions import LockError

from ..errors import FileBusyError
from ..merge.cleanup import remove_stale_temps
from .engine import display_url, unreachable

log = logging.getLogger(__name__)


class RedisFileLocks:
    """``services.extras["merge_lock"]``: ``(path, wait, on_wait) -> context manager``."""

    def __init__(self, client: redis.Redis, name: str, ttl: float, canonical: Callable[[str], str], url: str):
        self.client, self.name, self.ttl, self.canonical, self.url = client, name, ttl, canonical, url

    def key(self, path: str | os.PathLike) -> str:
        shared = self.canonical(os.path.realpath(path))
        return f"{self.name}:lock:{hashlib.sha256(shared.encode('utf-8', 'surrogateescape')).hexdigest()[:32]}"

    @contextmanager
    def __call__(self, path: str | os.PathLike, wait: float | None = None,
                 on_wait: Callable[[str], None] | None = None) -> Iterator[str]:
        key = self.key(path)
        lock = self.client.lock(key, timeout=self.ttl, thread_local=False)
        try:
            self._acquire(lock, path, wait, on_wait)
        except redis.RedisError as exc:
            raise unreachable(exc, self.url) from None
        stop = threading.Event()
        keeper = threading.Thread(target=self._keep, args=(lock, key, stop), daemon=True, name="syncdub-lock-keeper")
        keeper.start()
        # A worker killed after its rename left its other temps (the tags file) beside the
        # file, and a retry that finds the track there writes no TempSet that would sweep them.
        remove_stale_temps(Path(path), own_token="")
        try:
            yield key
        finally:
            stop.set()
            keeper.join()
            try:
                lock.release()
            except (LockError, redis.RedisError) as exc:
                log.warning("merge lock %s of %s was lost before its release: %s", key, path, exc)

    def _acquire(self, lock, path, wait, on_wait) -> None:
        if lock.acquire(blocking=False):
            return
        message = f"another merge of {Path(path).name} is running (a job, syncdub resync or a worker); waiting for it"
        log.info("%s (lock %s in %s)", message, lock.name, display_url(self.url))
        if on_wait is not None:
            on_wait(message)
        if not lock.acquire(blocking=True, blocking_timeout=wait, sleep=0.2):
            raise FileBusyError(f"{path}: another merge still holds it after {wait:g} s; trying again later")

    def _keep(self, lock, key: str, stop: threading.Event) -> None:
        while not stop.wait(self.ttl / 3):
            try:
                lock.reacquire()
            except (LockError, redis.RedisError) as exc:
                log.error("could not renew merge lock %s (%s); another worker may take the file after %s s",
                          key, exc, self.ttl)


def install_redis_lock(services, canonical: Callable[[str], str] | None = None) -> RedisFileLocks:
    """Make this process's merges lock files in Redis; ``canonical`` maps a local path to the service's."""
    config = services.config
    client = redis.Redis.from_url(config.get("queue.url"))
    locks = RedisFileLocks(client, config.get("queue.name"), float(config.get("queue.lock_ttl")),
                           canonical or (lambda path: path), config.get("queue.url"))
    services.extras["merge_lock"] = locks
    return locks
