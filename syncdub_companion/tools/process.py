"""The one place that starts external processes."""
from __future__ import annotations

import logging
import os
import re
import shlex
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from ..errors import ToolError, ToolMissingError

log = logging.getLogger(__name__)
PIPE, DEVNULL, STDOUT = subprocess.PIPE, subprocess.DEVNULL, subprocess.STDOUT


def which(executable: str) -> str | None:
    """Full path of ``executable`` (a name on PATH or a path), or None."""
    return shutil.which(executable)


def run(argv: Sequence[str], tool: str, *, input: bytes | None = None, timeout: float | None = None,
        check: bool = True, capture: bool = True) -> subprocess.CompletedProcess:
    """Run ``argv`` (a list, never a shell string) and return the completed process.

    Raises ToolMissingError when the program is absent and ToolError (with exit code and
    stderr tail) when it fails and ``check`` is true.
    """
    log.debug("run: %s", shlex.join(map(str, argv)))
    try:
        proc = subprocess.run(list(map(str, argv)), input=input, timeout=timeout,
                              stdout=subprocess.PIPE if capture else None,
                              stderr=subprocess.PIPE if capture else None)
    except FileNotFoundError:
        raise _missing(tool, argv) from None
    except subprocess.TimeoutExpired:
        raise ToolError(tool, f"timed out after {timeout:g} s") from None
    if check and proc.returncode != 0:
        stderr = (proc.stderr or b"").decode("utf-8", "replace")
        raise ToolError(tool, "failed", proc.returncode, stderr)
    return proc


def popen(argv: Sequence[str], tool: str, **kwargs) -> subprocess.Popen:
    """Start a long-running process (streaming decode); same error contract as :func:`run`."""
    log.debug("popen: %s", shlex.join(map(str, argv)))
    try:
        return subprocess.Popen(list(map(str, argv)), **kwargs)
    except FileNotFoundError:
        raise _missing(tool, argv) from None


def _missing(tool: str, argv: Sequence[str]) -> ToolMissingError:
    return ToolMissingError(tool, f"not found at {argv[0]!r}; install it or set tools.{tool}")


class Program:
    """One external program, run by its configured ``executable`` (``tools.NAME``).

    Each wrapper subclasses it with one method per operation and an ``*_argv`` builder beside each.
    """

    name = ""
    version_flag = "-version"

    def __init__(self, executable: str | None = None):
        self.executable = executable or self.name

    def version(self) -> str | None:
        return version(self.executable, self.version_flag)


@lru_cache(maxsize=16)
def version(executable: str, flag: str = "-version") -> str | None:
    """First version-looking token of ``EXE FLAG``, or None when the program is absent or fails."""
    if which(executable) is None:
        return None
    try:
        out = run([executable, flag], Path(executable).name, timeout=20).stdout.decode(errors="replace")
    except ToolError:
        return None
    match = re.search(r"v?(\d+\.\d+(?:\.\d+)?)", out)
    return match.group(1) if match else out.splitlines()[0] if out else None


def lower_priority(pid: int, by: int) -> bool:
    """Raise a child process's nice value by ``by``, every thread of it (Linux keeps a nice
    value per thread); False where it is gone or the system refuses. Raising a child's
    nice value needs no privilege; lowering it back would, so it is never undone."""
    try:
        tids = [int(tid) for tid in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        tids = [pid]
    return all(_raise_nice(tid, by) for tid in tids)


def lower_this_thread(by: int) -> bool:
    """Raise the calling thread's nice value by ``by`` (on Linux ``who`` 0 is the calling
    thread, not the whole process); False where the system refuses."""
    return _raise_nice(0, by)


def _raise_nice(who: int, by: int) -> bool:
    try:
        os.setpriority(os.PRIO_PROCESS, who, min(19, os.getpriority(os.PRIO_PROCESS, who) + by))
    except (OSError, AttributeError):   # exited meanwhile, or no setpriority (not POSIX)
        return False
    return True
