"""Opening the files static.py serves, and keeping the large ones open.

* :func:`open_regular` opens without blocking (a FIFO swapped in after the
  stat must not hang the event loop) and keeps the file only if the fstat of
  the descriptor says it is a regular file;
* :func:`opened_path` says where an open descriptor really is (one readlink
  of /proc/self/fd on Linux), which is what the inside-the-root check reads,
  so a symlink swapped in after any earlier look cannot lead out;
* :func:`identity` is what "the very same file" means when a cached entry is
  revalidated by a stat: device, inode, size, mtime and ctime;
* :class:`OpenFile` is a large file kept open between requests (nginx's
  ``open_file_cache``), shared by the responses sending it.
"""

from __future__ import annotations

import os
import stat
from io import FileIO

__all__ = ["OPEN_FILES", "Held", "OpenFile", "identity", "open_regular", "opened_path",
           "read_all"]

# Larger files kept open, at most this many descriptors (nginx's
# open_file_cache): a repeat request costs one stat instead of stat, open,
# fstat, fcntl, readlink and close. Revalidated on every request.
OPEN_FILES = 64
# O_NONBLOCK: a FIFO swapped in after our stat must not block open().
_OPEN_FLAGS = os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_PROC_FD = "/proc/self/fd/"
_HAS_PROC = os.path.isdir(_PROC_FD)


def _opener(path: str, flags: int) -> int:
    return os.open(path, flags | _OPEN_FLAGS)


class OpenFile:
    """A large file kept open between requests, and the responses sending it.

    The cache holds one claim and every response one more (a :class:`Held`);
    the descriptor is closed when the last claim is given up, so a file
    dropped from the cache (replaced, evicted) still finishes the downloads
    that were reading it, and no descriptor number is reused under them.
    """

    __slots__ = ("_file", "_claims", "identity", "st")

    def __init__(self, file: FileIO, st: os.stat_result) -> None:
        self._file = file
        self.st = st
        self.identity = identity(st)
        self._claims = 1  # the cache's

    def hold(self) -> Held:
        self._claims += 1
        return Held(self)

    def fileno(self) -> int:
        return self._file.fileno()

    def release(self) -> None:
        self._claims -= 1
        if self._claims == 0:
            self._file.close()

    def __del__(self) -> None:
        # Dropped without being released (a StaticFiles never closed): no
        # "unclosed file" warning from FileIO, just close it.
        self._file.close()


class Held:
    """One response's claim on an :class:`OpenFile`; closing it gives the claim up."""

    __slots__ = ("_kept",)

    def __init__(self, kept: OpenFile) -> None:
        self._kept: OpenFile | None = kept

    def fileno(self) -> int:
        if self._kept is None:
            raise ValueError("I/O operation on closed file")
        return self._kept.fileno()

    def close(self) -> None:
        kept, self._kept = self._kept, None
        if kept is not None:
            kept.release()


def open_regular(path: str) -> tuple[FileIO, os.stat_result] | None:
    """The open file and its fstat, or None if it is not a regular file.

    The fstat of the descriptor is what counts: the stat done before open only
    spared us opening the wrong thing, and the path may have changed since.
    """
    # No "with": on success the open file is handed to the Response.
    file = open(path, "rb", buffering=0, opener=_opener)  # noqa: SIM115
    try:
        st = os.fstat(file.fileno())
        if not stat.S_ISREG(st.st_mode):
            file.close()
            return None
        # Back to ordinary semantics for pread/sendfile on odd file systems.
        os.set_blocking(file.fileno(), True)
    except BaseException:
        file.close()
        raise
    return file, st


def opened_path(fd: int, path: str) -> str:
    """Where the open descriptor really is: one readlink on Linux, not an lstat
    per path component as realpath costs (and race-free, unlike realpath)."""
    if _HAS_PROC:
        try:
            return os.readlink(f"{_PROC_FD}{fd}")
        except OSError:
            pass
    return os.path.realpath(path)


def identity(st: os.stat_result) -> tuple[int, ...]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def read_all(fd: int, size: int) -> bytes:
    chunks: list[bytes] = []
    offset = 0
    while offset < size:
        chunk = os.pread(fd, size - offset, offset)
        if not chunk:  # the file shrank; serve what is there
            break
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)
