"""What happens to a job after an error: retry later, or stop for good.

Transient errors (a server that is down, a file another program holds or another merge
has locked or wrote meanwhile, a full disk that may be cleaned up) are retried with exponential backoff; every other expected error is
permanent. Anything unexpected is a bug: logged with its traceback, the job fails, and
the service keeps running.
"""
from __future__ import annotations

import errno

from ..errors import AlignmentRejected, DiskFullError, FileBusyError, FileChangedError, ServerError, SyncDubError

TRANSIENT_ERRNOS = frozenset({
    errno.EBUSY, errno.EAGAIN, errno.ETXTBSY, errno.EINTR, errno.ETIMEDOUT, errno.ECONNREFUSED,
    errno.ECONNRESET, errno.ECONNABORTED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ENETDOWN,
    errno.ESTALE, errno.ENOLCK,
})


def is_transient(exc: BaseException) -> bool:
    """True for errors worth retrying: ServerError(transient=True), busy files, network blips."""
    if isinstance(exc, ServerError):
        return exc.transient
    if isinstance(exc, (DiskFullError, FileBusyError, FileChangedError)):
        return True
    if isinstance(exc, SyncDubError):
        return False
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return True
    return isinstance(exc, OSError) and exc.errno in TRANSIENT_ERRNOS


def final_state(exc: BaseException) -> str:
    """The job state a permanent error leads to."""
    return "rejected" if isinstance(exc, AlignmentRejected) else "failed"


def backoff(base: float, attempts: int) -> float:
    """Seconds before the next try: ``base``, doubling with each attempt (capped at a day)."""
    return min(86400.0, base * 2 ** max(0, attempts - 1))


def describe(exc: BaseException) -> str:
    """One line for the job's error field; unexpected exceptions name their type."""
    if isinstance(exc, SyncDubError):
        return str(exc)
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.strerror or exc}: {exc.filename}"
    return f"internal error ({type(exc).__name__}: {exc}); see the service log"
