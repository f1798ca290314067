"""The per-file merge lock in Redis: two machines that mount the library under different paths
exclude each other, a live holder keeps it past its TTL, and a holder killed with SIGKILL
frees it within the TTL."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import redis

from syncdub_companion.errors import FileBusyError
from syncdub_companion.queue.locks import RedisFileLocks
from syncdub_companion.queue.wire import PathMap

TTL = 2.0
HOLDER = """
import sys, time, redis
from syncdub_companion.queue.locks import RedisFileLocks
locks = RedisFileLocks(redis.Redis.from_url(sys.argv[1]), "t", float(sys.argv[3]), lambda p: p, sys.argv[1])
with locks(sys.argv[2]):
    print("held", flush=True)
    time.sleep(600)
"""


@pytest.fixture
def mounts(tmp_path):
    """The same NAS file as the service sees it and as a worker's mount shows it."""
    service, worker = tmp_path / "srv" / "movies", tmp_path / "gpu" / "nas" / "movies"
    for folder in (service, worker):
        folder.mkdir(parents=True)
        (folder / "Film.mkv").write_bytes(b"x")
    return service / "Film.mkv", worker / "Film.mkv", PathMap([(str(service), str(worker))])


def locks_for(url: str, canonical=lambda p: p) -> RedisFileLocks:
    return RedisFileLocks(redis.Redis.from_url(url), "t", TTL, canonical, url)


def test_machines_with_different_mounts_exclude_each_other_and_holders_renew(redis_server, mounts):
    service_path, worker_path, paths = mounts
    service, worker = locks_for(redis_server.url), locks_for(redis_server.url, paths.service)
    assert service.key(service_path) == worker.key(worker_path)
    heard = []
    left = service_path.parent / f".{service_path.name}.syncdub-4242-0badc0de.tags.tmp"
    left.write_text("a dead worker's")
    with service(service_path):
        assert not left.exists()  # whoever holds the lock sweeps a dead merge's temps
        time.sleep(TTL * 1.5)  # past the TTL: the holder's renewal keeps it
        with pytest.raises(FileBusyError):
            with worker(worker_path, wait=0.5, on_wait=heard.append):
                pass
    assert heard and "another merge of Film.mkv" in heard[0]
    with worker(worker_path, wait=0.5):
        pass


def test_a_killed_holders_lock_frees_within_its_ttl(redis_server, mounts):
    service_path, worker_path, paths = mounts
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, redis_server.url, str(service_path), str(TTL)],
                              stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert holder.stdout.readline().strip() == "held"
        worker = locks_for(redis_server.url, paths.service)
        with pytest.raises(FileBusyError):
            with worker(worker_path, wait=0.3):
                pass
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        start = time.monotonic()
        with worker(worker_path, wait=TTL + 2):
            waited = time.monotonic() - start
    finally:
        holder.kill()
        holder.wait()
    assert waited <= TTL + 0.5
