"""An ASGI app that speaks the lifespan protocol (ASGI lifespan spec 2.0).

Startup puts values in ``scope["state"]`` (and writes the file named by
$SOCKWEB_TEST_STARTUP); shutdown writes the file named by
$SOCKWEB_TEST_SHUTDOWN. Each HTTP request answers with its ``scope["state"]``.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Any


def _mark(variable: str, text: str) -> None:
    path = os.environ.get(variable)
    if path:
        with open(path, "w") as f:
            f.write(text)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await asyncio.sleep(0.3)  # a slow startup: the banner must wait for it
                scope["state"]["greeting"] = "hello from startup"
                scope["state"]["counter"] = {"requests": 0}
                _mark("SOCKWEB_TEST_STARTUP", f"started {time.time()}")
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                _mark("SOCKWEB_TEST_SHUTDOWN", f"stopped {time.time()}")
                await send({"type": "lifespan.shutdown.complete"})
                return
    assert scope["type"] == "http"
    state = scope.get("state")
    answer: dict[str, Any] = {"has_state": state is not None}
    if state is not None:
        # The spec's copy is shallow: a key added here stays in this request,
        # a mutable value shared from startup is the same object everywhere.
        answer["leaked_key"] = "per_request" in state
        state["per_request"] = True
        if "counter" in state:
            state["counter"]["requests"] += 1
        answer["state"] = {k: v for k, v in state.items() if k != "per_request"}
    body = json.dumps(answer).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})
