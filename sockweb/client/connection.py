"""One HTTP/1.1 connection over a blocking socket (opened by :mod:`.sockets`).

The bytes go through :mod:`sockweb.http` (the request head through the
writer, the response through the httptools parser), so the client shares
every framing rule with the server. ``trace`` sees every byte sent and
received, as they are, which is what ``sockweb get -v`` and ``--raw`` show.
"""

from __future__ import annotations

# The C core of the socket module: `import socket` builds four IntEnums from
# its constants, which costs every `sockweb get` about 2.5 ms; the client
# needs none of them. TLS (which needs socket.socket) converts on the way in.
import _socket
import contextlib
import errno
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator

from ..http.errors import RemoteProtocolError
from ..http.events import Data, EndOfMessage, ResponseHead
from ..http.response_parser import (
    RESPONSE_LIMITS,
    ResponseEvent,
    ResponseLimits,
    ResponseParser,
)
from ..http.writer import request_head
from .errors import IncompleteBody, ReadError, ReadTimeout
from .sockets import Socket
from .sockets import open_socket as open_socket  # moved to sockets.py, importable here still
from .sockets import wrap_tls as wrap_tls

# typing costs every start ~3 ms to import; annotations need it only for mypy.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import select

Trace = Callable[[str, bytes], None]  # ("send" | "recv", bytes)
READ_SIZE = 64 * 1024
# What one splice or recv_into of a body written to a file moves at most:
# 1 MiB, the pipe size Linux allows an unprivileged process by default
# (/proc/sys/fs/pipe-max-size), and the memory the fallback's buffer takes.
SPLICE_SIZE = 1024 * 1024
# errno values that say "this file does not take splice" rather than "failed".
# The longest one wait for a splice's worth of data lasts, in ms (see _splice_body).
_SPLICE_WAIT = 100
_NO_SPLICE = frozenset({errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP})


class Connection:
    """Requests one after another on one socket; ``reusable`` says if it can go back."""

    def __init__(
        self,
        sock: Socket,
        key: tuple[object, ...],
        *,
        read_timeout: float | None = None,
        trace: Trace | None = None,
        limits: ResponseLimits = RESPONSE_LIMITS,
    ) -> None:
        self.sock = sock
        self.key = key
        self.trace = trace
        self.read_timeout = read_timeout
        self._timeout: float | None = sock.gettimeout()  # what the socket has now
        self._kernel_timer = False  # the timeout is SO_RCVTIMEO/SO_SNDTIMEO (see _set_timeout)
        self._requests = 0
        self._parser = ResponseParser(limits)
        self._events: deque[ResponseEvent] = deque()
        self._keep_alive = True
        self._eof = False
        self._poll: select.poll | None = None  # made by is_stale, on a connection's reuse
        self.closed = False
        self.received = 0  # body bytes of the current response

    # -- sending -------------------------------------------------------------
    def _send(self, data: bytes) -> None:
        if self.trace is not None:
            self.trace("send", data)
        try:
            self.sock.sendall(data)
        except (TimeoutError, BlockingIOError) as exc:  # BlockingIOError: SO_SNDTIMEO
            raise ReadTimeout("timed out sending the request") from exc
        except OSError as exc:
            raise ReadError(f"connection lost while sending: {exc.strerror or exc}") from exc

    def send_request(
        self,
        method: bytes,
        target: bytes,
        fields: list[tuple[bytes, bytes]],
        body: bytes | Iterable[bytes] | None = None,
        http_version: bytes = b"1.1",
    ) -> None:
        self._parser.expect(method)
        self.received = 0
        self._requests += 1
        if self.read_timeout != self._timeout or (self._requests == 2 and not self._kernel_timer):
            self._set_timeout(self.read_timeout)
        head = request_head(method, target, fields, http_version)
        if body is None or isinstance(body, bytes):
            # One send for a small request: fewer packets, and the seed's
            # single send() of the whole request.
            self._send(head + body if body else head)
            return
        self._send(head)
        for chunk in body:
            if chunk:
                self._send(chunk)

    def _set_timeout(self, timeout: float | None) -> None:
        """Give the socket ``timeout``; called only when it changes (each call is
        a system call), and on a connection's second request.

        Python keeps a socket's timeout by polling before every send and
        receive: two more system calls per request. A connection that is
        reused is worth handing the timeout to the kernel instead (Linux:
        SO_RCVTIMEO and SO_SNDTIMEO on a blocking socket; a call that times
        out fails with EAGAIN). Not for TLS, whose reads retry on EAGAIN.
        """
        self._timeout = timeout
        sock = self.sock
        ssl = sys.modules.get("ssl")
        if (self._requests < 2 or sys.platform != "linux" or not timeout or timeout <= 0
                or (ssl is not None and isinstance(sock, ssl.SSLSocket))):
            if self._kernel_timer:
                self._kernel_timer = False
                timer = _timeval(0)
                sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_RCVTIMEO, timer)
                sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_SNDTIMEO, timer)
            sock.settimeout(timeout)
            return
        timer = _timeval(timeout)
        sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_RCVTIMEO, timer)
        sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_SNDTIMEO, timer)
        sock.settimeout(None)
        self._kernel_timer = True

    # -- receiving -----------------------------------------------------------
    def _next_event(self) -> ResponseEvent:
        events = self._events
        while not events:
            if self._eof:
                raise ReadError("connection closed")
            try:
                data = self.sock.recv(READ_SIZE)
            except (TimeoutError, BlockingIOError) as exc:  # BlockingIOError: SO_RCVTIMEO
                raise ReadTimeout(f"no data for {self.read_timeout:g} s") from exc
            except OSError as exc:
                raise ReadError(_read_failure(exc)) from exc
            if self.trace is not None and data:
                self.trace("recv", data)
            if data:
                events.extend(self._parser.feed(data))
            else:
                self._eof = True
                events.extend(self._parser.feed_eof())
                if not events:
                    raise ReadError("server closed the connection without a response")
        return events.popleft()

    def read_head(self) -> ResponseHead:
        """The final response head; 1xx interim responses are read past."""
        while True:
            event = self._next_event()
            if isinstance(event, RemoteProtocolError):
                raise event
            if isinstance(event, ResponseHead):
                if 100 <= event.status < 200 and event.status != 101:
                    self._expect_end()
                    continue
                self._keep_alive = event.keep_alive
                return event

    def _expect_end(self) -> None:
        event = self._next_event()
        if not isinstance(event, EndOfMessage):
            raise RemoteProtocolError("interim response with a body")

    def next_piece(self) -> bytes | None:
        """The next piece of the body, transfer coding removed, or None at its end.

        Raises IncompleteBody if the body is cut short.
        """
        try:
            event = self._next_event()
        except ReadError as exc:
            self.close()
            raise IncompleteBody(f"{exc}; {self.received} bytes of the body received",
                                 self.received) from exc
        if event.__class__ is Data:
            data: bytes = event.data
            self.received += len(data)
            return data
        if isinstance(event, EndOfMessage):
            return None
        self.close()
        if isinstance(event, RemoteProtocolError) and "closed in the middle" in str(event):
            raise IncompleteBody(f"connection closed after {self.received} bytes of the body",
                                 self.received) from event
        if isinstance(event, RemoteProtocolError):
            raise event
        raise RemoteProtocolError(f"unexpected {event!r} in a body")

    def iter_body(self) -> Iterator[bytes]:
        """The body as it arrives, transfer coding removed; raises if it is cut short."""
        while True:
            piece = self.next_piece()
            if piece is None:
                return
            yield piece

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
        return IncompleteBody(
            f"{_read_failure(exc)}; {self.received} bytes of the body received", self.received)

    def _closed_early(self) -> IncompleteBody:
        self._eof = True
        return IncompleteBody(
            f"connection closed after {self.received} bytes of the body", self.received)

    @property
    def reusable(self) -> bool:
        # Bytes past the end of the response answer nothing we asked: they
        # must never be taken for the next response (RFC 9112 section 9.3).
        return (not self.closed and self._keep_alive and not self._eof and not self._events
                and self._parser.reusable and not self._parser.in_message)

    def is_stale(self) -> bool:
        """Did the server close (or send something unasked) while we were idle?"""
        if self.closed:
            return True
        import select

        try:
            poll = self._poll
            if poll is None:
                if not hasattr(select, "poll"):
                    readable, _, _ = select.select([self.sock], [], [], 0)
                    return bool(readable)
                # One poll object per connection, registered once: a check
                # is then a single system call.
                poll = self._poll = select.poll()
                poll.register(self.sock.fileno(), select.POLLIN)
            return bool(poll.poll(0))
        except (OSError, ValueError):
            return True

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._poll = None
            with contextlib.suppress(OSError):
                self.sock.close()


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


def _timeval(seconds: float) -> bytes:
    """A struct timeval, for SO_RCVTIMEO and SO_SNDTIMEO."""
    import struct

    whole = int(seconds)
    return struct.pack("@ll", whole, int((seconds - whole) * 1e6))


def _read_failure(exc: OSError) -> str:
    ssl = sys.modules.get("ssl")  # loaded if, and only if, a TLS socket could raise
    if ssl is not None and isinstance(exc, ssl.SSLError):
        return f"TLS error while reading: {exc.reason or exc}"
    return f"connection lost: {exc.strerror or exc}"
