"""ffmpeg: decode an audio stream to raw PCM, encode raw PCM, check that a stream decodes.

Every argv is built with ffmpeg-python (``input(...).output(...).get_args()``) and started
through :mod:`.process`, never with ffmpeg-python's own ``run``: one function starts every
process, so a missing program or a failure is the same typed error everywhere, and a
streaming decoder can be killed when a job is cancelled. Filters go in as plain ``-af``
strings rather than ffmpeg-python filter nodes, which would turn a one-stream chain into a
``-filter_complex`` graph with labels. See docs/tools.md.
"""
from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Sequence, Union

import ffmpeg as ffmpeg_python

from ..errors import ToolError, UsageError
from . import process

# Ahead of everything else: no stdin (a job runs without a terminal), no banner, errors only.
GLOBAL_ARGS = ("-nostdin", "-hide_banner", "-v", "error")
# libopus takes only its own channel layouts; a same-count layout (5.1(side)) is relabelled.
OPUS_LAYOUTS = {1: "mono", 2: "stereo", 3: "3.0", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}
PCM_CODECS = {"f32le": "pcm_f32le", "s16le": "pcm_s16le"}
Stderr = Union[int, IO[bytes], None]


@dataclass(frozen=True)
class Pcm:
    """How decoded samples leave ffmpeg: raw ``sample_format`` at ``sample_rate`` on stdout.

    ``audio_filter`` (an ``-af`` chain) runs first; ``channels`` then down- or up-mixes
    (None keeps what the filter or the stream gives).
    """

    sample_rate: int
    sample_format: str = "f32le"
    channels: int | None = None
    audio_filter: str | None = None

    def output_options(self) -> dict:
        if self.sample_format not in PCM_CODECS:
            raise UsageError(f"unknown PCM format {self.sample_format!r}")
        options = {"f": self.sample_format, "acodec": PCM_CODECS[self.sample_format], "ar": self.sample_rate}
        if self.channels is not None:
            options["ac"] = self.channels
        if self.audio_filter:
            options["af"] = self.audio_filter
        return options


@dataclass(frozen=True)
class Encoding:
    """An audio encoding of raw float PCM: ``codec`` is opus, ac3, eac3 or flac."""

    codec: str
    sample_rate: int
    channels: int
    channel_layout: str
    bitrate: int | None = None

    def output_options(self) -> dict:
        if self.codec == "opus":
            return {"af": f"channelmap=channel_layout={OPUS_LAYOUTS[self.channels]}",
                    "c:a": "libopus", "b:a": self.bitrate}
        if self.codec in ("ac3", "eac3"):
            return {"c:a": self.codec, "b:a": self.bitrate}
        if self.codec == "flac":
            return {"c:a": "flac", "sample_fmt": "s32", "compression_level": 5}
        raise UsageError(f"unknown codec {self.codec!r}")


@dataclass(frozen=True)
class Clip:
    """One input of a mix: ``path`` read from ``seek`` (an input-side seek) for ``duration`` seconds."""

    path: Path
    seek: float
    duration: float


class FFmpeg(process.Program):
    """The ffmpeg executable: argv builders, and the processes that run them."""

    name = "ffmpeg"

    # --- argv -----------------------------------------------------------------------------

    def decode_argv(self, path: str | Path, stream_index: int | None, pcm: Pcm, *, seek: float | None = None,
                    duration: float | None = None, copyts: bool = False) -> list[str]:
        """Decode one stream (``stream_index`` among all streams; None: ffmpeg's pick) to stdout.

        ``seek`` goes before the input (fast: from the packet before, dropping samples up to
        it); ``copyts`` keeps the file's own timestamps (an Opus track then starts at -6.5 ms).
        """
        source = ffmpeg_python.input(str(path), **({"ss": f"{seek:.3f}"} if seek is not None else {}))
        if stream_index is not None:
            source = source[str(stream_index)]
        options = pcm.output_options()
        if duration is not None:
            options["t"] = f"{duration:.3f}"
        return self._argv(source.output("pipe:1", **options), *(["-copyts"] if copyts else []))

    def encode_argv(self, output: str | Path, encoding: Encoding) -> list[str]:
        """Encode float PCM from stdin (interleaved, ``encoding``'s rate and layout) into a Matroska ``output``."""
        source = ffmpeg_python.input("pipe:0", f="f32le", ar=encoding.sample_rate, ch_layout=encoding.channel_layout)
        return self._argv(source.output(str(output), f="matroska", **encoding.output_options()), overwrite=True)

    def check_argv(self, path: str | Path, stream_index: int, *, decode: bool = True) -> list[str]:
        """The md5 of one stream's packets on stdout and, with ``decode``, the stream decoded to
        nowhere with ``-progress`` lines (``out_time_us``: where its last frame ends) after it."""
        stream = ffmpeg_python.input(str(path))[str(stream_index)]
        packets = stream.output("pipe:1", c="copy", f="md5")
        if not decode:
            return self._argv(packets)
        # ffmpeg 5.1 reports out_time as the end of the last frame on the file's own timeline
        # (with -copyts it would be the last frame's start instead, up to a FLAC frame short)
        nowhere = stream.output("-", f="null")
        return self._argv(ffmpeg_python.merge_outputs(packets, nowhere), "-progress", "pipe:1", "-nostats")

    def copy_streams_argv(self, path: str | Path, outputs: list[tuple[int, str, str, Path]]) -> list[str]:
        """Several streams of ``path`` in one pass, each to its own file: (stream index,
        codec (``copy`` or an encoder), muxer, output path) each."""
        source = ffmpeg_python.input(str(path))
        specs = [source[str(index)].output(str(out), c=codec, f=muxer) for index, codec, muxer, out in outputs]
        return self._argv(ffmpeg_python.merge_outputs(*specs), overwrite=True)

    def mix_argv(self, inputs: Sequence[Clip], graph: Sequence[str], output: str | Path, *,
                 label: str = "out") -> list[str]:
        """AAC (128 kb/s) in an MP4 made for streaming, from the ``[label]`` pad of a
        ``-filter_complex`` ``graph`` whose chains name the inputs by position (``[0:1]``).

        Built by hand: ffmpeg-python maps every input it is given onto the output (``-map 0``,
        ``-map 1``), and a graph written as text has no input nodes of its own to attach.
        """
        argv = [self.executable, *GLOBAL_ARGS, "-y"]
        for clip in inputs:
            argv += ["-ss", f"{clip.seek:.6f}", "-t", f"{clip.duration:.6f}", "-i", str(clip.path)]
        return argv + ["-filter_complex", ";".join(graph), "-map", f"[{label}]", "-c:a", "aac", "-b:a", "128k",
                       "-movflags", "+faststart", "-f", "mp4", str(output)]

    def _argv(self, spec, *global_args: str, overwrite: bool = False) -> list[str]:
        return [self.executable, *GLOBAL_ARGS, *global_args, *spec.get_args(overwrite_output=overwrite)]

    # --- processes ------------------------------------------------------------------------

    def decode(self, path: str | Path, stream_index: int | None, pcm: Pcm, *, timeout: float | None = None,
               **where) -> bytes:
        """The decoded samples (see :meth:`decode_argv`); ToolError with ffmpeg's stderr when it fails."""
        return process.run(self.decode_argv(path, stream_index, pcm, **where), "ffmpeg", timeout=timeout).stdout

    def copy_streams(self, path: str | Path, outputs: list[tuple[int, str, str, Path]], *,
                     timeout: float | None = None) -> None:
        """Run :meth:`copy_streams_argv`; ToolError with ffmpeg's stderr when it fails."""
        process.run(self.copy_streams_argv(path, outputs), "ffmpeg", timeout=timeout)

    def mix(self, inputs: Sequence[Clip], graph: Sequence[str], output: str | Path, *,
            timeout: float | None = None) -> Path:
        """Write :meth:`mix_argv`'s clip; ToolError (and no partial file) when ffmpeg fails."""
        try:
            process.run(self.mix_argv(inputs, graph, output), "ffmpeg", timeout=timeout)
        except ToolError:
            Path(output).unlink(missing_ok=True)
            raise
        return Path(output)

    def start_decode(self, path: str | Path, stream_index: int | None, pcm: Pcm, *,
                     stderr: Stderr = subprocess.PIPE) -> subprocess.Popen:
        """A running decoder whose stdout delivers the samples; the caller reads, waits and checks."""
        return process.popen(self.decode_argv(path, stream_index, pcm), "ffmpeg", stdout=subprocess.PIPE, stderr=stderr)

    def encode(self, output: str | Path, encoding: Encoding, samples: bytes, *, timeout: float | None = None) -> None:
        """Encode ``samples`` (float32, interleaved) into ``output``; ToolError when it fails."""
        process.run(self.encode_argv(output, encoding), "ffmpeg", input=samples, timeout=timeout)

    def start_encode(self, output: str | Path, encoding: Encoding, *, stderr: Stderr) -> subprocess.Popen:
        """A running encoder taking float samples on its stdin; the caller closes it and waits."""
        return process.popen(self.encode_argv(output, encoding), "ffmpeg",
                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=stderr)

    def start_check(self, path: str | Path, stream_index: int, *, decode: bool = True,
                    stderr: Stderr = subprocess.PIPE) -> subprocess.Popen:
        """A running :meth:`check_argv`; its stdout carries the md5 and progress lines."""
        return process.popen(self.check_argv(path, stream_index, decode=decode), "ffmpeg",
                             stdout=subprocess.PIPE, stderr=stderr)
