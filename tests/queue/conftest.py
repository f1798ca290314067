"""A real redis-server on a free loopback port, with its own folder and an append-only file."""
from __future__ import annotations

from pathlib import Path

import pytest

from queue_lib import REDIS, RedisServer


@pytest.fixture
def redis_server(tmp_path):
    if not Path(REDIS).exists():
        pytest.fail("redis-server is not installed (bash dev.sh test installs it)")
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()
