"""mkvmerge (mkvtoolnix): identifying and writing Matroska files."""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import MediaError, ToolError
from . import process
from .ffmpeg import tool_version


class MkvMerge:
    """The mkvmerge executable."""

    def __init__(self, executable: str = "mkvmerge"):
        self.executable = executable

    def version(self) -> str | None:
        return tool_version(self.executable)

    def identify(self, path: str | Path) -> dict:
        """mkvmerge's JSON identification (tracks, attachments, chapters, properties)."""
        try:
            proc = process.run([self.executable, "-J", str(path)], "mkvmerge", timeout=120, check=False)
        except ToolError:
            raise
        if proc.returncode not in (0, 1):
            raise MediaError(f"{path}: mkvmerge cannot read it")
        return json.loads(proc.stdout or b"{}")

    def run(self, args: list[str], timeout: float | None = None):
        """Run mkvmerge; exit 1 means warnings only and counts as success."""
        proc = process.run([self.executable, *args], "mkvmerge", timeout=timeout, check=False)
        if proc.returncode not in (0, 1):
            raise ToolError("mkvmerge", "failed", proc.returncode,
                            (proc.stdout or b"").decode(errors="replace") + (proc.stderr or b"").decode(errors="replace"))
        return proc
