"""The bytes of a response head, and caches that keep response bytes for the second.

:func:`encode_head` adds what the connection owns (Date, Server,
Content-Length, Connection) to a :class:`~sockweb.server.response.Response`;
:class:`WireCache` keeps whole shared responses and :class:`HeadCache` the heads
of app responses, both emptied when the Date changes. exchange.py and
protocol.py write responses through these.
"""

from __future__ import annotations

import time

from ..http.dates import DateCache
from ..http.framing import has_no_body
from ..http.writer import header_block, status_line
from .response import Response

SERVER_HEADER = b"Server: sockweb\r\n"

_dates = DateCache()


def encode_head(
    response: Response, method: bytes, length: int | None, keep_alive: bool, http_10: bool
) -> bytes:
    """The status line and header block of ``response`` (RFC 9112 sections 4-6).

    ``length`` None: the body is framed otherwise (chunked, or by the close).
    """
    status = response.status
    parts = [status_line(status), b"Date: ", _dates.now(), b"\r\n", SERVER_HEADER]
    if response.headers:
        parts.append(header_block(response.headers))
    # RFC 9110 section 8.6: no Content-Length on 1xx/204; on HEAD and 304 it
    # tells the length GET would have had.
    if length is not None and status >= 200 and status != 204 and (
        status != 304 or method == b"HEAD"
    ):
        parts.append(b"Content-Length: %d\r\n" % length)
    if not keep_alive:
        parts.append(b"Connection: close\r\n")
    elif http_10:
        parts.append(b"Connection: keep-alive\r\n")
    parts.append(b"\r\n")
    return b"".join(parts)


class _PerSecond:
    """What a cache of response bytes shares: the Date in them, and when to
    look at the clock again.

    Callers on the event loop pass the loop's time (``now``, read once per
    read of the socket anyway), so within a second the check is one float
    comparison instead of ``time.time()`` and a conversion: the clock is read
    again only once the loop's time passes the next wall-clock second. Like
    nginx's cached time, the Date is then as fresh as the loop's last
    iteration. Without ``now`` the wall clock is read every time.
    """

    __slots__ = ("_check_at", "_date")

    def __init__(self) -> None:
        self._date = b""
        self._check_at = float("-inf")

    def _clock(self, now: float | None) -> bool:
        """Look at the wall clock; True if the Date has changed (cached bytes
        must go)."""
        wall = time.time()
        second = int(wall)
        if now is not None:
            self._check_at = now + (second + 1 - wall)
        date = _dates.at(second)
        if date is self._date:
            return False
        self._date = date
        return True


class WireCache(_PerSecond):
    """The exact bytes of shared responses (``Response.shared``), per second.

    A shared response's head differs only by the Date, the connection's
    persistence and the method (HEAD has no body), so within one second the
    bytes can be reused: a request then costs a dict look-up, no formatting.
    """

    __slots__ = ("_plain", "_wire")

    def __init__(self) -> None:
        super().__init__()
        # Keyed by the response object itself (hashed by identity, and kept
        # alive by the key, so a new response can never be taken for it).
        self._wire: dict[tuple[Response, bool, bool, bool], bytes] = {}
        # The variant nearly every request wants, keyed by the response alone.
        self._plain: dict[Response, bytes] = {}

    def _forget(self) -> None:
        """The Date has changed: every kept answer is stale (once a second)."""
        self._wire = {}
        self._plain = {}

    def plain(self, response: Response, now: float) -> bytes:
        """``get(response, b"GET", True, False, now)``: kept alive, HTTP/1.1,
        not HEAD; one look-up without building a key."""
        if now >= self._check_at and self._clock(now):
            self._forget()
        data = self._plain.get(response)
        if data is None:
            data = self.get(response, b"GET", True, False, now)
            if len(self._plain) < 1024:
                self._plain[response] = data
        return data

    def get(self, response: Response, method: bytes, keep_alive: bool, http_10: bool,
            now: float | None = None) -> bytes:
        if (now is None or now >= self._check_at) and self._clock(now):
            self._forget()
        key = (response, keep_alive, http_10, method == b"HEAD")
        data = self._wire.get(key)
        if data is not None:
            return data
        body = response.body
        assert isinstance(body, bytes)
        data = encode_head(response, method, len(body), keep_alive, http_10)
        if body_allowed(method, response.status):
            data += body
        if len(self._wire) < 1024:
            self._wire[key] = data
        return data


class HeadCache(_PerSecond):
    """Heads of app responses whose status and fields repeat (most apps'),
    kept for the rest of the second: a repeat costs a tuple and a look-up
    instead of formatting. Bounded; emptied when the Date changes."""

    __slots__ = ("_heads",)

    def __init__(self) -> None:
        super().__init__()
        self._heads: dict[tuple[object, ...], bytes] = {}

    def get(self, status: int, fields: list[tuple[bytes, bytes]], method: bytes,
            length: int | None, keep_alive: bool, http_10: bool,
            now: float | None = None) -> bytes:
        if (((now is None or now >= self._check_at) and self._clock(now))
                or len(self._heads) >= 256):
            self._heads = {}
        key = (status, *fields, length, keep_alive, http_10, method == b"HEAD")
        head = self._heads.get(key)
        if head is None:
            head = self._heads[key] = encode_head(
                Response(status, fields), method, length, keep_alive, http_10)
        return head


def encode_switching(fields: list[tuple[bytes, bytes]]) -> bytes:
    """A 101 Switching Protocols head (RFC 9110 section 15.2.2)."""
    return b"".join([status_line(101), b"Date: ", _dates.now(), b"\r\n", SERVER_HEADER,
                     header_block(fields), b"\r\n"])


def body_allowed(method: bytes, status: int) -> bool:
    return not has_no_body(method, status)

