"""The app half of a connection: requests handed to an ASGI/WSGI app, and WebSocket upgrades.

:class:`AppConnectionMixin` is a base of :class:`~sockweb.server.protocol.HttpProtocol`
and holds no state of its own: what it reads and writes lives in HttpProtocol's
``__slots__`` and is declared here only for mypy. It is what makes a connection
an :class:`~sockweb.server.exchange.Connection` (``close_after_response``,
``pause_body``, ``resume_body``) and what starts a
:class:`~sockweb.server.websocket.WebSocketSession`.

One request with an app::

    data_received ── RequestHead ──▶ _app_request ──▶ an AppExchange, queued in order
                                          │ (a WebSocket handshake waits for Upgraded)
    its turn (_answer) ──▶ _start_app ──▶ a --static mount: answered at once
                                     └──▶ _run_app: app.run(exchange), then _after_response

    data_received ── Upgraded ──▶ _upgraded ──▶ WebSocketSession.run(); finish_upgrade closes
"""

from __future__ import annotations

import logging
import math
from asyncio import Task as _Task
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Protocol

from ..http.errors import ProtocolError, RemoteProtocolError
from ..http.events import RequestHead
from ..http.framing import FRAGMENT_MARK, split_authority, split_target
from ..http.headers import Headers
from ..http.parser import RequestParser
from .exchange import AppExchange

if TYPE_CHECKING:
    import asyncio
    from collections import deque

    from .listener import ServerState
    from .response import Response
    from .websocket import WebSocketSession

log = logging.getLogger("sockweb.server")

# The connection's phases, drawn in protocol.py's docstring; here because both
# modules set them and protocol.py imports this one.
HEAD, BODY, IDLE, RESPONDING, LINGER = range(5)

# The name of every Task that runs an app for a request.
APP_TASK_NAME = "sockweb: app request"


def take_target_host(head: RequestHead) -> None:
    """An absolute-form target's authority becomes the request's Host field.

    RFC 9112 section 3.2.2: an origin server that receives an absolute-form
    target (``GET http://real.example/x``) MUST ignore the Host field and use
    the target's authority, so the apps' Host (WSGI HTTP_HOST, the ASGI
    scope's ``host`` header, and what frameworks build URLs from) is the
    authority, in the place of the first Host field or last if there was
    none. A target with userinfo (RFC 9110 section 4.2.4) or an empty host
    (section 4.2.1) is refused. Only for absolute-form: the usual
    origin-form request never comes here.
    """
    scheme_end = head.target.find(b"://")
    if scheme_end < 0:
        return  # not absolute-form (split_target has refused any other)
    authority = split_authority(head.target[scheme_end + 3:].partition(b"#")[0])[0]
    if not authority or authority[:1] == b":" or b"@" in authority:
        raise RemoteProtocolError("invalid authority in the request target", 400)
    fields: list[tuple[bytes, bytes]] = []
    placed = False
    for name, value in head.headers.raw:
        if name.lower() != b"host":
            fields.append((name, value))
        elif not placed:
            fields.append((name, authority))
            placed = True
    if not placed:
        fields.append((b"Host", authority))
    head.headers = Headers.adopt(fields)


class AppRunner(Protocol):
    """An ASGI or WSGI app behind the exchange (asgi.py, wsgi.py)."""

    interface: str

    async def startup(self) -> None: ...

    async def shutdown(self) -> None: ...

    def run(self, exchange: AppExchange) -> Awaitable[None]: ...


class AppConnectionMixin:
    """HttpProtocol's app and WebSocket methods (see the module docstring)."""

    # No slots of its own: HttpProtocol holds them all. mypy checks every
    # ``self.x = ...`` against the class's own __slots__, so it is shown the
    # names of HttpProtocol's slots that the methods below assign.
    if TYPE_CHECKING:
        __slots__ = ("parser", "phase", "deadline", "_task", "_streaming", "_closing", "_closed",
                     "_msg_open", "_answered", "_sink", "_exchange", "_app_paused",
                     "_ws_request", "_ws")
    else:
        __slots__ = ()

    # HttpProtocol's state (its __slots__), used here.
    state: ServerState
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport | None
    parser: RequestParser
    peer: str
    phase: int
    deadline: float
    app_addresses: tuple[object, str, object] | None
    _pending: deque[RequestHead | RemoteProtocolError | AppExchange]
    _task: asyncio.Task[None] | None
    _streaming: bool
    _closing: bool
    _closed: bool
    write_paused: bool
    _msg_open: bool
    _answered: bool
    _sink: AppExchange | None
    _exchange: AppExchange | None
    _app_paused: bool
    _ws_request: tuple[RequestHead, bytes, bytes] | None
    _ws: WebSocketSession | None

    if TYPE_CHECKING:
        # HttpProtocol's methods, used here: signatures for mypy, nothing at run time.
        async def _drain(self) -> None: ...

        def data_received(self, data: bytes) -> None: ...

        def _busy(self) -> bool: ...

        def _enqueue(self, item: RequestHead | RemoteProtocolError | AppExchange) -> None: ...

        def _respond(self, head: RequestHead | None, response: Response,
                     keep_alive: bool) -> None: ...

        def _after_response(self) -> None: ...

        def _set_reading(self, on: bool) -> None: ...

    def _upgraded(self, rest: bytes) -> None:
        request, self._ws_request = self._ws_request, None
        state = self.state
        if request is None or state.app is None or self._busy():
            # Not a WebSocket we can take: go on with HTTP after it.
            self.parser = RequestParser(state.config.limits)
            if rest:
                self.data_received(rest)
            return
        from .websocket import WebSocketSession

        head, path, query = request
        if state.config.verbose:
            state.print_head(self.peer, head)
        runner = state.app
        self._ws = session = WebSocketSession(
            # self is an HttpProtocol (this class's only user), which WebSocketSession takes.
            self, head, path, query, runner.app, state.config.root_path,  # type: ignore[arg-type, attr-defined]
            runner.state, runner.trusted)  # type: ignore[attr-defined]
        self._streaming = True
        self.deadline = math.inf  # a WebSocket may stay quiet as long as it likes
        self.loop.create_task(session.run())
        if rest:
            session.feed(rest)

    def finish_upgrade(self) -> None:
        """The WebSocket (or its refusal) is over: so is the connection."""
        if self._ws is not None and self.transport is not None:
            self._closed = True
            self.transport.close()

    def _app_request(self, head: RequestHead) -> None:
        if self.parser.upgrades and head.headers.has_lower(b"upgrade"):
            from .websocket import is_websocket_request

            if is_websocket_request(head):
                try:
                    path, query = split_target(head.method, head.target)
                    if head.target[:1] != b"/":
                        take_target_host(head)
                except ProtocolError:
                    pass
                else:
                    self._ws_request = (head, path, query)
                    return
        self._msg_open = head.body_expected
        self._answered = False
        self.phase = BODY if head.body_expected else RESPONDING
        target = head.target
        if target[:1] == b"/" and FRAGMENT_MARK not in target:
            path, _, query = target.partition(b"?")  # split_target's origin form
        else:
            try:
                path, query = split_target(head.method, target)
                if target[:1] != b"/" and path != b"*":
                    take_target_host(head)
            except ProtocolError as exc:
                self._enqueue(RemoteProtocolError(str(exc), exc.status))
                return
        # Without a body the exchange starts with its body complete.
        exchange = AppExchange(self, head, path, query, self.state.access_log)
        if head.body_expected:
            self._sink = exchange
        if self._streaming or self._pending:  # _busy(), without the call
            # Its body waits in the exchange; read no further meanwhile.
            self._set_reading(False)
            self._enqueue(exchange)
        else:
            self._start_app(exchange)  # what _enqueue would come to

    def _start_app(self, exchange: AppExchange) -> None:
        state = self.state
        if state.config.verbose:
            state.print_head(self.peer, exchange.head)
        # A --static mount (no call at all without one): answered at once; a
        # body is dropped as it comes.
        if state.handler.mounts and state.handler.match(exchange.path):  # type: ignore[attr-defined]
            response = state.handler.handle(exchange.head.method.decode("ascii"),
                                            exchange.path, exchange.query, exchange.head.headers)
            exchange.finished = True
            if self._sink is exchange:
                self._sink = None
            self._respond(exchange.head, response,
                          exchange.head.keep_alive and not self._closing)
            return
        assert state.app is not None
        self._streaming = True
        self._exchange = exchange
        self.deadline = math.inf  # an app may think as long as it likes
        self._task = None
        loop = self.loop
        if state.plain_tasks and loop.get_task_factory() is None:
            # What loop.create_task() would make, without its layer of calls
            # and with a name made once: the two (the default name is
            # formatted per Task) were a quarter of the cost of a Task. The
            # factory is looked at every time: an app may set one at any time.
            _Task(self._run_app(state.app, exchange), loop=loop, name=APP_TASK_NAME)
        else:
            loop.create_task(self._run_app(state.app, exchange))

    async def _run_app(self, app: AppRunner, exchange: AppExchange) -> None:
        try:
            await app.run(exchange)
        except Exception as exc:
            if exchange.refused:
                # The server has answered for the client's broken body: an app
                # that raises on hearing of it (IncompleteBody, Starlette's
                # ClientDisconnect) is not at fault.
                log.info("app raised %r after the request body of %r was refused",
                         exc, exchange.head.request_line)
            else:
                log.exception("app failed for %r", exchange.head.request_line)
            exchange.fail()
        finally:
            if not exchange.finished:  # (the usual app has finished it: no call)
                exchange.finish()
            self._exchange = None
            self._streaming = False
            self._answered = True
            if self._sink is exchange:
                # Answered before its body ended: drop the rest as it comes.
                exchange.finished = True
            self._after_response()

    def close_after_response(self) -> None:
        self._closing = True

    def pause_body(self) -> None:
        self._app_paused = True
        self._set_reading(False)

    def resume_body(self) -> None:
        if self._app_paused:
            self._app_paused = False
            if not self.write_paused and not self._pending:
                self._set_reading(True)
