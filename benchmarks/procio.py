"""Bytes read by the ffmpeg processes under this one, from ``/proc/<pid>/io``, polled while they run.

    with IoPoller(ffmpeg_input) as poller:
        run_measured(["syncdub", "align", ...])
    poller.totals()   # {"/path/orig.mkv": {"rchar": ..., "read_bytes": ..., "processes": 1}, ...}

``rchar`` counts what the process asked of read() and its kin (page cache hits included);
``read_bytes`` what it made the kernel fetch from the block device. A process's counters
vanish when its parent reaps it, so the figure kept is the last one seen: it can miss the
final poll interval's reads of a process reaped in between (``interval``, 0.2 s). A parent
that waits with ``WNOWAIT`` can call :meth:`IoPoller.record` itself before reaping, for the
exact total.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Callable

Match = Callable[[list[str]], "str | None"]


def read_io(pid: int) -> dict[str, int] | None:
    """The counters of ``/proc/<pid>/io``, or None when the process is gone or unreadable."""
    try:
        text = Path(f"/proc/{pid}/io").read_text()
    except OSError:
        return None
    return {key: int(value) for key, value in (line.split(":") for line in text.splitlines())}


def argv_of(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0")[:-1]]


def descendants(root: int) -> list[int]:
    """Every live process below ``root`` (children, grandchildren, ...), from /proc/*/stat."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # The command name in parentheses may hold spaces: the fields follow its last ')'.
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for pid in children.get(todo.pop(), []):
            found.append(pid)
            todo.append(pid)
    return found


def ffmpeg_input(argv: list[str]) -> str | None:
    """The input file of an ffmpeg command line (the argument after ``-i``), else None."""
    if not argv or not os.path.basename(argv[0]).startswith("ffmpeg") or "-i" not in argv[:-1]:
        return None
    return argv[argv.index("-i") + 1]


class IoPoller:
    """Polls the I/O counters of matching processes below ``root`` in a background thread.

    ``match`` takes a process's argv and returns the key to file it under (its input file),
    or None to ignore it. The last counters seen per process are kept in ``seen``.
    """

    def __init__(self, match: Match = ffmpeg_input, root: int | None = None, interval: float = 0.2):
        self.match, self.root, self.interval = match, root or os.getpid(), interval
        self.seen: dict[int, dict] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "IoPoller":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.poll()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.poll()

    def poll(self) -> None:
        """One look at every matching process below the root."""
        for pid in descendants(self.root):
            known = self.seen.get(pid)
            key = known["key"] if known else self.match(argv_of(pid))
            if key is not None:
                self.record(pid, key)

    def record(self, pid: int, key: str) -> None:
        """Take ``pid``'s counters now, under ``key``: for a parent holding an exited child
        unreaped, whose command line /proc no longer shows."""
        known = self.seen.get(pid)
        io = read_io(pid)
        # The counters only grow: a poll that read them before another thread's later
        # look must not put back the older figure.
        if io is not None and (known is None or io["rchar"] >= known["rchar"]):
            self.seen[pid] = {"key": key, "rchar": io["rchar"], "read_bytes": io["read_bytes"]}

    def totals(self) -> dict[str, dict[str, int]]:
        """Bytes read per key, summed over its processes."""
        out: dict[str, dict[str, int]] = {}
        for row in self.seen.values():
            total = out.setdefault(row["key"], {"rchar": 0, "read_bytes": 0, "processes": 0})
            total["rchar"] += row["rchar"]
            total["read_bytes"] += row["read_bytes"]
            total["processes"] += 1
        return out
