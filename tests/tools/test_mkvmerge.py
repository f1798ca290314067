"""The mkvmerge wrapper against the real mkvmerge: inputs, track options and the one runner."""
from __future__ import annotations

import os
import shutil
import sys

import pytest

from syncdub_companion.errors import MediaError, ToolError
from syncdub_companion.tools.ffprobe import FFprobe
from syncdub_companion.tools.mkvmerge import MkvInput, MkvMerge, TrackOptions

mkvmerge = MkvMerge()


def tracks(path):
    return [(t["type"], t["properties"]) for t in mkvmerge.identify(path)["tracks"]]


def test_a_base_file_plus_a_single_track_with_its_options(tmp_path, two_tones, split_stereo):
    srt = tmp_path / "forced.srt"
    srt.write_text("1\n00:00:00,500 --> 00:00:01,000\nÜber\n", encoding="utf-8")
    out, seen = tmp_path / "out.mkv", []
    base = MkvInput(two_tones, tracks=(TrackOptions(1, default=False),), drop_audio=(2,))
    dub = MkvInput.single_track(split_stereo, "audio", language="fre", name="Français", default=True, sync_ms=250)
    sub = MkvInput.single_track(srt, "subtitles", language="ger", name="Forced (synced)", default=False,
                                forced=True, charset="UTF-8")
    mkvmerge.mux(out, [base, dub, sub], progress=seen.append)
    got = tracks(out)
    assert [kind for kind, _ in got] == ["video", "audio", "audio", "subtitles"]  # the German track dropped
    assert got[1][1]["language"] == "eng" and got[1][1]["default_track"] is False
    assert (got[2][1]["language"], got[2][1]["track_name"], got[2][1]["default_track"]) == ("fre", "Français", True)
    assert (got[3][1]["language"], got[3][1]["forced_track"]) == ("ger", True)
    assert seen and seen[-1] == 1.0
    added = FFprobe().audio_streams(out)[1]
    assert added.start_time == pytest.approx(0.25, abs=0.002)  # the --sync delay


def test_only_some_audio_and_a_split(tmp_path, two_tones):
    out = tmp_path / "cut.mka"
    source = MkvInput(two_tones, keep=("audio",), audio=(1,), extras=False)
    mkvmerge.mux(out, [source], split="parts:0s-1s")
    assert [p["language"] for _, p in tracks(out)] == ["eng"]
    assert FFprobe().duration(out) == pytest.approx(1.0, abs=0.05)


def stub(tmp_path, body: str) -> str:
    """A stand-in mkvmerge (tools.mkvmerge may name any program) for exits the real one rarely gives."""
    path = tmp_path / "mkvmerge-stub"
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return str(path)


def test_exit_1_is_warnings_and_counts_as_success(tmp_path, two_tones):
    out = tmp_path / "warned.mkv"
    fake = stub(tmp_path, f'{shutil.which("mkvmerge")} "$@" >/dev/null; echo "#GUI#warning something odd"; exit 1')
    MkvMerge(fake).mux(out, [MkvInput(two_tones)])
    assert len(tracks(out)) == 3


def test_a_failure_carries_mkvmerge_messages(tmp_path, two_tones):
    fake = stub(tmp_path, 'echo "#GUI#progress 10%"; echo "#GUI#error No space left on device"; exit 2')
    with pytest.raises(ToolError) as info:
        MkvMerge(fake).mux(tmp_path / "x.mkv", [MkvInput(two_tones)])
    assert info.value.returncode == 2 and "No space left on device" in info.value.stderr_tail
    assert "#GUI#progress" not in info.value.stderr_tail


def test_a_hung_mkvmerge_is_killed_at_the_timeout(tmp_path, two_tones):
    fake = stub(tmp_path, f"exec {sys.executable} -c 'import time; time.sleep(30)'")
    with pytest.raises(ToolError, match="timed out"):
        MkvMerge(fake).mux(tmp_path / "x.mkv", [MkvInput(two_tones)], timeout=0.5)


def test_identify_refuses_what_it_cannot_read(tmp_path):
    with pytest.raises(MediaError, match="cannot read"):
        mkvmerge.identify(tmp_path / "absent.mkv")
    assert mkvmerge.version()[0].isdigit()


def test_a_mux_cancelled_by_its_progress_callback_leaves_no_mkvmerge_running(tmp_path, two_tones):
    pid_file = tmp_path / "pid"
    script = (f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); "
              "print('#GUI#progress 5%', flush=True); time.sleep(30)")
    fake = stub(tmp_path, f'exec {sys.executable} -c "{script}"')

    def cancel(_fraction):
        raise KeyboardInterrupt("job stopped")

    with pytest.raises(KeyboardInterrupt):
        MkvMerge(fake).mux(tmp_path / "x.mkv", [MkvInput(two_tones)], progress=cancel)
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)
