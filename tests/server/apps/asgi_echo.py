"""Raw ASGI 3 apps (no framework), per the ASGI HTTP spec 2.4.

``app`` routes on the path:

* anything else: read the whole body and answer with the scope and the body
  as typed JSON (see typedjson), plus how the body arrived (its pieces).
* ``/stream?n=N``: N ``http.response.body`` messages, then an empty last one.
* ``/length``: an app-provided Content-Length, the body in two messages.
* ``/ignore-body``: answers without reading the request body.
* ``/disconnect?file=F``: starts a streaming response, then waits in
  ``receive()``; writes what ``receive()`` returned (and whether a later
  ``send()`` raised) to F.
* ``/longpoll?file=F``: waits in ``receive()`` without sending anything.
* ``/stream-until-disconnect?file=F``: streams a chunk every 20 ms while a
  task waits in ``receive()``; writes the event that stopped it to F.

It does not speak lifespan: a lifespan scope raises, like many raw apps.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any
from urllib.parse import parse_qs

from typedjson import dumps


def _query(scope: dict[str, Any]) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(scope["query_string"].decode("latin-1")).items()}


def _record(path: str, data: dict[str, Any]) -> None:
    with open(path, "w") as f:
        json.dump(data, f)


async def _start(send: Any, status: int = 200, headers: list[tuple[bytes, bytes]] | None = None,
                 ) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": headers or [(b"content-type", b"text/plain")]})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        raise RuntimeError(f"this app speaks only http, not {scope['type']}")
    path = scope["path"]
    query = _query(scope)
    if path == "/stream":
        await _start(send)
        for i in range(int(query.get("n", "10"))):
            await send({"type": "http.response.body", "body": b"part %d\n" % i,
                        "more_body": True})
            await asyncio.sleep(0.002)
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    if path == "/length":
        await _start(send, headers=[(b"content-type", b"text/plain"),
                                    (b"content-length", b"11")])
        await send({"type": "http.response.body", "body": b"hello ", "more_body": True})
        await send({"type": "http.response.body", "body": b"world"})
        return
    if path == "/ignore-body":
        await _start(send, headers=[(b"content-length", b"7")])
        await send({"type": "http.response.body", "body": b"ignored"})
        return
    if path == "/disconnect":
        await _start(send)
        await send({"type": "http.response.body", "body": b"waiting\n", "more_body": True})
        events = []
        for _ in range(5):  # the request (empty body) first, then the disconnect
            try:
                message = await asyncio.wait_for(receive(), 10)
            except asyncio.TimeoutError:
                events.append("timeout")
                break
            events.append(message["type"])
            if message["type"] == "http.disconnect":
                break
        send_error = None
        try:
            await send({"type": "http.response.body", "body": b"late\n", "more_body": True})
        except OSError as exc:
            send_error = type(exc).__name__
        _record(query["file"], {"events": events, "send_error": send_error})
        return
    if path == "/longpoll":
        events = []
        for _ in range(5):
            try:
                message = await asyncio.wait_for(receive(), 10)
            except asyncio.TimeoutError:
                events.append("timeout")
                break
            events.append(message["type"])
            if message["type"] == "http.disconnect":
                break
        _record(query["file"], {"events": events})
        return
    if path == "/stream-until-disconnect":
        first = await receive()  # the (empty) request body
        assert first["type"] == "http.request", first
        waiter = asyncio.ensure_future(receive())
        await _start(send)
        sent = 0
        for i in range(500):  # at most 10 s
            if waiter.done():
                break
            await send({"type": "http.response.body", "body": b"tick %d\n" % i,
                        "more_body": True})
            sent += 1
            await asyncio.sleep(0.02)
        event = waiter.result()["type"] if waiter.done() else "still waiting"
        waiter.cancel()
        _record(query["file"], {"event": event, "sent": sent})
        return

    # The echo: every body message is kept as it came.
    pieces: list[int] = []
    flags: list[bool] = []
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return  # the client left, or its body broke a rule: nothing to answer
        assert message["type"] == "http.request", message
        chunk = message.get("body", b"")
        assert isinstance(chunk, bytes)
        body += chunk
        pieces.append(len(chunk))
        more = message.get("more_body", False)
        flags.append(more)
        if not more:
            break
    answer = {
        "scope": {k: v for k, v in scope.items() if k != "extensions"},
        "body_len": len(body),
        "body_sha256": hashlib.sha256(body).hexdigest(),
        "body": bytes(body) if len(body) <= 65536 else b"",
        "pieces": pieces,
        "more_body": flags,
    }
    data = dumps(answer)
    await _start(send, headers=[(b"content-type", b"application/json"),
                                (b"content-length", b"%d" % len(data))])
    await send({"type": "http.response.body", "body": data})
