"""Decoding both files at once (align/decode.py): the pacing of the decoders, their pipes, and a bed found dead early."""
from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from syncdub_companion.align import decode
from syncdub_companion.tools.ffprobe import AudioStream

F_GETPIPE_SZ = 1032
LINUX = sys.platform.startswith("linux")


def _reading(duration: float, delivered: float, proc) -> decode._Reading:
    stream = AudioStream(index=0, stream_index=1, codec="ac3", channels=2, channel_layout="stereo", sample_rate=48000,
                         language=None, title=None, bit_rate=None, duration=duration, start_time=0.0, default=True)
    reading = decode._Reading(stream)
    reading.bytes = int(delivered * decode.SAMPLE_RATE * 4)
    reading.proc = proc
    return reading


@pytest.fixture
def sleepers():
    procs = [subprocess.Popen(["sleep", "30"]) for _ in range(2)]
    yield procs
    for proc in procs:
        proc.kill()
        proc.wait()


def _nice(pid: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, pid)


@pytest.mark.skipif(not LINUX, reason="per-process nice values as Linux keeps them")
def test_the_decoder_well_ahead_gives_way_and_the_slowest_keeps_its_priority(sleepers):
    fast, slow = sleepers
    base = (_nice(fast.pid), _nice(slow.pid))
    # 30 % of a 2-hour film against 20 % of another, in the same time: the first would finish
    # far ahead of the second under an even share.
    readings = [_reading(7200, 0.3 * 7200, fast), _reading(7200, 0.2 * 7200, slow)]
    pacer = decode._Pacer(readings)
    pacer.check()
    assert _nice(fast.pid) == base[0], "nothing is decided before the rates can tell apart"
    pacer.began -= decode.PACE_AFTER_S
    pacer.check()
    assert _nice(fast.pid) == min(19, base[0] + decode.DECODER_NICE)
    assert _nice(slow.pid) == base[1]
    assert pacer.lowered == [0] and readings[0].give_way and not readings[1].give_way
    pacer.check()   # decided once
    assert _nice(fast.pid) == min(19, base[0] + decode.DECODER_NICE)


@pytest.mark.skipif(not LINUX, reason="per-process nice values as Linux keeps them")
def test_decoders_abreast_are_left_alone(sleepers):
    readings = [_reading(7200, 0.21 * 7200, sleepers[0]), _reading(5400, 0.2 * 5400, sleepers[1])]
    base = [_nice(p.pid) for p in sleepers]
    pacer = decode._Pacer(readings)
    pacer.began -= decode.PACE_AFTER_S
    pacer.check()
    assert [_nice(p.pid) for p in sleepers] == base and pacer.lowered == []


@pytest.mark.skipif(not LINUX, reason="per-process nice values as Linux keeps them")
def test_a_decoder_without_a_probed_duration_is_never_paced(sleepers):
    readings = [_reading(7200, 0.3 * 7200, sleepers[0]), _reading(0.0, 0.0, sleepers[1])]
    base = [_nice(p.pid) for p in sleepers]
    pacer = decode._Pacer(readings)
    pacer.began -= decode.PACE_GIVE_UP_S + 1
    pacer.check()
    assert pacer.done and [_nice(p.pid) for p in sleepers] == base


@pytest.mark.skipif(not LINUX, reason="per-thread nice values as Linux keeps them")
def test_the_reader_of_a_decoder_that_gave_way_lowers_its_own_thread_only(sleepers):
    reading = _reading(7200, 100, sleepers[0])
    reading.give_way = True
    seen = {}

    def reader():
        before = os.getpriority(os.PRIO_PROCESS, 0)
        decode._Pacer([reading]).follow(reading)
        seen["thread"] = (before, os.getpriority(os.PRIO_PROCESS, 0))

    main_before = os.getpriority(os.PRIO_PROCESS, 0)
    thread = threading.Thread(target=reader)
    thread.start()
    thread.join()
    assert seen["thread"][1] == min(19, seen["thread"][0] + decode.DECODER_NICE)
    assert reading.gave_way
    assert os.getpriority(os.PRIO_PROCESS, 0) == main_before, "the process's other threads keep theirs"


@pytest.mark.skipif(not LINUX, reason="F_SETPIPE_SZ is Linux's")
def test_a_decoders_pipe_holds_a_megabyte():
    proc = subprocess.Popen(["sleep", "5"], stdout=subprocess.PIPE)
    try:
        decode._widen_pipe(proc.stdout)
        assert fcntl.fcntl(proc.stdout.fileno(), F_GETPIPE_SZ) == decode.PIPE_BYTES
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()


def _mixes(bed: np.ndarray, full: np.ndarray) -> decode._Mixes:
    mixes = decode._Mixes(len(full) / decode.SAMPLE_RATE, rows=2)
    mixes.append(np.stack([bed, full], axis=1).astype(np.int16))
    return mixes


def test_a_bed_is_judged_dead_early_only_when_it_is_as_good_as_silent_under_a_sounding_mix():
    rng = np.random.default_rng(4)
    full = rng.standard_normal(16_000) * 3000
    silence = np.zeros_like(full)
    watch = decode._BedWatch()
    assert not watch.judge(_mixes(silence, silence)) and not watch.dead, "a quiet opening decides nothing yet"
    assert watch.judge(_mixes(0.03 * rng.standard_normal(16_000) * 3000, full)) and not watch.dead, \
        "a bed 30 dB under the dialogue is quiet, not dead: the end of the decode decides"
    assert watch.judge(_mixes(silence, full)) and watch.dead
