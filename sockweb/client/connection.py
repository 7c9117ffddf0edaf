"""One HTTP/1.1 connection over a blocking socket (opened by :mod:`.sockets`).

The bytes go through :mod:`sockweb.http` (the request head through the
writer, the response through the httptools parser), so the client shares
every framing rule with the server. ``trace`` sees every byte sent and
received, as they are, which is what ``sockweb get -v`` and ``--raw`` show.
Copying a body straight into a file (``copy_body``) is in :mod:`.body_copy`.
"""

from __future__ import annotations

# The C core of the socket module: `import socket` builds four IntEnums from
# its constants, which costs every `sockweb get` about 2.5 ms; the client
# needs none of them. TLS (which needs socket.socket) converts on the way in.
import _socket
import contextlib
import sys
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
from .body_copy import BodyCopyMixin
from .body_copy import write_all as write_all  # moved to body_copy.py, importable here still
from .errors import IncompleteBody, ReadError, ReadTimeout, read_failure
from .sockets import Socket
from .sockets import open_socket as open_socket  # moved to sockets.py, importable here still
from .sockets import wrap_tls as wrap_tls

# typing costs every start ~3 ms to import; annotations need it only for mypy.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import select

Trace = Callable[[str, bytes], None]  # ("send" | "recv", bytes)
READ_SIZE = 64 * 1024


class Connection(BodyCopyMixin):
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
                raise ReadError(read_failure(exc)) from exc
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
            cut = IncompleteBody(f"{exc}; {self.received} bytes of the body received",
                                 self.received)
            if isinstance(exc.__cause__, OSError):
                cut.exit_code = ReadError.exit_code  # a reset, not an end: curl's 56, not 18
            raise cut from exc
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


def _timeval(seconds: float) -> bytes:
    """A struct timeval, for SO_RCVTIMEO and SO_SNDTIMEO."""
    import struct

    whole = int(seconds)
    return struct.pack("@ll", whole, int((seconds - whole) * 1e6))
