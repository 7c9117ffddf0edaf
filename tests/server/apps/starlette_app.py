"""A Starlette app: routes, StreamingResponse, request.stream(), lifespan state.

Its lifespan yields a state dict (Starlette puts it in ``scope["state"]``,
so it reaches ``request.state``) and writes $SOCKWEB_TEST_SHUTDOWN on the way
out. ``failing`` is the same app with a lifespan that cannot start.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
    yield {"db": "connected", "pid": os.getpid()}
    marker = os.environ.get("SOCKWEB_TEST_SHUTDOWN")
    if marker:
        with open(marker, "w") as f:
            f.write("starlette shutdown\n")


@asynccontextmanager
async def broken_lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
    raise RuntimeError("cannot reach the database")
    yield {}  # pragma: no cover


async def home(request: Request) -> Response:
    return PlainTextResponse("starlette home\n")


async def item(request: Request) -> Response:
    return JSONResponse({"id": request.path_params["item_id"],
                         "q": request.query_params.get("q")})


async def upload_stream(request: Request) -> Response:
    digest = hashlib.sha256()
    chunks = size = 0
    async for chunk in request.stream():
        if chunk:
            chunks += 1
            size += len(chunk)
            digest.update(chunk)
    return JSONResponse({"chunks": chunks, "size": size, "sha256": digest.hexdigest()})


async def echo_json(request: Request) -> Response:
    data = await request.json()
    return JSONResponse({"got": data, "content_type": request.headers.get("content-type")},
                        status_code=201)


async def stream(request: Request) -> Response:
    n = int(request.query_params.get("n", "20"))

    async def lines() -> AsyncIterator[bytes]:
        for i in range(n):
            yield b"line %d\n" % i
            await asyncio.sleep(0.002)

    return StreamingResponse(lines(), media_type="text/plain")


async def state(request: Request) -> Response:
    return JSONResponse({"db": request.state.db, "pid": request.state.pid,
                         "server_pid": os.getpid()})


async def redirect(request: Request) -> Response:
    return RedirectResponse("/items/7?q=redirected", status_code=303)


async def set_cookie(request: Request) -> Response:
    response = PlainTextResponse("cookie set\n")
    response.set_cookie("session", "abc123", httponly=True, path="/")
    return response


async def whoami(request: Request) -> Response:
    return JSONResponse({"session": request.cookies.get("session")})


async def where(request: Request) -> Response:
    return JSONResponse({"root_path": request.scope["root_path"], "path": request.url.path,
                         "url": str(request.url),
                         "url_for": str(request.url_for("item", item_id=3))})


routes = [
    Route("/", home),
    Route("/items/{item_id:int}", item, name="item"),
    Route("/upload", upload_stream, methods=["POST", "PUT"]),
    Route("/json", echo_json, methods=["POST"]),
    Route("/stream", stream),
    Route("/state", state),
    Route("/redirect", redirect),
    Route("/cookie/set", set_cookie),
    Route("/cookie/get", whoami),
    Route("/where", where),
]

app = Starlette(routes=routes, lifespan=lifespan)
failing = Starlette(routes=routes, lifespan=broken_lifespan)
