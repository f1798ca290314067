"""A corpus pair at a real release's size: a dummy 1080p H.264 picture muxed beside its audio.

Corpus files hold audio only (or a 64x36 black picture), so a decoder reads a few hundred
MB where a release's demuxer reads several GB. :func:`video_pair` loops one short 1080p
clip, encoded once at the wanted bitrate, under each file's own audio, stream-copied::

    clip = video_clip(cache, mbps=5)
    big, made = video_pair(pair, clip)       # made: the new files, to delete when done

The audio packets are copied, not re-encoded, so what ffmpeg decodes stays what the truth
was measured on. The new file is Matroska, except beside an MP4 source: MP4 signals the
AAC encoder delay in an edit list, which Matroska (as ffmpeg writes it) does not carry, so
copied into Matroska the dub would decode 1024 priming samples (21 ms) later. The new file
stays MP4 then. :func:`audio_shift` checks every file on its first 30 s; a shift found
anyway moves the truth with it and is recorded in ``meta["video"]``.
"""
from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path

import numpy as np
from scipy import signal

from syncdub_companion.errors import ToolError
from syncdub_companion.tools import process

from .corpus import FORMATS, SR, Pair, decode

CLIP_SECONDS = 10
# Containers a release with a picture comes in; an audio-only dub (mka, opus, mp3) stays as it is.
VIDEO_EXTS = {"mkv", "mp4", "m2ts"}


def video_clip(cache: Path, mbps: float) -> Path:
    """10 s of noisy 1080p24 test pattern, constant bitrate ``mbps``, encoded once into ``cache``."""
    path = Path(cache) / f"video-clip-1080p-{mbps:g}mbps.mkv"
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_file():
        return path
    rate = f"{mbps * 1000:.0f}k"
    _ffmpeg(["-f", "lavfi", "-i", f"testsrc2=s=1920x1080:r=24:d={CLIP_SECONDS}",
             "-vf", "noise=alls=12:allf=t+u", "-c:v", "libx264", "-preset", "ultrafast",
             "-b:v", rate, "-minrate", rate, "-maxrate", rate, "-bufsize", f"{2 * mbps * 1000:.0f}k",
             "-x264-params", "nal-hrd=cbr", "-g", "48", "-pix_fmt", "yuv420p"], path)
    return path


def with_video(audio: Path, clip: Path, duration: float, out: Path, muxer: str = "matroska") -> Path:
    """``audio``'s audio streams, copied, under ``clip`` looped for ``duration`` s."""
    if not out.is_file():
        _ffmpeg(["-stream_loop", "-1", "-i", str(clip), "-i", str(audio), "-map", "0:v", "-map", "1:a",
                 "-c", "copy", "-t", f"{math.ceil(duration) + 2}"], out, muxer)
    return out


def audio_shift(source: Path, muxed: Path, seconds: float = 30.0) -> float:
    """Seconds by which ``muxed``'s decoded audio lags ``source``'s (0.0 when sample-identical)."""
    a, b = decode(source, seconds), decode(muxed, seconds)
    n = min(len(a), len(b))
    if n and np.array_equal(a[:n], b[:n]):
        return 0.0
    x, y = a[:n, 0].astype(np.float64), b[:n, 0].astype(np.float64)
    corr = signal.correlate(y, x, "full", method="fft")
    return (int(np.argmax(corr)) - (len(x) - 1)) / SR


def video_pair(pair: Pair, clip: Path, mbps: float) -> tuple[Pair, list[Path]]:
    """``pair`` with the picture under its original (and its dub, when that is a video container)."""
    made, shifts = [], {}
    paths = {}
    for role in ("original", "dubbed"):
        src: Path = getattr(pair, role)
        if role == "dubbed" and FORMATS[pair.meta[role]["format"]].ext not in VIDEO_EXTS:
            paths[role], shifts[role] = src, 0.0
            continue
        muxer, ext = ("mp4", "mp4") if pair.meta[role]["container"] == "mp4" else ("matroska", "mkv")
        out = src.with_name(f"{src.name.rsplit('.', 1)[0]}.video{mbps:g}mbps.{ext}")
        existed = out.is_file()
        paths[role] = with_video(src, clip, float(pair.meta[role]["duration"]), out, muxer)
        if not existed:
            made.append(out)
        shifts[role] = audio_shift(src, out)
    return _moved(pair, paths, shifts, mbps), made


def _moved(pair: Pair, paths: dict[str, Path], shifts: dict[str, float], mbps: float) -> Pair:
    """The pair on the new files, its truth moved by any shift of the decoded timelines."""
    so, sd = shifts["original"], shifts["dubbed"]
    truth = [{"dub_start": s["dub_start"] + sd, "dub_end": s["dub_end"] + sd,
              "orig_start": s["orig_start"] + so, "orig_end": s["orig_end"] + so} for s in pair.truth]
    meta = dict(pair.meta, video={"mbps": mbps, "audio_shift_s": shifts,
                                  "sizes": {r: os.path.getsize(p) for r, p in paths.items()}})
    meta["dubbed"] = dict(pair.meta["dubbed"], duration=pair.meta["dubbed"]["duration"] + sd)
    return dataclasses.replace(pair, original=paths["original"], dubbed=paths["dubbed"], truth=truth,
                               dub_only=[(a + sd, b + sd) for a, b in pair.dub_only], meta=meta)


def _ffmpeg(args: list[str], out: Path, muxer: str = "matroska") -> None:
    """Run ffmpeg writing ``out`` through a partial file, removed on failure."""
    part = out.with_name(out.name + ".part")
    try:
        process.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args, "-f", muxer, str(part)], "ffmpeg")
    except ToolError:
        part.unlink(missing_ok=True)
        raise
    part.replace(out)
