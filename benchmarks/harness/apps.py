"""The apps the peers (and, once it hosts apps, sockweb) serve: one body for all.

``hello_asgi`` is a raw ASGI app (no framework), ``hello_wsgi`` the same as
WSGI, and ``static_asgi`` is Starlette's StaticFiles over $BENCH_WWW (a
factory, so importing this module needs no Starlette).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

HELLO = b"<html><body>Hello World</body></html>"  # sockweb serve --hello's 37 bytes

_ASGI_START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", str(len(HELLO)).encode())],
}
_ASGI_BODY = {"type": "http.response.body", "body": HELLO}


async def hello_asgi(scope: dict[str, Any], receive: Callable[..., Any],
                     send: Callable[..., Any]) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send(_ASGI_START)
    await send(_ASGI_BODY)


_WSGI_HEADERS = [("Content-Type", "text/html; charset=utf-8"),
                 ("Content-Length", str(len(HELLO)))]


def hello_wsgi(environ: dict[str, Any],
               start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", _WSGI_HEADERS)
    return [HELLO]


def static_asgi() -> Any:
    """Factory: Starlette's StaticFiles over the benchmark's www directory."""
    from starlette.staticfiles import StaticFiles

    return StaticFiles(directory=os.environ["BENCH_WWW"])
