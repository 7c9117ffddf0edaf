"""WebSockets (RFC 6455) for ASGI apps: the handshake here, frames by wsproto.

wsproto is the sans-IO WebSocket library of the python-hyper project (the
authors of h11): it turns bytes into events and events into bytes, which is
how sockweb's own HTTP layer works too. The 101 response is written by
:func:`sockweb.server.wire.encode_switching`; frames are wsproto's bytes.
Spec: the ASGI WebSocket spec (https://asgi.readthedocs.io/en/latest/specs/www.html).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_to_bytes

from wsproto.connection import Connection, ConnectionState, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Ping, TextMessage
from wsproto.utilities import generate_accept_token

from ..http.errors import LocalProtocolError
from ..http.events import RequestHead
from ..http.headers import validate_field
from .proxy_headers import TrustedProxies, client_view
from .response import error_page
from .wire import encode_head, encode_switching

if TYPE_CHECKING:
    from .protocol import HttpProtocol

log = logging.getLogger("sockweb.server")

Message = dict[str, Any]


def is_websocket_request(head: RequestHead) -> bool:
    """RFC 6455 section 4.2.1: GET, HTTP/1.1, Upgrade: websocket, a key, version 13."""
    headers = head.headers
    upgrade = (headers.get_raw(b"upgrade") or b"").lower()
    return (head.method == b"GET" and head.http_version == "1.1" and b"websocket" in upgrade
            and headers.get_raw(b"sec-websocket-key") is not None)


class WebSocketSession:
    def __init__(self, conn: HttpProtocol, head: RequestHead, path: bytes, query: bytes,
                 app: Any, root_path: str, state: dict[str, Any],
                 trusted: TrustedProxies | None = None) -> None:
        self.trusted = trusted
        self.conn = conn
        self.head = head
        self.path = path
        self.query = query
        self.app = app
        self.root_path = root_path
        self.state = state
        self.ws = Connection(ConnectionType.SERVER)
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()
        self.accepted = False
        self.responded = False
        self.closed = False
        self._text: list[str] = []
        self._bytes: list[bytes] = []

    # -- from the connection ---------------------------------------------------
    def feed(self, data: bytes) -> None:
        if not self.accepted:
            self._early = getattr(self, "_early", b"") + data  # frames before accept
            return
        self.ws.receive_data(data)
        for event in self.ws.events():
            if isinstance(event, TextMessage):
                self._text.append(event.data)
                if event.message_finished:
                    self.inbox.put_nowait({"type": "websocket.receive",
                                           "text": "".join(self._text)})
                    self._text.clear()
            elif isinstance(event, BytesMessage):
                self._bytes.append(bytes(event.data))
                if event.message_finished:
                    self.inbox.put_nowait({"type": "websocket.receive",
                                           "bytes": b"".join(self._bytes)})
                    self._bytes.clear()
            elif isinstance(event, Ping):
                self._write(self.ws.send(event.response()))
            elif isinstance(event, CloseConnection):
                if self.ws.state == ConnectionState.REMOTE_CLOSING:
                    self._write(self.ws.send(event.response()))
                self._disconnect(event.code)
                self.conn.close_after_response()
                self.conn.finish_upgrade()

    def lost(self) -> None:
        self._disconnect(1006)

    def going_away(self) -> None:
        """The server shuts down: close 1001 (RFC 6455 section 7.4.1)."""
        if self.accepted:
            self._close(1001, "server shutting down")
            self.conn.finish_upgrade()

    def _disconnect(self, code: int) -> None:
        if not self.closed:
            self.closed = True
            self.inbox.put_nowait({"type": "websocket.disconnect", "code": code})

    def _write(self, data: bytes) -> None:
        transport = self.conn.transport
        if data and transport is not None and not transport.is_closing():
            transport.write(data)

    # -- the app ---------------------------------------------------------------
    def scope(self) -> Message:
        head = self.head
        transport = self.conn.transport
        sock = transport.get_extra_info("sockname") if transport is not None else None
        client, scheme = client_view(transport, head.headers, self.trusted)
        protocols = [p.strip().decode("latin-1") for v in
                     head.headers.get_all_raw(b"sec-websocket-protocol") for p in v.split(b",")
                     if p.strip()]
        return {
            "type": "websocket",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": head.http_version,
            "scheme": "wss" if scheme == "https" else "ws",
            "path": self.root_path + unquote_to_bytes(self.path).decode("utf-8",
                                                                         "surrogateescape"),
            "raw_path": self.path,
            "query_string": self.query,
            "root_path": self.root_path,
            "headers": [(n.lower(), v) for n, v in head.headers.raw],
            "client": client,
            "server": (sock[0], sock[1]) if isinstance(sock, tuple) else None,
            "subprotocols": protocols,
            "state": dict(self.state),
            "extensions": {"websocket.http.response": {}},
        }

    async def run(self) -> None:
        connected = False

        async def receive() -> Message:
            nonlocal connected
            if not connected:
                connected = True
                return {"type": "websocket.connect"}
            return await self.inbox.get()

        async def send(message: Message) -> None:
            kind = message.get("type")
            if kind == "websocket.accept":
                self._accept(message)
            elif kind == "websocket.send":
                if not self.accepted:
                    raise LocalProtocolError("websocket.send before websocket.accept")
                if self.closed:
                    return
                if message.get("bytes") is not None:
                    self._write(self.ws.send(BytesMessage(data=bytes(message["bytes"]))))
                else:
                    self._write(self.ws.send(TextMessage(data=str(message.get("text", "")))))
                await self.conn._drain()
            elif kind == "websocket.close":
                self._close(int(message.get("code", 1000)), str(message.get("reason") or ""))
            elif kind == "websocket.http.response.start":
                self._deny(int(message["status"]), list(message.get("headers", ())))
            elif kind == "websocket.http.response.body":
                self._write(bytes(message.get("body", b"")))
                if not message.get("more_body", False):
                    self.conn.close_after_response()
                    self.conn.finish_upgrade()
            else:
                raise LocalProtocolError(f"unexpected ASGI message {kind!r}")

        try:
            await self.app(self.scope(), receive, send)
        except Exception:
            log.exception("websocket app failed for %r", self.head.request_line)
            if self.accepted:
                self._close(1011, "")
        finally:
            if not self.accepted and not self.responded:
                # The app neither accepted nor answered: 403 (ASGI spec).
                self._deny(403, [])
            elif self.accepted and not self.closed:
                self._close(1000, "")
            self.conn.finish_upgrade()

    def _accept(self, message: Message) -> None:
        if self.accepted or self.responded:
            raise LocalProtocolError("websocket.accept sent twice or after a response")
        key = self.head.headers.get_raw(b"sec-websocket-key") or b""
        fields = [(b"Upgrade", b"websocket"), (b"Connection", b"Upgrade"),
                  (b"Sec-WebSocket-Accept", generate_accept_token(key))]
        subprotocol = message.get("subprotocol")
        if subprotocol:
            fields.append((b"Sec-WebSocket-Protocol", str(subprotocol).encode("latin-1")))
        for name, value in message.get("headers", ()):
            validate_field(bytes(name), bytes(value))
            fields.append((bytes(name), bytes(value)))
        self.accepted = True
        self._write(encode_switching(fields))
        log_ = self.conn.state.access_log
        if log_ is not None:
            log_.log(self.conn.peer, self.head, 101, 0)
        early = getattr(self, "_early", b"")
        if early:
            self._early = b""
            self.feed(early)

    def _deny(self, status: int, fields: list[tuple[bytes, bytes]]) -> None:
        if self.accepted or self.responded:
            return
        self.responded = True
        page = error_page(status)
        checked = []
        for name, value in fields:
            validate_field(bytes(name), bytes(value))
            checked.append((bytes(name), bytes(value)))
        page.headers = checked or page.headers
        body = page.body if isinstance(page.body, bytes) and not fields else b""
        self._write(encode_head(page, b"GET", None if fields else len(body), False, False)
                    + body)
        self.closed = True
        log_ = self.conn.state.access_log
        if log_ is not None:
            log_.log(self.conn.peer, self.head, status, len(body))
        if not fields:
            self.conn.close_after_response()

    def _close(self, code: int, reason: str) -> None:
        if not self.accepted:
            self._deny(403, [])
            return
        if self.ws.state == ConnectionState.OPEN:
            self._write(self.ws.send(CloseConnection(code=code, reason=reason)))
        self._disconnect(code)
        self.conn.close_after_response()
