"""glibc's heap kept steady while a film aligns, and given back when it is done.

The decoders' threads turn every piece of PCM into short-lived arrays of a few hundred KB
(the windowed frames, their spectra), and the steps after the decode make and drop arrays
of a whole film's frames (tens of MB). glibc's defaults adapt their thresholds as memory
comes and goes, map large arrays on their own and give freed pages back to the system at
once, so the next array faults them in again. Faulting in costs more than it looks: on a
2-hour pair 7 s of system time with the defaults, beside decoders that already keep a 2-core
box busy (docs/benchmarks.md, "The decode lap"), and where a VM's host takes freed pages
back, each fault waits for it too. So, while aligning, every array up to 1 GB comes from the
heap and nothing freed is returned; :func:`give_back` returns it all once an alignment ends,
which bounds what an idle service holds on to.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import platform

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 1 << 30
TRIM_THRESHOLD = 1 << 30


@functools.cache
def steady_heap() -> bool:
    """Fix glibc's malloc thresholds for this process, once; False where libc is not glibc.

    Two decodes starting at once may both set them: the same values, so no lock."""
    libc = _glibc()
    return bool(libc and libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


@functools.cache
def _glibc():
    if platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def give_back() -> bool:
    """Return the heap's free pages to the system (``malloc_trim``): whether any were (never
    where libc is not glibc). Called once an alignment's arrays are freed: the fixed trim
    threshold keeps them while it runs."""
    libc = _glibc()
    return bool(libc and libc.malloc_trim(0))
