"""ffprobe: stream, format and first-frame facts about a media file.

The argv is built here by hand, not with ffmpeg-python: its ``probe()`` starts the process
itself (outside :mod:`.process`, so without our typed errors and timeouts) and knows only
``-show_format -show_streams``. See docs/tools.md.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import MediaError, ToolError
from . import process


@dataclass(frozen=True)
class AudioStream:
    """One audio stream as ffprobe sees it; ``index`` is its position among audio streams."""

    index: int
    stream_index: int
    codec: str
    channels: int
    channel_layout: str
    sample_rate: int
    language: str | None
    title: str | None
    bit_rate: int | None
    duration: float | None
    start_time: float
    default: bool


class FFprobe(process.Program):
    """Stream and format facts about a media file."""

    name = "ffprobe"

    def probe_argv(self, path: str | Path) -> list[str]:
        """ffprobe's JSON for streams, format and chapters."""
        return [self.executable, "-v", "error", "-print_format", "json",
                "-show_streams", "-show_format", "-show_chapters", str(path)]

    def first_frame_argv(self, path: str | Path, stream_index: int) -> list[str]:
        """The pts of the first decoded frame of one stream, as ``0.006500`` on stdout."""
        return [self.executable, "-v", "error", "-select_streams", str(stream_index),
                "-read_intervals", "%+#1", "-show_entries", "frame=pts_time", "-of", "csv=p=0", str(path)]

    def frames_argv(self, path: str | Path) -> list[str]:
        """Decode every frame of a (small) file, one line per frame on stdout; errors on stderr."""
        return [self.executable, "-v", "error", "-show_entries", "frame=pts_time", "-of", "csv=p=0", str(path)]

    def probe(self, path: str | Path) -> dict:
        """ffprobe's JSON for streams, format and chapters; MediaError when unreadable."""
        path = Path(path)
        if not path.is_file():
            raise MediaError(f"{path}: no such file")
        try:
            proc = process.run(self.probe_argv(path), "ffprobe", timeout=120)
        except ToolError as exc:
            if exc.returncode is not None:
                raise MediaError(f"{path}: not a readable media file ({exc.stderr_tail.splitlines()[-1] if exc.stderr_tail else 'ffprobe failed'})") from None
            raise
        return json.loads(proc.stdout or b"{}")

    def audio_streams(self, path: str | Path) -> list[AudioStream]:
        return audio_streams_of(self.probe(path))

    def duration(self, path: str | Path) -> float:
        return _float(self.probe(path).get("format", {}).get("duration")) or 0.0

    def first_frame_time(self, path: str | Path, stream_index: int) -> float | None:
        """When the stream's first frame *after the decoder* plays, or None when ffprobe cannot say.

        For Opus that is the container's start plus the pre-skip the decoder drops.
        """
        try:
            out = process.run(self.first_frame_argv(path, stream_index), "ffprobe", timeout=60).stdout.decode().split()
            return float(out[0].strip(","))
        except (ToolError, ValueError, IndexError):
            return None


    def count_frames(self, path: str | Path, timeout: float | None = 300) -> int:
        """How many frames ``path`` decodes to (meant for subtitle files); MediaError when
        ffprobe fails or reports any decoding error."""
        path = Path(path)
        try:
            proc = process.run(self.frames_argv(path), "ffprobe", timeout=timeout)
        except ToolError as exc:
            if exc.returncode is None:
                raise
            raise MediaError(f"{path.name} does not decode: {exc.stderr_tail or exc}") from None
        errors = (proc.stderr or b"").decode("utf-8", "replace").strip()
        if errors:
            raise MediaError(f"{path.name} does not decode cleanly: {errors.splitlines()[-1]}")
        return len((proc.stdout or b"").decode().splitlines())


def audio_streams_of(info: dict) -> list[AudioStream]:
    """The audio streams in one :meth:`FFprobe.probe` answer, in order."""
    streams = [s for s in info.get("streams", []) if s.get("codec_type") == "audio"]
    fmt_duration = _float(info.get("format", {}).get("duration"))
    return [audio_stream(i, s, fmt_duration) for i, s in enumerate(streams)]


def audio_stream(position: int, s: dict, fallback_duration: float | None) -> AudioStream:
    """An :class:`AudioStream` from one of ffprobe's stream dicts (``position`` among audio streams)."""
    tags = {k.lower(): v for k, v in (s.get("tags") or {}).items()}
    lang = tags.get("language")
    return AudioStream(
        index=position,
        stream_index=int(s["index"]),
        codec=s.get("codec_name", "unknown"),
        channels=int(s.get("channels") or 0),
        channel_layout=s.get("channel_layout", ""),
        sample_rate=int(s.get("sample_rate") or 0),
        language=None if lang in (None, "und") else lang,
        title=tags.get("title"),
        bit_rate=int(s["bit_rate"]) if s.get("bit_rate") else None,
        duration=_float(s.get("duration")) or _tag_duration(tags) or fallback_duration,
        start_time=_float(s.get("start_time")) or 0.0,
        default=bool((s.get("disposition") or {}).get("default")),
    )


def _float(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _tag_duration(tags: dict) -> float | None:
    """Matroska keeps per-stream durations in a DURATION tag like 01:02:03.456000000."""
    value = tags.get("duration")
    if not value:
        return None
    match = re.match(r"(\d+):(\d+):([\d.]+)", value)
    if not match:
        return None
    h, m, s = match.groups()
    return int(h) * 3600 + int(m) * 60 + float(s)
