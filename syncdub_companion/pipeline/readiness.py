"""Is a file ready to work on? Size and mtime unchanged for ``jobs.stable_seconds``, and readable.

Files still being copied or imported by Sonarr/Radarr must not be read half-written.
The check never blocks a worker: :func:`check` answers at once, and the runner puts a job
that is not ready back in the queue as ``waiting_for_file`` until it is due again.
"""
from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass

from ..errors import MediaError

MAX_POLL = 60.0


@dataclass
class Readiness:
    """``ready``, or why not and how long to wait before looking again."""

    ready: bool
    reason: str = ""
    wait: float = 0.0


def check(path: str, stable_seconds: float, last: dict | None = None, now: float | None = None) -> tuple[Readiness, dict]:
    """Check one file. ``last`` is the ``{size, mtime}`` seen at the previous check.

    Returns the verdict and the fingerprint to pass as ``last`` next time. A path that
    exists but is not a regular file raises MediaError: waiting will not fix it.
    """
    now = time.time() if now is None else now
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return Readiness(False, f"{path}: not there yet", _poll(stable_seconds)), {}
    except OSError as exc:
        return Readiness(False, f"{path}: cannot stat: {exc.strerror}", _poll(stable_seconds)), {}
    if not stat.S_ISREG(st.st_mode):
        raise MediaError(f"{path}: not a regular file")
    seen = {"size": st.st_size, "mtime": st.st_mtime}
    if last and last != seen:
        return Readiness(False, f"{path}: still being written (size {st.st_size})", _poll(stable_seconds)), seen
    age = now - st.st_mtime
    if age < stable_seconds:
        wait = min(MAX_POLL, max(1.0, stable_seconds - age + 0.5))
        return Readiness(False, f"{path}: changed {max(age, 0):.0f} s ago, waiting for {stable_seconds:g} s of quiet", wait), seen
    problem = _unreadable(path)
    if problem:
        return Readiness(False, f"{path}: not readable: {problem}", _poll(stable_seconds)), seen
    return Readiness(True), seen


def _poll(stable_seconds: float) -> float:
    return min(MAX_POLL, max(1.0, stable_seconds / 3))


def _unreadable(path: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            fh.read(1)
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def check_all(paths: list[str], stable_seconds: float, last: dict | None = None,
              now: float | None = None) -> tuple[Readiness, dict]:
    """:func:`check` for several files; the first that is not ready decides."""
    last = last or {}
    fingerprints = {}
    verdict = Readiness(True)
    for path in paths:
        result, seen = check(path, stable_seconds, last.get(path), now)
        fingerprints[path] = seen
        if verdict.ready and not result.ready:
            verdict = result
    return verdict, fingerprints
