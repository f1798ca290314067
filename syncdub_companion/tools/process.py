"""The one place that starts external processes."""
from __future__ import annotations

import logging
import shlex
import shutil
import subprocess
from typing import Sequence

from ..errors import ToolError, ToolMissingError

log = logging.getLogger(__name__)


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
        raise ToolMissingError(tool, f"not found at {argv[0]!r}; install it or set tools.{tool}") from None
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
        raise ToolMissingError(tool, f"not found at {argv[0]!r}; install it or set tools.{tool}") from None
