"""One request and its response: the only code that frames an app's response.

Handlers return :class:`~sockweb.server.response.Response` values; the bytes of
a head, with what the connection owns (Date, Server, Content-Length,
Connection), come from wire.py. :class:`AppExchange` frames what an app
sends, and every protocol error maps to its response in :func:`error_response`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from ..http.errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from ..http.events import RequestHead
from ..http.framing import LAST_CHUNK, chunk, has_no_body
from ..http.headers import validate_field
from .response import FileSlice, Part, Response, error_page
from .wire import HeadCache
from .wire import WireCache as WireCache  # the tests import it from here
from .wire import encode_switching as encode_switching  # websocket.py's docstring names it here

if TYPE_CHECKING:
    from .access_log import AccessLog

log = logging.getLogger("sockweb.server")

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


_app_heads = HeadCache()

# What start() does with a header field an app sends. An app sends the same
# few fields again and again, so a field's verdict is kept and a repeat costs
# one look-up instead of validation, lower-casing and comparisons. Only short
# values are kept, never a Content-Length (its value changes with every
# body), and the whole table is emptied when full, so fields whose values
# keep changing (ETag, Set-Cookie) cannot crowd out the common ones for good.
_KEEP, _DROP, _CLOSE, _LENGTH = range(4)
_FIELD_KINDS: dict[tuple[bytes, bytes], int] = {}
_MAX_KINDS = 4096
_MAX_KEPT_VALUE = 128
# The connection's own fields: the server decides them.
_OWN_FIELDS = frozenset([b"connection", b"transfer-encoding", b"date", b"server"])
# Content-Length as apps spell it: the name alone decides its kind, and start()
# accepts only digits as its value, so such a field needs no validation.
_LENGTH_NAMES = frozenset([b"content-length", b"Content-Length", b"CONTENT-LENGTH"])


def _field_kind(name: bytes, value: bytes) -> int:
    validate_field(name, value)  # no CR/LF, no bad names: no response splitting
    lower = name.lower()
    if lower == b"content-length":
        return _LENGTH
    if lower in _OWN_FIELDS:
        return _CLOSE if lower == b"connection" and b"close" in value.lower() else _DROP
    return _KEEP


def error_response(error: ProtocolError) -> Response:
    """The response for a request we refuse: a short page, never a traceback."""
    return error_page(error.status, str(error))


INTERNAL_ERROR = error_page(500)


class Connection(Protocol):
    """What an AppExchange needs of its connection (HttpProtocol provides it)."""

    transport: Any
    peer: str
    loop: asyncio.AbstractEventLoop
    # (client, scheme, server) of the socket, kept by an ASGI adapter.
    app_addresses: tuple[Any, str, Any] | None

    # The transport is over its high-water mark (a plain attribute: read
    # after every write).
    write_paused: bool

    async def _drain(self) -> None: ...

    def close_after_response(self) -> None: ...

    def resume_body(self) -> None: ...

    def pause_body(self) -> None: ...


# Request body bytes an app has not taken yet before reading pauses.
BODY_HIGH_WATER = 64 * 1024


class AppExchange:
    """One request handed to an app, and the response it makes.

    The app side (asgi.py, wsgi.py) calls ``receive_body``, ``start`` and
    ``send``; this class alone decides the framing (Content-Length if the app
    gave one, chunked otherwise, close-delimited for HTTP/1.0), refuses a bad
    header or a body longer or shorter than its Content-Length, and writes
    the bytes. The connection calls ``feed_body``, ``end_body``, ``fail_body``
    and ``lost``.
    """

    # The server answered for a body the app could not have whole
    # (refuse_body); a class attribute, so the usual request pays nothing.
    refused = False

    def __init__(self, conn: Connection, head: RequestHead, path: bytes, query: bytes,
                 access_log: AccessLog | None) -> None:
        self.conn = conn
        self.head = head
        self.path = path
        self.query = query
        self._log = access_log
        # request body
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._body_done = not head.body_expected
        self._waiter: asyncio.Future[None] | None = None
        self.body_error: ProtocolError | None = None
        self.disconnected = False
        self.peer_eof = False  # the client half-closed: it may still read the answer
        self._continue = head.expect_continue
        # response
        self.started = False
        self.finished = False
        self.status = 0
        self._head_fields: list[tuple[bytes, bytes]] = []
        self._mode = ""
        self._remaining = 0
        self._declared: int | None = None
        self.sent = 0
        self.keep_alive = head.keep_alive

    # -- from the connection -------------------------------------------------
    def feed_body(self, data: bytes) -> None:
        if self.finished:
            return  # answered already: the rest of the body is read and dropped
        self._chunks.append(data)
        self._buffered += len(data)
        if self._buffered > BODY_HIGH_WATER:
            self.conn.pause_body()
        self._wake()

    def end_body(self) -> None:
        self._body_done = True
        self._wake()

    def fail_body(self, error: ProtocolError) -> None:
        self.body_error = error
        self._body_done = True
        self.keep_alive = False
        self._wake()

    def lost(self) -> None:
        self.disconnected = True
        self._wake()

    def eof(self) -> None:
        self.peer_eof = True
        self._wake()

    @property
    def body_done(self) -> bool:
        return self._body_done

    @property
    def gone(self) -> bool:
        """Nothing more will come from the client: it left, half-closed, or broke the body."""
        return self.disconnected or self.peer_eof or self.body_error is not None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- for the app -----------------------------------------------------------
    async def receive_body(self) -> tuple[bytes, bool]:
        """The next piece of the body and whether more follows; b"", False at its end."""
        if self._continue:
            self._continue = False
            if not self.started and not self._chunks and not self._body_done:
                # RFC 9110 section 10.1.1: the app wants the body, so ask for it.
                self.conn.transport.write(CONTINUE)
        while not self._chunks and not self._body_done and not self.disconnected \
                and not self.peer_eof:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        if self._chunks:
            data = b"".join(self._chunks)
            self._chunks.clear()
            self._buffered = 0
            self.conn.resume_body()
            return data, not self._body_done
        return b"", False

    async def wait_disconnect(self) -> None:
        """Until the client goes away or the response is complete."""
        while not self.gone and not self.finished:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def start(self, status: int, fields: Iterable[tuple[bytes, bytes]]) -> None:
        """Record the status and headers; nothing is written before the first body bytes.

        ``fields`` as an app gives them: pairs of bytes, or of bytes-like
        objects (an ASGI app may send lists, or bytearrays)."""
        if self.started:
            if self.refused:
                return  # the server has answered for the body: the app's answer is dropped
            raise LocalProtocolError("response already started")
        if not 100 <= status <= 999 or 100 <= status < 200:
            raise LocalProtocolError(f"invalid status {status}")
        kept: list[tuple[bytes, bytes]] = []
        length: int | None = None
        kinds = _FIELD_KINDS
        for field in fields:
            try:
                kind = kinds.get(field)
            except TypeError:  # a list, or a bytearray in it: not hashable
                kind = None
            if kind is None:
                name, value = field
                if name.__class__ is not bytes:
                    name = bytes(name)
                if value.__class__ is not bytes:
                    value = bytes(value)
                field = (name, value)
                kind = _LENGTH if name in _LENGTH_NAMES else _field_kind(name, value)
                if len(value) <= _MAX_KEPT_VALUE and kind != _LENGTH:
                    if len(kinds) >= _MAX_KINDS:
                        kinds.clear()
                    kinds[field] = kind
            if kind == _KEEP:
                kept.append(field)
            elif kind == _LENGTH:
                value = field[1]
                try:
                    declared = int(value) if value.isdigit() else -1
                except ValueError:  # more digits than int() reads (sys.get_int_max_str_digits)
                    declared = -1
                if declared < 0 or (length is not None and declared != length):
                    raise LocalProtocolError(f"invalid Content-Length {value[:40]!r}")
                length = declared
            elif kind == _CLOSE:
                self.keep_alive = False
        self.status = status
        self._head_fields = kept
        self.started = True
        self._declared = length
        if has_no_body(self.head.method, status):
            self._mode = "none"
            self._remaining = 0
        elif length is not None:
            self._mode = "length"
            self._remaining = length
        elif self.head.http_version == "1.1":
            self._mode = "chunked"
            kept.append((b"Transfer-Encoding", b"chunked"))
        else:
            self._mode = "close"
            self.keep_alive = False

    async def send(self, data: bytes, more: bool) -> None:
        """Body bytes; ``more=False`` ends the response."""
        if self.write(data, more):
            await self.drain()

    async def drain(self) -> None:
        """Until the transport is under its high-water mark again."""
        await self.conn._drain()

    def write(self, data: bytes, more: bool) -> bool:
        """``send()`` without its wait: True if the caller must await
        ``drain()`` (the transport is over its high-water mark), so an
        adapter can skip a coroutine per message when it is not."""
        if not self.started:
            raise LocalProtocolError("body before the response start")
        if self.finished:
            if (data or more) and not self.refused:
                raise LocalProtocolError("response already complete")
            return False
        transport = self.conn.transport
        mode = self._mode
        if (not more and mode == "length" and self._head_fields is not None
                and len(data) == self._remaining):
            # The whole response at once (the usual small answer): one write,
            # its head made as _encode_head() makes it, without that call.
            head = self.head
            fields = self._head_fields
            self._head_fields = None  # type: ignore[assignment]
            payload = _app_heads.get(self.status, fields, head.method, self._remaining,
                                     self.keep_alive, head.http_version == "1.0",
                                     self.conn.loop.time()) + data
            self._remaining = 0
            self.sent += len(data)
            self.finished = True
            if not (self.disconnected or transport is None or transport.is_closing()):
                transport.write(payload)
                if self._log is not None or not self.keep_alive:
                    self._done()  # (a call only when it has something to do)
                return self.conn.write_paused
            return False
        out: list[bytes] = []
        if self._head_fields is not None:
            out.append(self._encode_head(more or bool(data)))
        if mode == "length":
            if len(data) > self._remaining:
                self._abort("app sent more than its Content-Length")
                raise LocalProtocolError("body longer than Content-Length")
            self._remaining -= len(data)
            out.append(data)
        elif mode == "chunked":
            if data:
                out.append(chunk(data))
            if not more:
                out.append(LAST_CHUNK)
        elif mode == "close":
            out.append(data)
        self.sent += len(data) if mode != "none" else 0
        if not more:
            self.finished = True
            if mode == "length" and self._remaining:
                # A short body must never pass for a complete one.
                self._abort("app sent less than its Content-Length")
                raise LocalProtocolError("body shorter than Content-Length")
        if self.disconnected or transport is None or transport.is_closing():
            return False
        payload = b"".join(out)
        if payload:
            transport.write(payload)
        if self.finished:
            self._done()
        return bool(payload) and self.conn.write_paused

    async def send_file(self, fd: int, offset: int, count: int) -> None:
        """``count`` bytes of an open file as body, with sendfile where possible.

        For wsgi.file_wrapper; the caller ends the response with send(b"", False).
        """
        from .sendfile import BodySender

        if not self.started:
            raise LocalProtocolError("body before the response start")
        if self.refused:
            return
        if self._mode == "length":
            count = min(count, self._remaining)
        parts: list[Part] = []
        if self._head_fields is not None:
            parts.append(self._encode_head(True))
        if self._mode in ("none",) or count <= 0:
            if parts and not self.disconnected:
                self.conn.transport.write(parts[0])
            return
        if self._mode == "chunked":
            parts += [b"%x\r\n" % count, FileSlice(fd, offset, count), b"\r\n"]
        else:
            parts.append(FileSlice(fd, offset, count))
        if self._mode == "length":
            self._remaining -= count
        self.sent += count
        if self.disconnected or self.conn.transport is None:
            return
        await BodySender(self.conn.transport, self.conn._drain, lambda: None).send(parts)

    def _encode_head(self, _has_body: bool) -> bytes:
        fields = self._head_fields
        self._head_fields = None  # type: ignore[assignment]
        length = (self._remaining if self._mode == "length"
                  else self._declared if self._mode == "none" else None)
        return _app_heads.get(self.status, fields, self.head.method, length,
                              self.keep_alive, self.head.http_version == "1.0",
                              self.conn.loop.time())

    def _done(self) -> None:
        if self._log is not None:
            self._log.log(self.conn.peer, self.head, self.status, self.sent)
        if not self.keep_alive:
            self.conn.close_after_response()

    def _abort(self, why: str) -> None:
        log.error("%s: %s for %r; connection closed", self.conn.peer, why,
                  self.head.request_line)
        self.finished = True
        self.keep_alive = False
        self.conn.close_after_response()
        transport = self.conn.transport
        if transport is not None:
            transport.abort()

    def fail(self) -> None:
        """The app raised (already logged): a 500 if nothing was sent, else cut it off.

        If the server refused the body (``body_error``: over --limit-body,
        broken chunked framing), its 413/400 is the answer instead, as in
        finish(): an app may well raise on the ``http.disconnect`` it heard
        for it (Starlette's Request.body() does), and the error is the client's.
        """
        if self.finished:
            return
        if not self.started:
            # An unread body leaves the connection out of step: close after.
            self.keep_alive = self.keep_alive and self._body_done
            error = self.body_error
            self._answer_page(INTERNAL_ERROR if error is None else error_response(error))
        else:
            self._abort("app failed after the response started")

    def refuse_body(self) -> None:
        """The app asked for a body it cannot have whole: the server answers for it.

        The body was refused (``body_error``: 413 over --limit-body, 400 for
        broken chunked framing) or the client stopped sending it before its
        end (half-closed or gone: an incomplete message, RFC 9112 section 8,
        400). An adapter calls this where its app finds out (wsgi.input's read
        raises; an ASGI app hears ``http.disconnect``). If nothing was sent,
        the error is the answer, as nginx answers 413/400 itself, and whatever
        the app answers after it (its 500, or a 200 from an app that caught
        the error) is dropped: the error is the client's and the app never
        saw the request whole. If the response has begun, the connection is
        cut, so that it cannot pass for the answer to a whole request.
        """
        if self.finished:
            return
        self.refused = True
        self.keep_alive = False
        if self.started:
            self._abort("request body incomplete after the response started")
            return
        error = self.body_error
        self._answer_page(error_response(
            error if error is not None else RemoteProtocolError("incomplete request body", 400)))

    def finish(self) -> None:
        """The app has returned: whatever it left unsaid is settled here."""
        if self.finished:
            return
        if self.started:
            self._abort("app returned before the response was complete")
        elif self.body_error is not None:
            self.keep_alive = False
            self._answer_page(error_response(self.body_error))
        else:
            log.error("app returned without a response for %r", self.head.request_line)
            self._answer_page(INTERNAL_ERROR)

    def _answer_page(self, page: Response) -> None:
        body = page.body if isinstance(page.body, bytes) else b""
        self.start(page.status, [*page.headers, (b"Content-Length", b"%d" % len(body))])
        transport = self.conn.transport
        self.finished = True
        if transport is not None and not transport.is_closing() and not self.disconnected:
            transport.write(self._encode_head(True) + (body if self._mode == "length" else b""))
        self.sent = len(body)
        self._done()
