"""glibc's malloc thresholds fixed for an alignment, and its heap given back after (align/heap.py)."""
from __future__ import annotations

import ctypes
import ctypes.util
import platform
import subprocess
import sys

import pytest

from syncdub_companion.align import heap

GLIBC = platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not GLIBC, reason="mallopt is glibc's")
def test_the_thresholds_are_set_once_per_process_on_glibc():
    code = ("from syncdub_companion.align.heap import steady_heap;"
            "print(steady_heap(), steady_heap(), steady_heap.cache_info().misses == 1)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "True", "True"]


@pytest.mark.skipif(not GLIBC, reason="mallopt is glibc's")
def test_a_freed_piece_stays_in_the_process_until_given_back():
    """With glibc's defaults a first 64 MB block (a film's features) is mapped on its own and
    unmapped when freed; with the thresholds fixed it comes from the heap and the process
    keeps it for the next array, until :func:`give_back` returns it."""
    code = """
import ctypes, ctypes.util, sys
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
if sys.argv[1] == "steady":
    from syncdub_companion.align.heap import steady_heap
    assert steady_heap()
def rss_kb():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1])
p = libc.malloc(64 << 20)
ctypes.memset(p, 1, 64 << 20)
libc.free(p)
print(rss_kb())
from syncdub_companion.align.heap import give_back
print(give_back(), rss_kb())
"""
    runs = [subprocess.run([sys.executable, "-c", code, mode], capture_output=True, text=True, check=True).stdout.split()
            for mode in ("default", "steady")]
    (default, _, _), (held, returned, after) = ([int(v) if v.isdigit() else v for v in run] for run in runs)
    assert held - default > 56 * 1024, runs   # the steady process still holds the 64 MB
    assert returned == "True" and held - after > 56 * 1024, runs   # and gives them back when told
