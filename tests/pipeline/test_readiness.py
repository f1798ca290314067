"""File readiness: quiet for stable_seconds, unchanged since the last look, and readable."""
from __future__ import annotations

import os
import time

import pytest

from syncdub_companion.errors import MediaError
from syncdub_companion.pipeline.readiness import check, check_all


def make(path, age: float, data: bytes = b"abc"):
    path.write_bytes(data)
    then = time.time() - age
    os.utime(path, (then, then))
    return str(path)


def test_an_old_file_is_ready_at_once(tmp_path):
    verdict, seen = check(make(tmp_path / "a.mkv", age=120), 30)
    assert verdict.ready and seen["size"] == 3


def test_a_fresh_file_waits_for_the_rest_of_the_quiet_period(tmp_path):
    verdict, _ = check(make(tmp_path / "a.mkv", age=10), 30)
    assert not verdict.ready and 20 <= verdict.wait <= 21 and "changed 10 s ago" in verdict.reason


def test_a_file_that_changed_since_the_last_look_is_not_ready(tmp_path):
    path = make(tmp_path / "a.mkv", age=120)
    _, seen = check(path, 30)
    make(tmp_path / "a.mkv", age=120, data=b"abcdef")  # grew, but its mtime was set back (rsync -t)
    verdict, again = check(path, 30, last=seen)
    assert not verdict.ready and "still being written (size 6)" in verdict.reason
    assert check(path, 30, last=again)[0].ready


def test_a_missing_file_waits(tmp_path):
    verdict, seen = check(str(tmp_path / "nope.mkv"), 30)
    assert not verdict.ready and "not there yet" in verdict.reason and seen == {} and verdict.wait == 10


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_file_waits(tmp_path):
    path = make(tmp_path / "a.mkv", age=120)
    os.chmod(path, 0)
    verdict, _ = check(path, 30)
    assert not verdict.ready and "not readable" in verdict.reason


def test_a_folder_is_a_permanent_error(tmp_path):
    with pytest.raises(MediaError, match="not a regular file"):
        check(str(tmp_path), 30)


def test_check_all_reports_the_first_file_not_ready(tmp_path):
    ready = make(tmp_path / "a.mkv", age=120)
    fresh = make(tmp_path / "b.mka", age=1)
    verdict, seen = check_all([ready, fresh], 30)
    assert not verdict.ready and fresh in verdict.reason and set(seen) == {ready, fresh}
