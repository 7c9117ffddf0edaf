"""Apps made by a factory (``--factory``), and apps whose kind must be forced."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

CALLS = {"factory": 0}


def create_app() -> Callable[..., Awaitable[None]]:
    CALLS["factory"] += 1
    calls = CALLS["factory"]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise RuntimeError("http only")
        body = b"made by the factory (call %d)" % calls
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"%d" % len(body))]})
        await send({"type": "http.response.body", "body": body})

    return app


async def _asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        raise RuntimeError("http only")
    body = b"asgi, though it does not look it"
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", b"%d" % len(body))]})
    await send({"type": "http.response.body", "body": body})


def disguised(scope: dict[str, Any], receive: Any, send: Any) -> Awaitable[None]:
    """An ASGI app in a plain function (it returns the coroutine): only
    ``--interface asgi`` can tell the server what it is."""
    return _asgi(scope, receive, send)


def plain_wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = f"wsgi says {environ['REQUEST_METHOD']} {environ['PATH_INFO']}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]


not_callable = {"an": "app"}
