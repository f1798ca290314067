"""The helpers of the aligner speed benchmark: /proc I/O polling, the picture mux, seed choice."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from benchmarks.align_speed import baseline_command, main, parse_seeds, why_skip
from benchmarks.corpus import SR
from benchmarks.procio import IoPoller, descendants, ffmpeg_input, read_io
from benchmarks.videomux import audio_shift, with_video

needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")


def test_poller_sees_what_a_child_reads(tmp_path):
    data = tmp_path / "data.bin"
    data.write_bytes(os.urandom(3 << 20))
    # The child reads the file, then lingers so that a poll finds it alive after the read.
    child = [sys.executable, "-c", f"open({str(data)!r}, 'rb').read(); import time; time.sleep(1)"]
    with IoPoller(match=lambda argv: "reader" if argv[1:2] == ["-c"] else None, interval=0.05) as poller:
        proc = subprocess.Popen(child)
        proc.wait()
    assert poller.totals()["reader"]["processes"] == 1
    assert poller.totals()["reader"]["rchar"] >= 3 << 20


def test_record_takes_an_exited_unreaped_childs_final_count(tmp_path):
    data = tmp_path / "data.bin"
    data.write_bytes(os.urandom(2 << 20))
    proc = subprocess.Popen([sys.executable, "-c", f"open({str(data)!r}, 'rb').read()"])
    os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
    poller = IoPoller()
    poller.record(proc.pid, "reader")
    proc.wait()
    assert poller.totals()["reader"]["rchar"] >= 2 << 20


def test_descendants_and_io_of_a_live_child():
    proc = subprocess.Popen(["sleep", "5"])
    try:
        assert proc.pid in descendants(os.getpid())
        assert set(read_io(proc.pid)) >= {"rchar", "read_bytes"}
    finally:
        proc.kill()
        proc.wait()
    assert read_io(proc.pid) is None


def test_ffmpeg_input_names_the_file_after_dash_i():
    assert ffmpeg_input(["/usr/bin/ffmpeg", "-nostdin", "-i", "/a/b.mkv", "-map", "0:1", "pipe:1"]) == "/a/b.mkv"
    assert ffmpeg_input(["ffprobe", "-i", "/a/b.mkv"]) is None
    assert ffmpeg_input(["ffmpeg", "-version"]) is None
    assert ffmpeg_input([]) is None


def test_seeds_and_what_is_skipped():
    assert parse_seeds("2000-2002,2005") == [2000, 2001, 2002, 2005]
    assert "wrong-film" in why_skip("random", 2000, 7200)           # another episode
    assert "tempo" in why_skip("random", 2003, 7200)                # pitch-corrected, 2 h
    assert why_skip("random", 2003, 600) is None
    assert why_skip("random", 2002, 7200) is None
    assert why_skip("feature_pal", 0, 7200) is None
    assert "validation" in why_skip("random", 5050, 7200)           # run only to report accuracy


def test_blind_seeds_are_refused_before_anything_is_built(tmp_path):
    with pytest.raises(SystemExit, match="blind"):
        main(["--seeds", "2002,5000-5001", "--cache", str(tmp_path), "--out", str(tmp_path / "out.json")])
    assert not any(tmp_path.iterdir())


def test_baseline_runs_the_other_checkouts_package(tmp_path):
    """The baseline command imports syncdub_companion from the tree it names."""
    (tmp_path / "syncdub_companion").mkdir()
    (tmp_path / "syncdub_companion" / "__init__.py").write_text("")
    (tmp_path / "syncdub_companion" / "__main__.py").write_text("import sys; print('other tree'); sys.exit(3)")
    done = subprocess.run(baseline_command(tmp_path), capture_output=True, text=True)
    assert (done.returncode, done.stdout.strip()) == (3, "other tree")


@needs_ffmpeg
def test_picture_mux_keeps_the_decoded_audio(tmp_path):
    """Copied into MP4 the AAC dub decodes as before; into Matroska its priming shows (21 ms)."""
    def ffmpeg(*args):
        subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args], check=True)

    audio, clip = tmp_path / "dub.mp4", tmp_path / "clip.mkv"
    ffmpeg("-f", "lavfi", "-i", "sine=f=440:d=3:r=48000", "-af", "volume=0.3,apulsator=hz=3",
           "-c:a", "aac", "-b:a", "128k", str(audio))
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x36:r=24:d=1", "-c:v", "libx264", "-preset", "ultrafast", str(clip))
    as_mp4 = with_video(audio, clip, 3.0, tmp_path / "dub.video.mp4", "mp4")
    as_mkv = with_video(audio, clip, 3.0, tmp_path / "dub.video.mkv")
    assert audio_shift(audio, as_mp4, 3.0) == 0.0
    assert audio_shift(audio, as_mkv, 3.0) == pytest.approx(1024 / SR)
