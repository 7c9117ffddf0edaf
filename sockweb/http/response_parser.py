"""Bytes in, events out: the response parser over httptools (llhttp).

The client's half of :mod:`sockweb.http.parser`. Two things llhttp cannot be
told through httptools are handled here: a response to HEAD has no body
whatever its Content-Length says (RFC 9110 section 9.3.2), and a body framed
by the end of the connection ends only when ``feed_eof()`` says so
(RFC 9112 section 6.3 item 8).
"""

from __future__ import annotations

import httptools

from . import framing
from .errors import RemoteProtocolError
from .events import END_OF_MESSAGE, Data, ResponseHead
from .headers import Headers

ResponseEvent = ResponseHead | Data | RemoteProtocolError | object


class ResponseLimits:
    """How much response head a client takes before calling it malformed.

    Larger than what a server takes of a request (``http.limits.Limits``):
    servers do send long Set-Cookie and Content-Security-Policy fields, and
    curl allows 100 KiB for one header line and 300 KiB for a whole head.
    Not a dataclass like ``Limits`` (which the server turns into flags),
    because importing dataclasses would cost every ``sockweb get`` 7 ms.
    """

    __slots__ = ("max_status_line", "max_field_size", "max_header_size", "max_header_count")

    def __init__(
        self,
        max_status_line: int = 64 * 1024,
        max_field_size: int = 64 * 1024,
        max_header_size: int = 256 * 1024,
        max_header_count: int = 500,
    ) -> None:
        self.max_status_line = max_status_line
        self.max_field_size = max_field_size
        self.max_header_size = max_header_size
        self.max_header_count = max_header_count


RESPONSE_LIMITS = ResponseLimits()


class _HeadDone(Exception):
    """Stops llhttp after the head of a response that has no body."""


class _Stop(Exception):
    """Stops llhttp with our own error (a limit)."""


class ResponseParser:
    """One parser per connection; ``expect(method)`` before each response."""

    __slots__ = (
        "_events", "_fields", "_head_size", "_in_head", "_limits", "_method", "_parser",
        "_reason", "_error", "_until_close", "_since_emit", "dead", "in_message",
        "_max_field", "_max_head", "_max_count", "body_length",
    )  # fmt: skip

    def __init__(self, limits: ResponseLimits = RESPONSE_LIMITS) -> None:
        self._limits = limits
        # Read once: on_header runs for every field of every response.
        self._max_field = limits.max_field_size
        self._max_head = limits.max_header_size
        self._max_count = limits.max_header_count
        self._parser = httptools.HttpResponseParser(self)
        self._events: list[ResponseEvent] = []
        self._fields: list[tuple[bytes, bytes]] = []
        self._reason = b""
        self._head_size = 0
        self._in_head = False
        self._method = b"GET"
        self._error: RemoteProtocolError | None = None
        self._until_close = False
        self._since_emit = 0
        self.dead = False
        self.in_message = False
        # The Content-Length of the body being parsed, when that is what
        # frames it (no Transfer-Encoding); None for chunked, close-delimited
        # and bodiless responses.
        self.body_length: int | None = None

    def expect(self, method: bytes) -> None:
        """The method of the request whose response comes next."""
        self._method = method

    def feed(self, data: bytes) -> list[ResponseEvent]:
        events: list[ResponseEvent] = []
        self._events = events
        if self.dead:
            return events
        if not self.in_message:
            self._since_emit = 0
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, _HeadDone):
                # A bodiless response's head is complete: llhttp stopped in an
                # error state, so the next response gets a fresh parser.
                self._parser = httptools.HttpResponseParser(self)
                events.append(END_OF_MESSAGE)
                self.in_message = False
            else:
                self._fail(self._error or RemoteProtocolError("malformed response"))
        except httptools.HttpParserError as exc:
            self._fail(RemoteProtocolError(f"malformed response: {exc}"))
        if self._in_head and not self.dead:
            # Responses come one at a time, so what arrived while the head is
            # unfinished is head: llhttp buffers a field until its end.
            self._since_emit += len(data)
            if self._since_emit > self._limits.max_header_size:
                self._fail(RemoteProtocolError("response head too large", 431))
        return events

    def feed_eof(self) -> list[ResponseEvent]:
        """The peer closed: the end of a close-delimited body, or an error."""
        events: list[ResponseEvent] = []
        self._events = events
        if self.dead or not self.in_message:
            return events
        if self._until_close and not self._in_head:
            self.in_message = False
            events.append(END_OF_MESSAGE)
        else:
            where = "head" if self._in_head else "body"
            self._fail(RemoteProtocolError(f"connection closed in the middle of the {where}"))
        return events

    @property
    def reusable(self) -> bool:
        """A close-delimited body uses the connection up (RFC 9112 section 9.3)."""
        return not self.dead and not self._until_close

    def _fail(self, error: RemoteProtocolError) -> None:
        self.dead = True
        self._events.append(error)

    def _stop(self, message: str, status: int = 502) -> None:
        self._error = RemoteProtocolError(message, status)
        raise _Stop(message)

    # -- httptools callbacks -------------------------------------------------
    def on_message_begin(self) -> None:
        self._fields = []
        self._reason = b""
        self._head_size = 0
        self._in_head = True
        self._since_emit = 0
        self._until_close = False
        self.in_message = True
        self.body_length = None

    def on_status(self, reason: bytes) -> None:
        self._reason += reason
        if len(self._reason) > self._limits.max_status_line:
            self._stop("status line too long")

    def on_header(self, name: bytes, value: bytes) -> None:
        value = value.rstrip(b" \t")
        fields = self._fields
        fields.append((name, value))
        size = len(name) + len(value) + 4
        self._head_size += size
        if (size > self._max_field or self._head_size > self._max_head
                or len(fields) > self._max_count):
            self._stop("response header fields too large")

    def on_headers_complete(self) -> None:
        self._in_head = False
        parser = self._parser
        status = parser.get_status_code()
        if not 100 <= status <= 599:  # RFC 9110 section 15: the classes are 1xx to 5xx
            self._stop(f"malformed response: status code {status:03d} is not 100 to 599")
        version = parser.get_http_version()
        # The head keeps the parser's list; trailer fields, which llhttp
        # reports through on_header too, go to a new one and are dropped.
        headers = Headers.adopt(self._fields)
        self._fields = []
        self._events.append(
            ResponseHead(status, self._reason, version, headers,
                         framing.keep_alive(version, headers))
        )
        if framing.has_no_body(self._method, status):
            if status >= 200 or status == 101:
                raise _HeadDone
            return  # a 1xx: llhttp ends it itself and a final response follows
        # RFC 9112 section 6.3: without a final chunked, and without a
        # Content-Length, the body runs until the server closes.
        codings = b""
        if headers.get_raw(b"transfer-encoding") is not None:
            codings = b",".join(headers.get_all_raw(b"transfer-encoding")).lower()
        if codings:
            chunked = codings.rsplit(b",", 1)[-1].strip() == b"chunked"
            self._until_close = not chunked
            return
        length = headers.get_raw(b"content-length")
        if length is None:
            self._until_close = True
        elif length.isdigit():  # llhttp has refused any two that differ
            self.body_length = int(length)

    def body_read_elsewhere(self) -> None:
        """The rest of the current Content-Length body was read without the
        parser (a zero-copy download): the message is over, and the next
        response starts on a fresh parser, as after a bodiless one."""
        if self.body_length is None or self._in_head or not self.in_message:
            raise RuntimeError("no Content-Length body is being read")
        self._parser = httptools.HttpResponseParser(self)
        self.in_message = False
        self.body_length = None

    def on_body(self, body: bytes) -> None:
        self._events.append(Data(body))

    def on_message_complete(self) -> None:
        self.in_message = False
        self._events.append(END_OF_MESSAGE)
