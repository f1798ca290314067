"""ffmpeg and ffprobe: probing streams and reading versions.

Decoding for the aligner lives in ``align/decode.py`` and rendering in the merge stage;
both build their argv here-style and run it through :mod:`.process`.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
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


class FFprobe:
    """Stream and format facts about a media file."""

    def __init__(self, executable: str = "ffprobe"):
        self.executable = executable

    def version(self) -> str | None:
        return tool_version(self.executable)

    def probe(self, path: str | Path) -> dict:
        """ffprobe's JSON for streams, format and chapters; MediaError when unreadable."""
        path = Path(path)
        if not path.is_file():
            raise MediaError(f"{path}: no such file")
        argv = [self.executable, "-v", "error", "-print_format", "json",
                "-show_streams", "-show_format", "-show_chapters", str(path)]
        try:
            proc = process.run(argv, "ffprobe", timeout=120)
        except ToolError as exc:
            if exc.returncode is not None:
                raise MediaError(f"{path}: not a readable media file ({exc.stderr_tail.splitlines()[-1] if exc.stderr_tail else 'ffprobe failed'})") from None
            raise
        return json.loads(proc.stdout or b"{}")

    def audio_streams(self, path: str | Path) -> list[AudioStream]:
        info = self.probe(path)
        streams = [s for s in info.get("streams", []) if s.get("codec_type") == "audio"]
        fmt_duration = _float(info.get("format", {}).get("duration"))
        return [_audio_stream(i, s, fmt_duration) for i, s in enumerate(streams)]

    def duration(self, path: str | Path) -> float:
        return _float(self.probe(path).get("format", {}).get("duration")) or 0.0


def _audio_stream(position: int, s: dict, fallback_duration: float | None) -> AudioStream:
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


class FFmpeg:
    """The ffmpeg executable; media work builds argv lists and runs them through process."""

    def __init__(self, executable: str = "ffmpeg"):
        self.executable = executable

    def version(self) -> str | None:
        return tool_version(self.executable)

    def run(self, args: list[str], timeout: float | None = None):
        return process.run([self.executable, "-nostdin", "-hide_banner", *args], "ffmpeg", timeout=timeout)


@lru_cache(maxsize=16)
def tool_version(executable: str) -> str | None:
    """First version-looking token of ``EXE -version`` (``--version`` for mkvmerge), or None."""
    if process.which(executable) is None:
        return None
    flag = "--version" if "mkv" in Path(executable).name else "-version"
    try:
        out = process.run([executable, flag], Path(executable).name, timeout=20).stdout.decode(errors="replace")
    except ToolError:
        return None
    match = re.search(r"v?(\d+\.\d+(?:\.\d+)?)", out)
    return match.group(1) if match else out.splitlines()[0] if out else None
