"""One HTTP/1.1 connection over a blocking socket, and how to open one.

The bytes go through :mod:`sockweb.http` (the request head through the
writer, the response through the httptools parser), so the client shares
every framing rule with the server. ``trace`` sees every byte sent and
received, as they are, which is what ``sockweb get -v`` and ``--raw`` show.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
from collections import deque
from collections.abc import Callable, Iterable, Iterator

from ..http.errors import RemoteProtocolError
from ..http.events import Data, EndOfMessage, ResponseHead
from ..http.limits import Limits
from ..http.response_parser import ResponseEvent, ResponseParser
from ..http.writer import request_head
from .errors import (
    CertificateError,
    ConnectError,
    ConnectTimeout,
    IncompleteBody,
    NameResolutionError,
    ReadError,
    ReadTimeout,
    TLSError,
)

Trace = Callable[[str, bytes], None]  # ("send" | "recv", bytes)
READ_SIZE = 64 * 1024

# Client limits: a response head as large as nginx accepts for a request head
# would be odd, but servers do send long Set-Cookie and CSP headers.
CLIENT_LIMITS = Limits(max_request_line=64 * 1024, max_field_size=64 * 1024,
                       max_header_size=256 * 1024, max_header_count=500)


def open_socket(host: str, port: int, timeout: float | None) -> socket.socket:
    """A connected TCP socket, with each failure named the way a user says it."""
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except socket.gaierror as exc:
        raise NameResolutionError(f"could not resolve host: {host}") from exc
    except TimeoutError as exc:
        raise ConnectTimeout(f"connection to {host} port {port} timed out") from exc
    except ConnectionRefusedError as exc:
        raise ConnectError(f"connection to {host} port {port} refused") from exc
    except OSError as exc:
        raise ConnectError(f"could not connect to {host} port {port}: {exc.strerror}") from exc
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


# OpenSSL verify codes worth saying in words (x509_vfy.h).
_VERIFY_REASONS = {
    9: "certificate is not yet valid",
    10: "certificate has expired",
    18: "self-signed certificate",
    19: "self-signed certificate in the chain",
    20: "certificate issuer is unknown",
    21: "certificate issuer is unknown",
    62: "certificate is for another host name",
    64: "certificate is for another host name (IP address mismatch)",
}


def wrap_tls(sock: socket.socket, host: str, context: ssl.SSLContext) -> ssl.SSLSocket:
    """TLS over ``sock`` with SNI and, unless the context says not, verification."""
    try:
        return context.wrap_socket(sock, server_hostname=host)
    except ssl.SSLCertVerificationError as exc:
        sock.close()
        reason = _VERIFY_REASONS.get(exc.verify_code, exc.verify_message or str(exc))
        raise CertificateError(f"TLS certificate of {host} not trusted: {reason}") from exc
    except ssl.SSLError as exc:
        sock.close()
        raise TLSError(f"TLS handshake with {host} failed: {exc.reason or exc}") from exc
    except TimeoutError as exc:
        sock.close()
        raise ConnectTimeout(f"TLS handshake with {host} timed out") from exc
    except OSError as exc:
        sock.close()
        raise TLSError(f"TLS handshake with {host} failed: {exc.strerror or exc}") from exc


class Connection:
    """Requests one after another on one socket; ``reusable`` says if it can go back."""

    def __init__(
        self,
        sock: socket.socket,
        key: tuple[object, ...],
        *,
        read_timeout: float | None = None,
        trace: Trace | None = None,
        limits: Limits = CLIENT_LIMITS,
    ) -> None:
        self.sock = sock
        self.key = key
        self.trace = trace
        self.read_timeout = read_timeout
        self._parser = ResponseParser(limits)
        self._events: deque[ResponseEvent] = deque()
        self._keep_alive = True
        self._eof = False
        self.closed = False
        self.received = 0  # body bytes of the current response

    # -- sending -------------------------------------------------------------
    def _send(self, data: bytes) -> None:
        if self.trace is not None:
            self.trace("send", data)
        try:
            self.sock.sendall(data)
        except TimeoutError as exc:
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
        self.sock.settimeout(self.read_timeout)
        head = request_head(method, target, fields, http_version)
        if body is None or isinstance(body, bytes):
            # One send for a small request: fewer packets, and the seed's
            # single send() of the whole request.
            self._send(head + (body or b""))
            return
        self._send(head)
        for chunk in body:
            if chunk:
                self._send(chunk)

    # -- receiving -----------------------------------------------------------
    def _next_event(self) -> ResponseEvent:
        events = self._events
        while not events:
            if self._eof:
                raise ReadError("connection closed")
            try:
                data = self.sock.recv(READ_SIZE)
            except TimeoutError as exc:
                raise ReadTimeout(f"no data for {self.read_timeout:g} s") from exc
            except ssl.SSLError as exc:
                raise ReadError(f"TLS error while reading: {exc.reason or exc}") from exc
            except OSError as exc:
                raise ReadError(f"connection lost: {exc.strerror or exc}") from exc
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

    def iter_body(self) -> Iterator[bytes]:
        """The body as it arrives, transfer coding removed; raises if it is cut short."""
        while True:
            try:
                event = self._next_event()
            except ReadError as exc:
                self.close()
                raise IncompleteBody(f"{exc}; {self.received} bytes of the body received",
                                     self.received) from exc
            if isinstance(event, Data):
                self.received += len(event.data)
                yield event.data
            elif isinstance(event, EndOfMessage):
                return
            elif isinstance(event, RemoteProtocolError):
                self.close()
                if "closed in the middle" in str(event):
                    raise IncompleteBody(
                        f"connection closed after {self.received} bytes of the body",
                        self.received) from event
                raise event

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
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(OSError):
                self.sock.close()
