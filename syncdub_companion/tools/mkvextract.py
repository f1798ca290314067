"""mkvextract (mkvtoolnix): tracks out of a Matroska file as files of their own.

Only what ffmpeg cannot write is taken this way: a VobSub track as its ``.idx``/``.sub`` pair.
"""
from __future__ import annotations

from pathlib import Path

from . import process


class MkvExtract(process.Program):
    """The mkvextract executable (``tools.mkvextract``)."""

    name = "mkvextract"
    version_flag = "--version"

    def track_argv(self, path: str | Path, track_id: int, output: str | Path) -> list[str]:
        """Track ``track_id`` (mkvmerge's id) of ``path`` into ``output``; for VobSub, ``x.idx``
        and ``x.sub`` beside it."""
        return [self.executable, str(path), "tracks", f"{track_id}:{output}"]

    def track(self, path: str | Path, track_id: int, output: str | Path, *, timeout: float | None = 3600) -> Path:
        """Run :meth:`track_argv`; ToolError with mkvextract's output when it fails."""
        process.run(self.track_argv(path, track_id, output), "mkvextract", timeout=timeout)
        return Path(output)
