"""A redis-backed deployment in a temp folder: real `syncdub serve`, real `syncdub worker` processes."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from syncdub_companion import jobs
from syncdub_companion.store import Store
from syncdub_companion.testing import cache_dir

REPO = Path(__file__).resolve().parents[2]
SECONDS, OFFSET = 30.0, 1.5  # the shortest pair the aligner accepts is about 30 s
TEMP = re.compile(r"^\..+\.syncdub-\d+-[0-9a-f]{8}(\.[a-z0-9]+)?\.tmp$")
FINAL = set(jobs.FINAL_STATES)
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """redis-server on 127.0.0.1:``port`` keeping its data in ``folder`` (AOF, fsync always)."""

    def __init__(self, folder: Path):
        self.folder, self.port, self.proc = folder, free_port(), None
        folder.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        self.proc = subprocess.Popen(
            [REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"redis-server did not start on port {self.port}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def toml(data: dict) -> str:
    """Just enough TOML for these configs: tables of strings, numbers, booleans and lists."""
    lines = []
    for section, values in data.items():
        lines.append(f"[{section}]")
        lines += [f"{json.dumps(k)} = {json.dumps(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"


def common(url: str) -> dict:
    # A killed worker's stage comes back after 2 s of silence; its file lock frees after 3 s.
    return {"queue": {"backend": "redis", "url": url, "heartbeat_timeout": 2, "maintenance_chance": 1000000,
                      "lock_ttl": 3},
            "jobs": {"stable_seconds": 0, "retry_backoff": 1, "stop_grace": 5},
            "align": {"speech": "never"},
            "speech": {"model_dir": str(cache_dir() / "models")},
            "server": {"log_level": "info"}}


def synced_tracks(path: Path) -> list[str]:
    """Languages of the audio tracks the merge added (they carry its SYNCDUB_SOURCE tag)."""
    out = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(path)],
                         capture_output=True, check=True).stdout
    return [s["tags"]["language"] for s in json.loads(out)["streams"]
            if s["codec_type"] == "audio" and "SYNCDUB_SOURCE" in {k.upper() for k in s.get("tags", {})}]


def temps_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if TEMP.match(p.name)]


@dataclass
class Proc:
    """A child process whose stderr lines are collected (and can be waited for)."""

    name: str
    popen: subprocess.Popen
    ready: str = ""  # the line that says it is up (Deployment.ready waits for it)
    lines: list = field(default_factory=list)
    seen: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self):
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.popen.stderr:
            with self.seen:
                self.lines.append(line.rstrip("\n"))
                self.seen.notify_all()

    def wait_for(self, pattern: str, timeout: float) -> str:
        """The first line matching ``pattern``; AssertionError naming the output when none came."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.seen:
            while True:
                hit = next((line for line in self.lines if regex.search(line)), None)
                if hit or time.monotonic() > deadline or self.popen.poll() is not None:
                    break
                self.seen.wait(0.2)
        assert hit, f"{self.name}: no line matching {pattern!r}:\n" + "\n".join(self.lines[-30:])
        return hit

    def send(self, sig=signal.SIGTERM) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout: float = 20) -> None:
        self.send(sig)
        self.join(timeout)

    def join(self, timeout: float = 20) -> None:
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()


class Deployment:
    """The service's library under ``tmp/lib``; each worker sees it through its own mount
    (a symlink ``tmp/mnt-NAME``) and maps the service's paths with ``[paths]``.
    ``movie_with_dub`` is the session fixture of that name (tests/conftest.py)."""

    def __init__(self, tmp: Path, url: str, movie_with_dub):
        self.tmp, self.url, self.movie_with_dub = tmp, url, movie_with_dub
        self.lib = tmp / "lib"
        self.lib.mkdir()
        self.procs: list[Proc] = []

    def film(self, name: str) -> tuple[Path, Path]:
        return self.movie_with_dub(self.lib / name, SECONDS, OFFSET)

    def service_config(self, port: int, workers: int = 0) -> Path:
        data = common(self.url)
        data["server"].update(data_dir=str(self.tmp / "service"), port=port, host="127.0.0.1")
        data["library"] = {"roots": [str(self.lib)], "languages": ["de"]}
        data["jobs"]["workers"] = workers
        return self._write("service.toml", data)

    def worker_config(self, name: str, stages: tuple[str, ...] = ("align", "merge")) -> Path:
        mount = self.tmp / f"mnt-{name}"
        mount.symlink_to(self.lib, target_is_directory=True)
        data = common(self.url)
        data["server"].update(data_dir=str(self.tmp / f"worker-{name}"))
        data["library"] = {"roots": [str(mount)]}
        data["worker"] = {"name": name, "stages": list(stages)}
        data["paths"] = {str(self.lib): str(mount)}
        return self._write(f"worker-{name}.toml", data)

    def _write(self, name: str, data: dict) -> Path:
        path = self.tmp / name
        path.write_text(toml(data))
        return path

    def store(self) -> Store:
        (self.tmp / "service").mkdir(exist_ok=True)
        return Store(self.tmp / "service" / "syncdub.json")

    def start(self, name: str, *argv: str) -> Proc:
        env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
        popen = subprocess.Popen([sys.executable, "-m", "syncdub_companion", *argv], cwd=self.tmp, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        proc = Proc(name, popen)
        self.procs.append(proc)
        return proc

    def serve(self, port: int, workers: int = 0, wait: bool = True) -> Proc:
        """The service; ``wait=False`` returns at once (pass it to ready() later), so
        that processes whose order does not matter start side by side."""
        proc = self.start("service", "serve", "--config", str(self.service_config(port, workers)))
        proc.ready = r"jobs go to the syncdub queues"
        return self.ready(proc)[0] if wait else proc

    def worker(self, name: str, stages: tuple[str, ...] = ("align", "merge"), wait: bool = True) -> Proc:
        proc = self.start(name, "worker", "--config", str(self.worker_config(name, stages)))
        proc.ready = rf"takes the {' and '.join(stages)} stage"
        return self.ready(proc)[0] if wait else proc

    def ready(self, *procs: Proc) -> tuple[Proc, ...]:
        for proc in procs:
            proc.wait_for(proc.ready, 60)
        return procs

    def stop_all(self) -> None:
        # all signalled first: their shutdowns (a second or two each) overlap
        for proc in reversed(self.procs):
            proc.send()
        for proc in reversed(self.procs):
            proc.join()


def first_line(procs: list[Proc], pattern: str, timeout: float) -> tuple[Proc, str]:
    """The first of ``procs`` to print a line matching ``pattern``, and that line."""
    regex = re.compile(pattern)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in procs:
            with proc.seen:
                hit = next((line for line in proc.lines if regex.search(line)), None)
            if hit:
                return proc, hit
        time.sleep(0.05)
    tails = "\n".join(f"{p.name}: {line}" for p in procs for line in p.lines[-15:])
    raise AssertionError(f"no line matching {pattern!r} within {timeout} s:\n{tails}")


def record(store: Store, job_id: int) -> dict:
    """The job as a plain dict (jobs.get returns the typed Job where it exists)."""
    job = jobs.get(store, job_id)
    return {**job.to_dict(), "id": job_id} if hasattr(job, "to_dict") else dict(job)


def wait_final(store: Store, job_ids: list[int], timeout: float) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        found = [record(store, i) for i in job_ids]
        if all(j["state"] in FINAL for j in found) or time.monotonic() > deadline:
            return found
        time.sleep(0.2)
