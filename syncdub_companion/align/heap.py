"""glibc's heap kept steady while a film decodes.

The decoders' threads turn every piece of PCM into short-lived arrays of a few hundred KB
(the windowed frames, their spectra). glibc's defaults adapt their thresholds as memory
comes and goes and give freed pages back to the system at once, so the next piece faults
them in again: on a 2-hour pair 7 s of system time, beside decoders that already keep a
2-core box busy (docs/benchmarks.md, "The decode lap"). Fixed thresholds keep pieces
under 16 MB on the heap and return freed memory above 64 MB only, which bounds what an
idle service holds on to.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import platform

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 16 << 20
TRIM_THRESHOLD = 64 << 20


@functools.cache
def steady_heap() -> bool:
    """Fix glibc's malloc thresholds for this process, once; False where libc is not glibc.

    Two decodes starting at once may both set them: the same values, so no lock."""
    if platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                    and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    except (OSError, AttributeError):
        return False
