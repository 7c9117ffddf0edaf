"""ASGI 3 over sockweb's exchange: HTTP scopes and the lifespan protocol.

The adapter never writes bytes: ``send()`` hands the status, headers and body
to :class:`~sockweb.server.exchange.AppExchange`, which frames them.
Spec: https://asgi.readthedocs.io/en/latest/specs/www.html (HTTP 2.4).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote_to_bytes

from ..http.errors import LocalProtocolError, SockwebError
from .config import ServerConfig
from .exchange import AppExchange
from .proxy_headers import TrustedProxies, client_view

log = logging.getLogger("sockweb.server")

# "%" by its value: a plain byte search (``b"%" in`` costs a dropped TypeError).
_PERCENT = ord("%")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]],
                    Callable[[Message], Awaitable[None]]], Awaitable[None]]


class LifespanFailed(SockwebError):
    pass


def _server_address(transport: Any) -> tuple[str, int] | None:
    sock = transport.get_extra_info("sockname") if transport is not None else None
    return (sock[0], sock[1]) if isinstance(sock, tuple) else None


def http_scope(exchange: AppExchange, root_path: str, state: dict[str, Any],
               trusted: TrustedProxies | None = None) -> Scope:
    head = exchange.head
    conn = exchange.conn
    transport = conn.transport
    if trusted is None:
        # The socket's addresses do not change: asked of the transport once
        # per connection, not once per request.
        addresses = conn.app_addresses
        if addresses is None:
            client, scheme = client_view(transport, head.headers, None)
            addresses = conn.app_addresses = (client, scheme, _server_address(transport))
        client, scheme, server = addresses
    else:
        client, scheme = client_view(transport, head.headers, trusted)
        server = _server_address(transport)
    raw_path = exchange.path
    path = (raw_path.decode("ascii") if _PERCENT not in raw_path and raw_path.isascii()
            else unquote_to_bytes(raw_path).decode("utf-8", "surrogateescape"))
    # A loop, not a comprehension: on 3.11 a comprehension makes a function
    # and a frame per call, more than a request's few fields cost.
    headers = []
    for name, value in head.headers.raw:
        headers.append((name.lower(), value))
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": head.http_version,
        "method": head.method.decode("ascii"),
        "scheme": scheme,
        "path": root_path + path if root_path else path,
        "raw_path": raw_path,
        "query_string": exchange.query,
        "root_path": root_path,
        "headers": headers,
        "client": client,
        "server": server,
        "state": state.copy(),
        "extensions": {},
    }


class ASGIRunner:
    interface = "ASGI"

    def __init__(self, app: ASGIApp, config: ServerConfig) -> None:
        self.app = app
        self.config = config
        self.state: dict[str, Any] = {}
        self._lifespan: _Lifespan | None = None
        self.trusted = (TrustedProxies(config.forwarded_allow_ips)
                        if config.proxy_headers else None)

    async def startup(self) -> None:
        if self.config.lifespan == "off":
            return
        self._lifespan = _Lifespan(self.app, self.state, required=self.config.lifespan == "on")
        await self._lifespan.startup()

    async def shutdown(self) -> None:
        if self._lifespan is not None:
            await self._lifespan.shutdown(self.config.graceful_timeout)

    def run(self, exchange: AppExchange) -> Awaitable[None]:
        """The app's own coroutine for ``exchange``: the connection awaits it
        directly, with no coroutine of ours around it."""
        scope = http_scope(exchange, self.config.root_path, self.state, self.trusted)
        body_read = False

        async def receive() -> Message:
            nonlocal body_read
            if not body_read:
                if exchange.body_error is None:
                    data, more = await exchange.receive_body()
                    # What arrived of the body is the app's even if the client left
                    # after sending it; a body cut off by the leaving is not.
                    if exchange.body_error is None and (data or not more) and (
                            exchange.body_done or not exchange.gone):
                        body_read = not more
                        return {"type": "http.request", "body": data, "more_body": more}
                # The body cannot be had whole: refused (413, 400) or cut short
                # by the client. The server answers for it (refuse_body) and the
                # app hears http.disconnect.
                exchange.refuse_body()
            # After the body: block until the client leaves or the response is done.
            await exchange.wait_disconnect()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            kind = message.get("type")
            if kind == "http.response.start":
                status = message.get("status")
                if not isinstance(status, int):
                    raise LocalProtocolError(f"invalid status {status!r}")
                exchange.start(status, message.get("headers", ()))
            elif kind == "http.response.body":
                if exchange.disconnected:
                    return  # uvicorn's choice: a send after the client left is a no-op
                body = message.get("body", b"")
                if exchange.write(body if body.__class__ is bytes else bytes(body),
                                  bool(message.get("more_body", False))):
                    await exchange.drain()
            else:
                raise LocalProtocolError(f"unexpected ASGI message {kind!r}")

        return self.app(scope, receive, send)


class _Lifespan:
    """The lifespan sub-protocol, run as one task for the server's life."""

    def __init__(self, app: ASGIApp, state: dict[str, Any], required: bool) -> None:
        self.app = app
        self.state = state
        self.required = required
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()
        self.started = asyncio.Event()
        self.stopped = asyncio.Event()
        self.failure: str | None = None
        self.unsupported = False
        self.task: asyncio.Task[None] | None = None

    async def startup(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._main())
        await self.inbox.put({"type": "lifespan.startup"})
        await self.started.wait()
        if self.failure is not None:
            raise LifespanFailed(f"the app's startup failed: {self.failure}")
        if self.unsupported and self.required:
            raise LifespanFailed("the app does not support the lifespan protocol (--lifespan on)")

    async def shutdown(self, timeout: float) -> None:
        if self.unsupported or self.task is None or self.task.done():
            return
        await self.inbox.put({"type": "lifespan.shutdown"})
        try:
            await asyncio.wait_for(self.stopped.wait(), timeout)
        except asyncio.TimeoutError:
            log.warning("the app's lifespan shutdown did not finish in %.0fs", timeout)
            self.task.cancel()
        if self.failure is not None:
            log.error("the app's shutdown failed: %s", self.failure)

    async def _main(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"},
                 "state": self.state}
        try:
            await self.app(scope, self.inbox.get, self._send)
        except BaseException as exc:
            if not self.started.is_set():
                # --lifespan auto: an app that fails on a lifespan scope before
                # answering it simply does not speak lifespan (uvicorn's rule).
                if self.required:
                    self.failure = f"{type(exc).__name__}: {exc}"
                else:
                    log.info("the app does not support lifespan: %r", exc)
                self.unsupported = not self.required
            elif not self.stopped.is_set():
                self.failure = f"{type(exc).__name__}: {exc}"
            if isinstance(exc, asyncio.CancelledError):
                raise
        finally:
            self.started.set()
            self.stopped.set()

    async def _send(self, message: Message) -> None:
        kind = message.get("type")
        if kind == "lifespan.startup.complete":
            self.started.set()
        elif kind == "lifespan.startup.failed":
            self.failure = str(message.get("message", "") or "startup failed")
            self.started.set()
        elif kind == "lifespan.shutdown.complete":
            self.stopped.set()
        elif kind == "lifespan.shutdown.failed":
            self.failure = str(message.get("message", "") or "shutdown failed")
            self.stopped.set()
