"""ASGI apps whose lifespan startup fails (ASGI lifespan spec 2.0)."""

from __future__ import annotations

from typing import Any


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reports ``lifespan.startup.failed`` with a message."""
    if scope["type"] == "lifespan":
        message = await receive()
        assert message["type"] == "lifespan.startup"
        await send({"type": "lifespan.startup.failed",
                    "message": "database unreachable at db.invalid:5432"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"should never be served"})


async def raising(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Raises during startup (with ``--lifespan on`` that is a failed startup)."""
    if scope["type"] == "lifespan":
        await receive()
        raise RuntimeError("cache warm-up exploded")
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"should never be served"})
