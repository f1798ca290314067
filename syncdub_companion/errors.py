"""One exception hierarchy for the whole service.

Every error the user can cause or fix derives from :class:`SyncDubError`; the CLI turns
those into a one-line message and a non-zero exit, the web layer into a status code.
Anything else escaping a stage is a bug and is logged with its traceback.
"""
from __future__ import annotations


class SyncDubError(Exception):
    """Base of every expected failure. ``exit_code`` and ``status`` pick the CLI/HTTP outcome."""

    exit_code = 1
    status = 500


class ConfigError(SyncDubError):
    """The configuration is invalid; ``problems`` lists every ``path: message`` found."""

    exit_code = 2
    status = 400

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


class UsageError(SyncDubError):
    """Bad input from the user: a missing file, a track index out of range, too little audio."""

    exit_code = 2
    status = 400


class PathNotAllowedError(UsageError):
    """A path lies outside the configured library roots, or escapes them through a symlink."""

    status = 403


class PluginError(SyncDubError):
    """A plugin failed to load or declares a hook that does not exist."""

    exit_code = 3


class ToolError(SyncDubError):
    """An external program failed. Carries the tool name, exit code and the tail of stderr."""

    def __init__(self, tool: str, message: str, returncode: int | None = None, stderr: str = ""):
        self.tool = tool
        self.returncode = returncode
        self.stderr_tail = "\n".join(stderr.strip().splitlines()[-8:])
        detail = f" (exit {returncode})" if returncode is not None else ""
        tail = f": {self.stderr_tail.splitlines()[-1]}" if self.stderr_tail else ""
        super().__init__(f"{tool}{detail}: {message}{tail}")


class ToolMissingError(ToolError):
    """The program is not installed or not at the configured path."""

    exit_code = 4


class MediaError(UsageError):
    """A media file is unreadable, has no audio, or is too short to work with."""


class AlignmentRejected(SyncDubError):
    """The counterpart is not the same content; ``reason`` says why. Permanent: never retried."""

    exit_code = 5

    def __init__(self, reason: str, confidence: float = 0.0):
        self.reason = reason
        self.confidence = confidence
        super().__init__(reason)


class DiskFullError(SyncDubError):
    """Not enough free space for the output, or the disk filled while writing."""

    exit_code = 6


class VerificationError(SyncDubError):
    """A merged file failed verification; the original was left untouched."""


class FileBusyError(SyncDubError):
    """Another merge (a job, ``syncdub resync``, a remote worker) holds the file's lock.

    Transient: the job goes back to the queue and tries again shortly.
    """

    exit_code = 7


class FileChangedError(SyncDubError):
    """The file was written by something else while the merge ran; the merge is not
    published, the file keeps what the other writer put there. Transient: retried."""

    exit_code = 7


class ServerError(SyncDubError):
    """A media server could not be reached or refused a request.

    ``transient`` errors (connection refused, timeouts, 5xx) are retried with backoff;
    others (401, 404) stop using that server for this job.
    """

    def __init__(self, server: str, message: str, transient: bool = False):
        self.server = server
        self.transient = transient
        super().__init__(f"{server}: {message}")


class ModelMissingError(SyncDubError):
    """A speech model is not installed where the settings say; the message names the fix."""

    exit_code = 4
