"""glibc's malloc thresholds fixed for the decode (align/heap.py)."""
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
def test_a_freed_piece_under_the_trim_threshold_stays_in_the_process():
    """With glibc's defaults a first 8 MB block is mapped on its own and unmapped when freed
    (only then do the thresholds adapt); with them fixed it comes from the heap and the
    process keeps it for the next piece."""
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
p = libc.malloc(8 << 20)
ctypes.memset(p, 1, 8 << 20)
libc.free(p)
print(rss_kb())
"""
    rss = [int(subprocess.run([sys.executable, "-c", code, mode], capture_output=True, text=True, check=True).stdout)
              for mode in ("default", "steady")]
    assert rss[1] - rss[0] > 6 * 1024, rss   # the steady process still holds the 8 MB
