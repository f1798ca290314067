"""Copy byte ranges between two open files without passing them through this process."""
from __future__ import annotations

import errno
import logging
import os

log = logging.getLogger(__name__)


class KernelCopy:
    """Copies byte ranges between two files inside the kernel: copy_file_range, else sendfile,
    else (a filesystem that supports neither) plain reads and writes."""

    UNSUPPORTED = (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL)

    def __init__(self, src: int, dst: int):
        self.src, self.dst = src, dst
        self.methods = [self._copy_file_range, self._sendfile, self._read_write]

    def copy(self, offset: int, length: int) -> None:
        while length:
            try:
                done = self.methods[0](offset, length)
            except OSError as exc:
                if exc.errno in self.UNSUPPORTED and len(self.methods) > 1:
                    log.debug("in-kernel copy unavailable (%s); trying the next way", exc)
                    self.methods.pop(0)
                    continue
                raise
            if done == 0:
                raise OSError(errno.EIO, "the original ended early while copying it")
            offset += done
            length -= done

    def _copy_file_range(self, offset: int, length: int) -> int:
        return os.copy_file_range(self.src, self.dst, length, offset)

    def _sendfile(self, offset: int, length: int) -> int:
        return os.sendfile(self.dst, self.src, offset, length)

    def _read_write(self, offset: int, length: int) -> int:
        data = os.pread(self.src, min(length, 8 << 20), offset)
        write_all(self.dst, data)
        return len(data)


def write_all(fd: int, data: bytes) -> None:
    """os.write until every byte is out (a write may take only part)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
