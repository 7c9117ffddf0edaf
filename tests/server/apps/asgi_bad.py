"""ASGI apps that break the rules, one per path (ASGI HTTP spec 2.4, RFC 9112).

The server must turn each into a safe answer: a 500 with no detail before the
response started, a cut connection after it, never an injected header.
"""

from __future__ import annotations

import asyncio
from typing import Any

SECRET = "secret-detail-4f1c"  # must reach the server's log, never the client


async def _body(send: Any, data: bytes, more: bool = False) -> None:
    await send({"type": "http.response.body", "body": data, "more_body": more})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        raise RuntimeError("http only")
    path = scope["path"]
    if path == "/ok":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"2")]})
        await _body(send, b"ok")
    elif path == "/raise-before":
        raise RuntimeError(f"the app broke: {SECRET}")
    elif path == "/raise-after-chunked":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await _body(send, b"partial body ", more=True)
        await asyncio.sleep(0.05)
        raise RuntimeError(f"broke mid-stream: {SECRET}")
    elif path == "/raise-after-length":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"100")]})
        await _body(send, b"0123456789", more=True)
        await asyncio.sleep(0.05)
        raise RuntimeError(f"broke mid-body: {SECRET}")
    elif path == "/start-only":
        await send({"type": "http.response.start", "status": 200, "headers": []})
    elif path in ("/crlf", "/lf", "/cr", "/bad-name", "/name-colon"):
        name, value = {
            "/crlf": (b"x-note", b"ok\r\nX-Injected: yes"),
            "/lf": (b"x-note", b"ok\nX-Injected: yes"),
            "/cr": (b"x-note", b"ok\rX-Injected: yes"),
            "/bad-name": (b"x note\r\nX-Injected", b"yes"),
            "/name-colon": (b"X-Injected: yes\r\nx-note", b"ok"),
        }[path]
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"2"), (name, value)]})
        await _body(send, b"ok")
    elif path == "/cl-more":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"5")]})
        await _body(send, b"12345HTTP/1.1 200 OK\r\nX-Smuggled: yes\r\n\r\n")
    elif path == "/cl-more-split":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"5")]})
        await _body(send, b"123", more=True)
        await _body(send, b"45678")
    elif path == "/cl-less":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"100")]})
        await _body(send, b"short")
    elif path == "/cl-bad":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"5, 6")]})
        await _body(send, b"12345")
    elif path == "/no-response":
        return
    else:
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await _body(send, b"")
