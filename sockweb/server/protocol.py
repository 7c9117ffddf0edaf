"""One asyncio Protocol per connection: bytes -> parser -> handler -> bytes.

The connection is in one of four phases, and one deadline covers it::

    HEAD ──head complete──▶ BODY ──end of message──▶ (answered) ──▶ IDLE
     ▲                    (timeout_io per read)                     │
     └─────────────────────────── first byte ───────────────────────┘

    HEAD  waiting for a request head   timeout_headers -> 408 (or a silent close
                                       if not one byte came), then close
    BODY  reading a body               timeout_io -> 408 if not answered yet
    IDLE  keep-alive, nothing pending  timeout_keep_alive -> close
    a response that does not drain     timeout_io -> abort

Responses go out in request order (pipelining): while one body is streaming,
later heads wait in ``_pending``; past ``MAX_PENDING`` reading pauses.
Reading also pauses while the transport's write buffer is over its high-water
mark (``pause_writing``) and resumes below the low one.

Requests for an ASGI/WSGI app and WebSocket upgrades take the methods of
:class:`~sockweb.server.app_connection.AppConnectionMixin`, a base of HttpProtocol.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import TYPE_CHECKING, Protocol

from ..http.errors import ProtocolError, RemoteProtocolError
from ..http.events import END_OF_MESSAGE, Data, EndOfMessage, RequestHead, Upgraded
from ..http.framing import FRAGMENT_MARK, split_target
from ..http.headers import Headers
from ..http.parser import Event, RequestParser
from .app_connection import BODY, HEAD, IDLE, LINGER, RESPONDING, AppConnectionMixin
from .app_connection import AppRunner as AppRunner  # listener.py imports it from here
from .exchange import CONTINUE, INTERNAL_ERROR, AppExchange, error_response
from .response import Response, error_page
from .sendfile import BodySender, FileShrank
from .wire import body_allowed, encode_head

if TYPE_CHECKING:
    from .listener import ServerState
    from .websocket import WebSocketSession

log = logging.getLogger("sockweb.server")

MAX_PENDING = 16
# After our last response we half-close and read what the client still sends
# for a moment, so its unread bytes do not turn our close into a reset that
# destroys the response (nginx lingering_timeout 5s).
LINGER_TIMEOUT = 5.0
BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 20\r\nConnection: close\r\nRetry-After: 1\r\n\r\n"
    b"Too many connections"
)


class Handler(Protocol):
    def handle(self, method: str, path: bytes, query: bytes, headers: Headers) -> Response: ...


class HttpProtocol(AppConnectionMixin, asyncio.Protocol):
    __slots__ = (
        "_answered",
        "app_addresses",
        "_batch",
        "_body_head",
        "_sink",
        "_exchange",
        "_app_paused",
        "_ws_request",
        "_ws",
        "_closed",
        "_closing",
        "_drain_waiter",
        "_got_bytes",
        "_msg_open",
        "_peer_eof",
        "_pending",
        "_quick",
        "_read_paused",
        "_streaming",
        "_task",
        "deadline",
        "loop",
        "parser",
        "peer",
        "phase",
        "state",
        "transport",
        "write_paused",
    )

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.loop = state.loop
        self.transport: asyncio.Transport | None = None
        app = state.app
        self.parser = RequestParser(state.config.limits,
                                    upgrades=app is not None and app.interface == "ASGI")
        # Whether a read may take _answer_at_once (no app, no access log):
        # both are settled before the first connection and never change.
        self._quick = app is None and state.access_log is None
        self.peer = "-"
        self.phase = HEAD
        self.deadline = self.loop.time() + state.config.timeout_headers
        self._pending: deque[RequestHead | RemoteProtocolError | AppExchange] = deque()
        self._streaming = False
        self._closing = False
        self.write_paused = False
        self._read_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None
        self._msg_open = False  # a head was received and its message is not complete
        self._answered = False  # the open message has had its response
        self._got_bytes = False  # bytes of a request that has not yet been answered
        self._task: asyncio.Task[None] | None = None
        self._closed = False  # the transport is closing: input is discarded
        self._peer_eof = False
        self._body_head: RequestHead | None = None  # waiting for its body to end
        # With an app: the exchange receiving the body now (dispatched or queued).
        self._sink: AppExchange | None = None
        self._exchange: AppExchange | None = None  # the one the app is answering
        self._app_paused = False
        self._ws_request: tuple[RequestHead, bytes, bytes] | None = None
        self._ws: WebSocketSession | None = None
        self.app_addresses: tuple[object, str, object] | None = None
        # The events of the read being handled (for _close's lingering verdict).
        self._batch: list[object] = []

    # -- asyncio callbacks ---------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only alike
        # (said to mypy without a cast() call per connection).
        tr: asyncio.Transport = transport  # type: ignore[assignment]
        self.transport = tr
        peer = tr.get_extra_info("peername")
        if isinstance(peer, tuple):
            self.peer = str(peer[0])
        connections = self.state.connections
        if len(connections) >= self.state.config.limit_concurrency:
            # Over the limit: a short answer, no parsing, no state kept; what
            # it still sends is discarded, as after any close of ours.
            self._closed = True
            tr.write(BUSY)
            tr.close()
            return
        connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.state.connections.discard(self)
        self._closing = self._closed = True
        self.parser.close()
        self._batch = []
        if self._task is not None:
            self._task.cancel()
        # An app is not cancelled: it hears http.disconnect and finishes.
        for exchange in (self._exchange, self._sink):
            if exchange is not None:
                exchange.lost()
        if self._ws is not None:
            self._ws.lost()
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(ConnectionResetError())
        self._pending.clear()

    def eof_received(self) -> bool | None:
        self._peer_eof = True
        if self._closed or not self._busy():
            # Nothing in flight: a half-sent request can never be completed now.
            return None
        # An app waiting in receive() hears of it (a long poll must end); its
        # answer can still be written to a half-closed client.
        for exchange in (self._exchange, self._sink):
            if exchange is not None:
                exchange.eof()
        if self.transport is not None and self.transport.get_extra_info("sslcontext"):
            return None  # TLS has no half-close: asyncio closes it either way
        # A half-closed client (``nc -N``) still gets every answer it asked
        # for; the connection closes once nothing is left (_after_response).
        return True

    def pause_writing(self) -> None:
        self.write_paused = True
        self.deadline = self.loop.time() + self.state.config.timeout_io
        self._set_reading(False)

    def resume_writing(self) -> None:
        self.write_paused = False
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if len(self._pending) < MAX_PENDING:
            self._set_reading(True)

    def data_received(self, data: bytes) -> None:
        if self._closed:
            return
        if self._ws is not None:
            self._ws.feed(data)
            return
        now = self.loop.time()
        events = self.parser.feed(data)
        phase = self.phase
        if phase == IDLE:
            # (Not when the read also began the next request: that one's head
            # must be timed as a head.)
            if (self._quick and len(events) == 2 and events[1] is END_OF_MESSAGE
                    and events[0].__class__ is RequestHead and not self.parser.in_head
                    and self._answer_at_once(events[0], now)):
                return
            self.phase = HEAD
            self.deadline = now + self.state.config.timeout_headers
        elif phase == BODY:
            self.deadline = now + self.state.config.timeout_io
        self._got_bytes = True
        self._batch = events
        self._handle_events(events, now)

    def _answer_at_once(self, head: RequestHead, now: float) -> bool:
        """The usual keep-alive read, one whole request and nothing in flight,
        answered with fewer steps (only when ``_quick``: no app, no access
        log). True if done; False (before any step) if the general path must
        take it.

        What the general path would do to the connection's state for this
        read (head, answer, end of message, idle again) comes to this: the
        answer's bytes written and the keep-alive deadline renewed.
        """
        state = self.state
        target = head.target
        if (head.body_expected or self._closing or self._peer_eof or target[:1] != b"/"
                or FRAGMENT_MARK in target):
            return False
        path, _, query = target.partition(b"?")  # split_target's origin form
        try:
            response = state.handler.handle(head.method.decode("ascii"), path, query,
                                            head.headers)
        except Exception:
            log.exception("handler failed for %r", head.request_line)
            response = INTERNAL_ERROR
        # data_received is only called on an open transport that we have not
        # closed (_closed is checked there), so no is_closing() here.
        transport = self.transport
        if response.shared and head.keep_alive and transport is not None:
            method = head.method
            if method != b"HEAD" and head.http_version == "1.1":
                transport.write(state.wire_cache.plain(response, now))
            else:
                transport.write(state.wire_cache.get(response, method, True,
                                                     head.http_version == "1.0", now))
            self.deadline = now + state.config.timeout_keep_alive
            if state.shutting_down:
                self._close(linger=False)
            return True
        # Any other answer: the head's steps of the general path, then its end.
        self._got_bytes = True
        self._batch = [head, END_OF_MESSAGE]
        self._msg_open = True
        self._answered = False
        self.phase = RESPONDING
        self._respond(head, response, head.keep_alive)
        self._handle_events([END_OF_MESSAGE], now)
        return True

    def _handle_events(self, events: list[Event], now: float) -> None:
        app = self.state.app
        for event in events:
            if self._closed:
                break  # bytes after a closing response are dropped
            cls = event.__class__
            if cls is RequestHead:
                head: RequestHead = event  # type: ignore[assignment]  # no cast() call here
                if app is not None:
                    self._app_request(head)
                    continue
                self._msg_open = True
                self._answered = False
                if not head.body_expected:
                    self.phase = RESPONDING
                    if self._streaming or self._pending:
                        self._enqueue(head)
                    else:
                        self._answer_head(head)
                    continue
                # Answered when the body is complete, so a body that breaks
                # its framing or its limit gets its 400/413, not a 200.
                self._body_head = head
                self.phase = BODY
                self.deadline = now + self.state.config.timeout_io
                if head.expect_continue and not self._busy() and self.transport:
                    # Like nginx, say 100 even when the body will only be
                    # discarded: the client sends it and the connection lives.
                    self.transport.write(CONTINUE)
            elif cls is EndOfMessage:
                self._msg_open = False
                self._got_bytes = False
                sink = self._sink
                if sink is not None:
                    sink.end_body()
                    self._sink = None
                    continue
                body_head = self._body_head
                if body_head is not None:
                    self._body_head = None
                    self.phase = RESPONDING
                    self._enqueue(body_head)
                elif self._answered and not self._busy():
                    self._go_idle(now)
            elif cls is Data:
                sink = self._sink
                if sink is not None:
                    sink.feed_body(event.data)  # type: ignore[union-attr]
                # static and hello handlers take no body: counted, dropped
            elif cls is Upgraded:
                self._upgraded(event.data)  # type: ignore[union-attr]
                return
            elif isinstance(event, RemoteProtocolError):
                self._msg_open = False
                if self._sink is not None:
                    # The body broke a rule: the app hears it as a disconnect and
                    # the error is the answer if the app has not answered yet.
                    self._sink.fail_body(event)
                    self._sink = None
                    self._closing = True
                    continue
                # A request whose body broke the rules is answered with the
                # error instead; after an error nothing more is parsed.
                self._body_head = None
                self._enqueue(event)

    # -- answering -----------------------------------------------------------
    def _busy(self) -> bool:
        return self._streaming or bool(self._pending)

    def _enqueue(self, item: RequestHead | RemoteProtocolError | AppExchange) -> None:
        if self._busy():
            self._pending.append(item)
            if len(self._pending) >= MAX_PENDING:
                self._set_reading(False)
        else:
            self._answer(item)

    def _answer(self, item: RequestHead | RemoteProtocolError | AppExchange) -> None:
        if item.__class__ is RequestHead:
            self._answer_head(item)
        elif isinstance(item, AppExchange):
            self._start_app(item)
        elif isinstance(item, RemoteProtocolError):
            self.state.log_protocol_error(self.peer, item)
            self._respond(None, error_response(item), keep_alive=False)

    def _answer_head(self, item: RequestHead) -> None:
        state = self.state
        if state.config.verbose:
            state.print_head(self.peer, item)
        try:
            path, query = split_target(item.method, item.target)
        except ProtocolError as exc:
            self._respond(item, error_response(exc), keep_alive=False)
            return
        try:
            response = state.handler.handle(
                item.method.decode("ascii"), path, query, item.headers
            )
        except Exception:
            log.exception("handler failed for %r", item.request_line)
            response = INTERNAL_ERROR
        self._respond(item, response, item.keep_alive and not self._closing)

    def _respond(self, head: RequestHead | None, response: Response, keep_alive: bool) -> None:
        transport = self.transport
        if transport is None or transport.is_closing() or self._closed:
            response.close()
            return
        method = head.method if head is not None else b"GET"
        http_10 = head is not None and head.http_version == "1.0"
        state = self.state
        self._answered = True
        if not keep_alive:
            self._closing = True
        if response.shared:
            # With the loop's time, the cache looks at the wall clock once a second.
            transport.write(state.wire_cache.get(response, method, keep_alive, http_10,
                                                 self.loop.time()))
            if state.access_log is not None:
                state.access_log.log(self.peer, head, response.status, response.content_length)
            self._after_response()
            return
        length = response.content_length
        data = encode_head(response, method, length, keep_alive, http_10)
        if state.access_log is not None:
            state.access_log.log(self.peer, head, response.status, length)
        body = response.body
        send_body = body_allowed(method, response.status)
        if not send_body or isinstance(body, bytes):
            transport.write(data + body if send_body else data)  # type: ignore[operator]
            response.close()
            self._after_response()
            return
        self._streaming = True
        self.phase = RESPONDING
        self.deadline = self.loop.time() + self.state.config.timeout_io
        self._task = self.loop.create_task(self._stream(data, response))

    async def _stream(self, head: bytes, response: Response) -> None:
        assert self.transport is not None and isinstance(response.body, list)
        sender = BodySender(self.transport, self._drain, self._progress)
        try:
            await sender.send([head, *response.body])
        except FileShrank:
            log.warning("%s: file changed while being sent; connection dropped", self.peer)
            self.transport.abort()
            return
        except (ConnectionError, OSError, asyncio.CancelledError):
            if not self.transport.is_closing():
                self.transport.abort()
            return
        finally:
            response.close()
            self._task = None
            self._streaming = False
        self._after_response()

    def _progress(self) -> None:
        self.deadline = self.loop.time() + self.state.config.timeout_io

    async def _drain(self) -> None:
        if self.write_paused:
            self._drain_waiter = self.loop.create_future()
            try:
                await self._drain_waiter
            finally:
                self._drain_waiter = None

    def _after_response(self) -> None:
        if not (self._closing or self._pending or self._peer_eof or self._read_paused
                or self._streaming):
            # The usual keep-alive case: nothing queued, reading on, nothing to close.
            if not self._msg_open:
                self._go_idle()
            return
        if self._closing:
            self._close()
            return
        while self._pending and not self._streaming:
            item = self._pending.popleft()
            self._answer(item)
            if self._closing and not self._streaming:
                self._close()
                return
        if self._peer_eof and not self._busy():
            self._close()
            return
        if not self._pending and not self._read_paused_by_writes():
            self._set_reading(True)
        if not self._busy() and not self._msg_open:
            self._go_idle()

    def _read_paused_by_writes(self) -> bool:
        return self.write_paused

    def _go_idle(self, now: float | None = None) -> None:
        """``now``: the loop's time if the caller has just read it."""
        if now is None:
            now = self.loop.time()
        if self._got_bytes or self.parser.in_head:
            # The next request has begun: it is the open message now, and has
            # had no answer (so it gets its 408 if it stalls).
            self._answered = False
            self.phase = HEAD
            self.deadline = now + self.state.config.timeout_headers
            return
        self.phase = IDLE
        self.deadline = now + self.state.config.timeout_keep_alive
        if self.state.shutting_down:
            self._close(linger=False)

    def _close(self, linger: bool = True) -> None:
        self._closing = self._closed = True
        self._pending.clear()
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if (not linger or self._peer_eof or not transport.can_write_eof()
                or (self.parser.between_messages
                    and self._batch.count(END_OF_MESSAGE) <= 1)):
            # Like nginx, linger only where the client may still be sending:
            # after one complete request nothing is left unread, and closing
            # at once spares a round trip per connection.
            transport.close()
            return
        # Half-close like the seed's shutdown(SHUT_WR): the client reads our
        # answer to its end-of-file, and we discard whatever it still sends.
        transport.write_eof()
        self.phase = LINGER
        self.deadline = self.loop.time() + LINGER_TIMEOUT
        self._read_paused = True
        self._set_reading(True)

    def _set_reading(self, on: bool) -> None:
        transport = self.transport
        if transport is None or transport.is_closing() or on != self._read_paused:
            return
        self._read_paused = not on
        if on:
            transport.resume_reading()
        else:
            transport.pause_reading()

    # -- called by the server ------------------------------------------------
    def check_timeout(self, now: float) -> None:
        if now < self.deadline or self.transport is None or self.transport.is_closing():
            return
        phase = self.phase
        if self.transport.get_write_buffer_size():
            # Whatever the phase, a client that takes nothing for this long is gone.
            log.info("%s: response not taken; connection dropped", self.peer)
            self.transport.abort()
        elif phase == LINGER:
            self.transport.close()
        elif phase == IDLE:
            self._close(linger=False)
        elif phase in (HEAD, BODY) and not self._busy() and not self._answered:
            if self._got_bytes or self.parser.in_head or phase == BODY:
                self.state.log_protocol_error(
                    self.peer, RemoteProtocolError("request timed out", 408))
                self._closing = True
                self._respond(None, error_page(408), keep_alive=False)
            else:
                self._close(linger=False)
        else:
            log.info("%s: no progress for %.0fs; connection dropped",
                     self.peer, self.state.config.timeout_io)
            self.transport.abort()

    @property
    def fresh(self) -> bool:
        """Accepted, and not one byte of a first request yet (shutdown gives it a moment)."""
        return self.phase == HEAD and not self._got_bytes and not self._busy()

    def shutdown(self) -> None:
        """Stop after what is in flight: close now if idle, else after the answer."""
        if self._ws is not None:
            self._ws.going_away()
            return
        if self.phase == IDLE or (
            self.phase == HEAD and not self._got_bytes and not self._busy()
        ):
            self._close(linger=False)
        else:
            self._closing = True

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()
