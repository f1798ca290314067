"""Which errors are retried, and how long the backoff is."""
from __future__ import annotations

import errno

import pytest

from syncdub_companion.errors import (AlignmentRejected, DiskFullError, MediaError, PathNotAllowedError,
                                      ServerError, ToolError, UsageError)
from syncdub_companion.pipeline.policy import backoff, describe, final_state, is_transient


@pytest.mark.parametrize("error,transient", [
    (ServerError("plex", "connection refused", transient=True), True),
    (ServerError("plex", "401 Unauthorized"), False),
    (OSError(errno.EBUSY, "busy"), True),
    (OSError(errno.ETXTBSY, "text file busy"), True),
    (ConnectionResetError(), True),
    (TimeoutError(), True),
    (DiskFullError("disk full"), True),
    (OSError(errno.ENOENT, "missing"), False),
    (AlignmentRejected("another film"), False),
    (MediaError("no audio"), False),
    (UsageError("bad"), False),
    (PathNotAllowedError("outside"), False),
    (ToolError("ffmpeg", "failed", 1), False),
    (ValueError("bug"), False),
])
def test_is_transient(error, transient):
    assert is_transient(error) is transient


def test_final_state_and_descriptions():
    assert final_state(AlignmentRejected("x")) == "rejected"
    assert final_state(MediaError("x")) == "failed"
    assert describe(OSError(errno.EBUSY, "Device or resource busy", "/m/a.mkv")) == "Device or resource busy: /m/a.mkv"
    assert describe(ValueError("bad")).startswith("internal error (ValueError: bad)")


def test_backoff_doubles_and_is_capped():
    assert [backoff(60, n) for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert backoff(60, 40) == 86400
