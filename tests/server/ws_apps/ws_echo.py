"""A raw ASGI app for the WebSocket tests: echo, refuse /deny, close on "bye"."""

from typing import Any


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        if scope["path"] == "/deny":
            await send({"type": "websocket.close"})
            return
        subprotocol = (scope["subprotocols"] or [None])[0]
        await send({"type": "websocket.accept", "subprotocol": subprotocol})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("text") == "bye":
                await send({"type": "websocket.close", "code": 1000})
                return
            text = message.get("text") or message["bytes"].decode()
            await send({"type": "websocket.send", "text": "echo:" + text})
    else:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"http"})

def _starlette():  # type: ignore[no-untyped-def]
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket

    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        async for text in websocket.iter_text():
            await websocket.send_text(text.upper())

    return Starlette(routes=[WebSocketRoute("/upper", echo)])


starlette_app = _starlette()
