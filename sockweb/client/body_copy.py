"""Copying a response body into a file descriptor: ``Connection.copy_body``.

For a Content-Length body over plain TCP on Linux, the bytes go from the
socket to the file through a pipe with os.splice and never enter Python;
otherwise, and wherever the kernel refuses splice for the file, through one
reusable buffer with recv_into. :class:`BodyCopyMixin` holds these methods;
:class:`~sockweb.client.connection.Connection` inherits them.
"""

from __future__ import annotations

import _socket  # the socket module's C core, not `import socket` (see connection.py)
import contextlib
import errno
import os
import sys
import time
from collections.abc import Callable

from .errors import IncompleteBody, ReadError, ReadTimeout, read_failure

# typing costs every start ~3 ms to import; annotations need it only for mypy.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections import deque

    from ..http.response_parser import ResponseEvent, ResponseParser
    from .connection import Trace
    from .sockets import Socket

__all__ = ["SPLICE_SIZE", "BodyCopyMixin", "write_all"]

# What one splice or recv_into of a body written to a file moves at most:
# 1 MiB, the pipe size Linux allows an unprivileged process by default
# (/proc/sys/fs/pipe-max-size), and the memory the fallback's buffer takes.
SPLICE_SIZE = 1024 * 1024
# The longest one wait for a splice's worth of data lasts, in ms (see _splice_body).
_SPLICE_WAIT = 100
# errno values that say "this file does not take splice" rather than "failed".
_NO_SPLICE = frozenset({errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP})


class BodyCopyMixin:
    """The body-to-file half of Connection; Connection supplies the stubs below."""

    sock: Socket
    trace: Trace | None
    read_timeout: float | None
    closed: bool
    received: int  # body bytes of the current response
    _parser: ResponseParser
    _events: deque[ResponseEvent]
    _eof: bool

    def copy_body(self, fd: int, progress: Callable[[int], None] | None = None) -> int:
        """Write the body to the file descriptor ``fd``; returns its length.

        For a Content-Length body over plain TCP on Linux, the bytes go from
        the socket to ``fd`` through a pipe with os.splice and never enter
        Python (what sendfile does for the server). Otherwise, and wherever
        the kernel refuses splice for ``fd``, they go through one reusable
        buffer with recv_into. Either way the body must not be content-coded
        (the caller checks), ``progress`` is called with the bytes written so
        far, IncompleteBody is raised if the connection ends early, and
        OSError if ``fd`` cannot be written.
        """
        length = self._parser.body_length
        if length is None or self.trace is not None:
            written = 0
            while (piece := self.next_piece()) is not None:
                written += write_all(fd, piece)
                if progress is not None:
                    progress(written)
            return written
        # What came with the head has been parsed already (maybe all of it).
        complete = False
        while self._events and not complete:
            piece = self.next_piece()
            if piece is None:
                complete = True
            else:
                write_all(fd, piece)
        if progress is not None and self.received:
            progress(self.received)
        if complete:
            return self.received
        try:
            if self.received < length:
                ssl = sys.modules.get("ssl")
                if (hasattr(os, "splice") and not
                        (ssl is not None and isinstance(self.sock, ssl.SSLSocket))):
                    self._splice_body(fd, length, progress)
                if self.received < length:
                    self._recv_body(fd, length, progress)
        except BaseException:
            self.close()
            raise
        self._parser.body_read_elsewhere()
        return self.received

    def _splice_body(self, fd: int, length: int, progress: Callable[[int], None] | None) -> None:
        """socket -> pipe -> fd; returns early, the pipe empty, if fd takes no splice.

        The socket is made non-blocking and SO_RCVLOWAT set to a pipe's worth
        (less near the end): the wait happens in poll(), which wakes when
        that much has arrived instead of at every segment. Fewer, fuller
        splices double the rate on loopback (curl: 2.9 GiB/s; this: 6).
        Linux also wakes a poll whose receive window is closing (so a large
        low-water mark cannot stall a transfer); each wait is capped at
        _SPLICE_WAIT all the same, and the timeout is the read timeout, from
        the last byte received.
        """
        import fcntl
        import select

        sock = self.sock
        sock_fd = sock.fileno()
        read_end, write_end = os.pipe()
        prior = sock.gettimeout()
        sock.setblocking(False)
        waiter = select.poll()
        waiter.register(sock_fd, select.POLLIN)
        lowat = 0
        try:
            with contextlib.suppress(OSError):  # more than the 64 KiB default, if allowed
                fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, SPLICE_SIZE)
            spliced_out = False
            last_data = time.monotonic()
            while self.received < length:
                want = min(length - self.received, SPLICE_SIZE)
                if want != lowat:
                    lowat = want
                    sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_RCVLOWAT, lowat)
                try:
                    got = os.splice(sock_fd, write_end, want)
                except BlockingIOError:
                    if not waiter.poll(_SPLICE_WAIT) and self.read_timeout is not None \
                            and time.monotonic() - last_data > self.read_timeout:
                        raise ReadTimeout(f"no data for {self.read_timeout:g} s") from None
                    continue
                except OSError as exc:
                    raise self._read_failed(exc) from exc
                if got == 0:
                    raise self._closed_early()
                last_data = time.monotonic()
                moved = 0
                while moved < got:
                    try:
                        moved += os.splice(read_end, fd, got - moved)
                    except OSError as exc:
                        if spliced_out or exc.errno not in _NO_SPLICE:
                            raise
                        # This fd takes no splice (a terminal, an O_APPEND
                        # file on some kernels): hand it what is in the pipe,
                        # and let recv_into do the rest.
                        while moved < got:
                            moved += write_all(fd, os.read(read_end, got - moved))
                        self.received += got
                        if progress is not None:
                            progress(self.received)
                        return
                    spliced_out = True
                self.received += got
                if progress is not None:
                    progress(self.received)
        finally:
            os.close(read_end)
            os.close(write_end)
            if not self.closed:
                with contextlib.suppress(OSError):
                    if lowat:
                        sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_RCVLOWAT, 1)
                    sock.settimeout(prior)

    def _recv_body(self, fd: int, length: int, progress: Callable[[int], None] | None) -> None:
        """socket -> one reusable buffer -> fd."""
        buffer = memoryview(bytearray(min(length - self.received, SPLICE_SIZE)))
        sock = self.sock

        def into_buffer(size: int) -> int:
            return sock.recv_into(buffer, size)

        while self.received < length:
            got = self._receive(into_buffer, min(length - self.received, len(buffer)))
            write_all(fd, buffer[:got])
            self.received += got
            if progress is not None:
                progress(self.received)

    def _receive(self, read: Callable[[int], int], size: int) -> int:
        """``read(size)`` (at most what the body still lacks), with this
        connection's timeout and failures; 0 (the end) is IncompleteBody."""
        try:
            got = read(size)
        except (TimeoutError, BlockingIOError) as exc:  # BlockingIOError: SO_RCVTIMEO
            raise ReadTimeout(f"no data for {self.read_timeout:g} s") from exc
        except OSError as exc:
            raise self._read_failed(exc) from exc
        if got == 0:
            raise self._closed_early()
        return got

    def _read_failed(self, exc: OSError) -> IncompleteBody:
        cut = IncompleteBody(
            f"{read_failure(exc)}; {self.received} bytes of the body received", self.received)
        cut.exit_code = ReadError.exit_code  # a reset, not an end: curl's 56, not 18
        return cut

    def _closed_early(self) -> IncompleteBody:
        self._eof = True
        return IncompleteBody(
            f"connection closed after {self.received} bytes of the body", self.received)

    # Supplied by Connection.
    def next_piece(self) -> bytes | None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


def write_all(fd: int, data: bytes | memoryview) -> int:
    """os.write until all of ``data`` is written (a pipe may take part of it);
    returns its length."""
    done = os.write(fd, data)
    size = len(data)
    if done < size:
        view = memoryview(data)
        while done < size:
            done += os.write(fd, view[done:])
    return size
