"""One request and its response: the only code that turns a Response into bytes.

Handlers return :class:`~sockweb.server.response.Response` values; this module
adds what the connection owns (Date, Server, Content-Length, Connection), and
maps every protocol error to its response in :func:`error_response`.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from ..http.dates import DateCache
from ..http.errors import ProtocolError
from ..http.events import RequestHead
from ..http.framing import has_no_body
from ..http.writer import header_block, status_line
from .response import Response, error_page

SERVER_HEADER = b"Server: sockweb\r\n"
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"

_dates = DateCache()


def encode_head(
    response: Response, method: bytes, length: int, keep_alive: bool, http_10: bool
) -> bytes:
    """The status line and header block of ``response`` (RFC 9112 sections 4-6)."""
    status = response.status
    parts = [status_line(status), b"Date: ", _dates.now(), b"\r\n", SERVER_HEADER]
    if response.headers:
        parts.append(header_block(response.headers))
    # RFC 9110 section 8.6: no Content-Length on 1xx/204; on HEAD and 304 it
    # tells the length GET would have had.
    if status >= 200 and status != 204 and (status != 304 or method == b"HEAD"):
        parts.append(b"Content-Length: %d\r\n" % length)
    if not keep_alive:
        parts.append(b"Connection: close\r\n")
    elif http_10:
        parts.append(b"Connection: keep-alive\r\n")
    parts.append(b"\r\n")
    return b"".join(parts)


def body_allowed(method: bytes, status: int) -> bool:
    return not has_no_body(method, status)


def error_response(error: ProtocolError) -> Response:
    """The response for a request we refuse: a short page, never a traceback."""
    return error_page(error.status, str(error))


INTERNAL_ERROR = error_page(500)


class AccessLog:
    """Common Log Format lines, written in batches once per loop turn.

    One write per request would cost a system call each; one flush per turn of
    the event loop keeps the log prompt and cheap.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stdout
        self._lines: list[str] = []
        self._second = -1
        self._stamp = ""
        self._flush_scheduled = False

    def _now(self) -> str:
        second = int(time.time())
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(second))
        return self._stamp

    def log(self, peer: str, head: RequestHead | None, status: int, size: int) -> None:
        line = head.request_line if head is not None else "-"
        line = line.replace("\\", "\\\\").replace('"', '\\"')
        if not line.isprintable():
            line = line.encode("unicode_escape").decode("ascii")
        self.write(f'{peer} - - [{self._now()}] "{line}" {status} {size or "-"}\n')

    def write(self, text: str) -> None:
        self._lines.append(text)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            import asyncio

            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:
                self.flush()

    def flush(self) -> None:
        self._flush_scheduled = False
        if self._lines:
            lines, self._lines = self._lines, []
            try:
                self._stream.write("".join(lines))
                self._stream.flush()
            except (OSError, ValueError):
                pass  # a closed stdout must not take the server down
