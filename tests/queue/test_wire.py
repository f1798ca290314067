"""Errors cross the broker as the same types, so the service's retry policy decides as if the
stage had run in its own process; paths cross in the service's form."""
from __future__ import annotations

import errno

from syncdub_companion.errors import AlignmentRejected, FileBusyError, MediaError, ServerError, ToolError
from syncdub_companion.pipeline import policy
from syncdub_companion.queue.wire import PathMap, RemoteCrash, error_from_wire, error_to_wire, result_to_service


def round_trip(exc):
    return error_from_wire(error_to_wire(exc))


def test_errors_keep_type_message_and_what_the_policy_reads():
    rejected = round_trip(AlignmentRejected("not the same film", 0.12))
    assert isinstance(rejected, AlignmentRejected) and (rejected.reason, rejected.confidence) == ("not the same film", 0.12)
    assert policy.final_state(rejected) == "rejected" and not policy.is_transient(rejected)
    busy = round_trip(FileBusyError("Film.mkv: another merge still holds it"))
    assert isinstance(busy, FileBusyError) and policy.is_transient(busy) and "still holds it" in str(busy)
    assert policy.is_transient(round_trip(ServerError("queue", "down", transient=True)))
    assert not policy.is_transient(round_trip(ServerError("plex", "401", transient=False)))
    tool = round_trip(ToolError("mkvmerge", "failed", 2, "bad\nworse"))
    assert isinstance(tool, ToolError) and tool.returncode == 2 and str(tool) == "mkvmerge (exit 2): failed: worse"
    assert isinstance(round_trip(MediaError("no audio")), MediaError)


def test_os_errors_keep_their_errno_and_unknown_types_become_remote_crash():
    stale = round_trip(OSError(errno.ESTALE, "Stale file handle", "/mnt/nas/Film.mkv"))
    assert isinstance(stale, OSError) and stale.errno == errno.ESTALE and policy.is_transient(stale)
    odd = error_from_wire({"type": "KeyboardInterrupt", "message": "nope", "attrs": {}})
    assert isinstance(odd, RemoteCrash) and str(odd) == "nope" and not policy.is_transient(odd)


def test_paths_map_both_ways_and_results_come_back_in_the_services_form():
    paths = PathMap([("/data/movies", "/mnt/nas/movies")])
    assert paths.local("/data/movies/Film (2010)/Film.mkv") == "/mnt/nas/movies/Film (2010)/Film.mkv"
    assert paths.service("/mnt/nas/movies/Film.mkv") == "/data/movies/Film.mkv"
    result = {"status": "done", "output_path": "/mnt/nas/movies/Film.mkv",
              "plan": {"original": "/mnt/nas/movies/Film.mkv", "dubbed": "/mnt/nas/movies/Film.de.mka", "codec": "ac3"}}
    back = result_to_service(result, paths)
    assert back["output_path"] == "/data/movies/Film.mkv"
    assert back["plan"] == {"original": "/data/movies/Film.mkv", "dubbed": "/data/movies/Film.de.mka", "codec": "ac3"}
    assert PathMap([]).local("/x/y.mkv") == "/x/y.mkv"
