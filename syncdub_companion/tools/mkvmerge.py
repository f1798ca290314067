"""mkvmerge (mkvtoolnix): identify Matroska files and write them.

A command line is an output plus inputs (:class:`MkvInput`), each with options for its
tracks (:class:`TrackOptions`); :meth:`MkvMerge.mux_argv` puts them in mkvmerge's order
(every input's options before its file name). :meth:`MkvMerge.run` is the one runner: it
reads ``--gui-mode`` progress and messages, and treats exit 1 (warnings only) as success.
"""
from __future__ import annotations

import json
import re
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from ..errors import MediaError, ToolError
from . import process

PROGRESS_RE = re.compile(r"#GUI#progress (\d+)%")
MESSAGE_PREFIXES = ("#GUI#error", "#GUI#warning")
WARNINGS_ONLY = 1  # mkvmerge's exit code when it wrote the file but had something to say
# What an added single-track file leaves out: everything but its track.
NO_EXTRAS = ("--no-chapters", "--no-attachments", "--no-global-tags", "--no-track-tags", "--no-buttons")


@dataclass(frozen=True)
class TrackOptions:
    """Options for one track of an input, by its mkvmerge track id; None leaves a property as it is."""

    tid: int = 0
    language: str | None = None
    name: str | None = None
    default: bool | None = None
    forced: bool | None = None
    sync_ms: int = 0
    tags_file: Path | None = None
    charset: str | None = None  # a text subtitle file's character set

    def args(self) -> list[str]:
        tid, args = self.tid, []
        if self.language is not None:
            args += ["--language", f"{tid}:{self.language}"]
        if self.name is not None:
            args += ["--track-name", f"{tid}:{self.name}"]
        if self.default is not None:
            args += ["--default-track-flag", f"{tid}:{int(self.default)}"]
        if self.forced is not None:
            args += ["--forced-display-flag", f"{tid}:{int(self.forced)}"]
        if self.charset is not None:
            args += ["--sub-charset", f"{tid}:{self.charset}"]
        if self.tags_file is not None:
            args += ["--tags", f"{tid}:{self.tags_file}"]
        if self.sync_ms:
            args += ["--sync", f"{tid}:{self.sync_ms}"]
        return args


@dataclass(frozen=True)
class MkvInput:
    """One input file: which of its tracks to keep, what else to drop, and per-track options.

    ``audio`` keeps only those audio track ids and ``drop_audio`` drops those (``drop_subtitles``
    likewise for subtitle tracks); ``keep`` lists
    the kinds kept (video, audio, subtitles); ``extras`` False drops chapters, attachments,
    tags and buttons.
    """

    path: Path
    tracks: tuple[TrackOptions, ...] = ()
    keep: tuple[str, ...] = ("video", "audio", "subtitles")
    audio: tuple[int, ...] = ()
    drop_audio: tuple[int, ...] = ()
    extras: bool = True
    drop_subtitles: tuple[int, ...] = ()

    @classmethod
    def single_track(cls, path: Path, kind: str = "audio", **options) -> MkvInput:
        """A one-track file (a dub, a subtitle) and nothing else of it: ``options`` as for
        :class:`TrackOptions` (language, name, default, forced, sync_ms, tags_file, charset)."""
        return cls(Path(path), tracks=(TrackOptions(0, **options),), keep=(kind,), extras=False)

    def args(self) -> list[str]:
        args = [f"--no-{kind}" for kind in ("video", "audio", "subtitles") if kind not in self.keep]
        args += [] if self.extras else list(NO_EXTRAS)
        if self.audio:
            args += ["--audio-tracks", ",".join(map(str, self.audio))]
        elif self.drop_audio:
            args += ["--audio-tracks", "!" + ",".join(map(str, self.drop_audio))]
        if self.drop_subtitles:
            args += ["--subtitle-tracks", "!" + ",".join(map(str, self.drop_subtitles))]
        for track in self.tracks:
            args += track.args()
        return [*args, str(self.path)]


class MkvMerge(process.Program):
    """The mkvmerge executable."""

    name = "mkvmerge"
    version_flag = "--version"

    def mux_argv(self, output: Path, inputs: Iterable[MkvInput], *, split: str | None = None) -> list[str]:
        """Write ``inputs`` in order into ``output``; ``split`` is mkvmerge's ``--split`` value."""
        argv = [self.executable, "--gui-mode", "-o", str(output)]
        for source in inputs:
            argv += source.args()
        return argv + (["--split", split] if split else [])

    def identify_argv(self, path: Path) -> list[str]:
        return [self.executable, "--gui-mode", "-J", str(path)]

    def identify(self, path: str | Path) -> dict:
        """mkvmerge's JSON identification (tracks, attachments, chapters, properties)."""
        try:
            out = self.run(self.identify_argv(Path(path)), timeout=120)
        except ToolError as exc:
            if exc.returncode is None:
                raise
            raise MediaError(f"{path}: mkvmerge cannot read it") from None
        return json.loads(out or "{}")

    def mux(self, output: Path, inputs: Iterable[MkvInput], *, split: str | None = None,
            progress: Callable[[float], None] | None = None, timeout: float | None = None) -> None:
        """Write ``output``; ToolError with mkvmerge's messages when it fails or writes nothing."""
        self.run(self.mux_argv(output, inputs, split=split), progress=progress, timeout=timeout)

    def run(self, argv: list[str], *, progress: Callable[[float], None] | None = None,
            timeout: float | None = None) -> str:
        """Run a ``--gui-mode`` argv; returns stdout without progress lines. ``progress`` hears 0-1.

        Exit 0 and 1 (warnings) succeed; anything else raises ToolError carrying mkvmerge's
        errors and warnings (or, if it printed none, whatever it wrote).
        """
        with tempfile.TemporaryFile() as stderr:
            proc = process.popen(argv, "mkvmerge", stdout=subprocess.PIPE, stderr=stderr)
            timer = _kill_after(proc, timeout)
            try:
                lines, messages = _read_gui(proc.stdout, progress)
                code = proc.wait()
            except BaseException:
                # A progress callback that cancels (a job stopped, a worker told to quit)
                # must not leave mkvmerge writing into a temp that is about to be removed.
                proc.kill()
                proc.wait()
                raise
            finally:
                if timer:
                    timer.cancel()
            stderr.seek(0)
            errors = stderr.read().decode("utf-8", "replace")
        if timer and timer.fired:
            raise ToolError("mkvmerge", f"timed out after {timeout:g} s")
        if code not in (0, WARNINGS_ONLY):
            text = "\n".join(messages) or "\n".join([*lines, errors]).strip() or "no message"
            raise ToolError("mkvmerge", "failed", code, text)
        return "\n".join(lines)


def _read_gui(stream, progress: Callable[[float], None] | None) -> tuple[list[str], list[str]]:
    lines, messages = [], []
    with stream:
        for raw in stream:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            match = PROGRESS_RE.match(line)
            if match:
                if progress:
                    progress(int(match.group(1)) / 100)
                continue
            if line.startswith(MESSAGE_PREFIXES):
                messages.append(line.split(" ", 1)[-1])
            lines.append(line)
    return lines, messages


class _Deadline(threading.Timer):
    fired = False

    def run(self):
        self.fired = not self.finished.wait(self.interval)
        if self.fired:
            self.function()


def _kill_after(proc: subprocess.Popen, timeout: float | None) -> _Deadline | None:
    """A timer that kills ``proc`` after ``timeout`` seconds (None: never)."""
    if timeout is None:
        return None
    timer = _Deadline(timeout, proc.kill)
    timer.daemon = True
    timer.start()
    return timer
