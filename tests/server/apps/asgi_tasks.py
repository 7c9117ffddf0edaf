"""ASGI apps that report the asyncio Task their request runs in.

``app`` answers each request with what the app can see of its Task: its name,
whether asyncio counts it among the loop's tasks, whether it is a new Task
(never seen by an earlier request; each is kept, so no id is reused), and whether a context
variable set by an earlier request on any connection leaks into it.
``with_factory`` is the same app, but its lifespan startup installs a task
factory on the loop, which every Task it makes records; ``late_factory``
installs that factory while it answers its first request instead.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
from typing import Any

_seen: list[asyncio.Task[Any]] = []
_made_by_factory: set[int] = set()
_request_var: contextvars.ContextVar[str] = contextvars.ContextVar("request", default="")


def _factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
    task = asyncio.Task(coro, loop=loop, **kwargs)
    _made_by_factory.add(id(task))
    return task


async def _lifespan(receive: Any, send: Any, install_factory: bool) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if install_factory:
                asyncio.get_running_loop().set_task_factory(_factory)
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _answer(scope: dict[str, Any], send: Any) -> None:
    task = asyncio.current_task()
    assert task is not None
    leaked = _request_var.get()
    _request_var.set(scope["path"])
    await asyncio.sleep(0)  # the Task really runs the app across a suspension
    body = json.dumps({
        "name": task.get_name(),
        "listed": task in asyncio.all_tasks(),
        "new": all(task is not old for old in _seen),
        "by_factory": id(task) in _made_by_factory,
        "leaked": leaked,
    }).encode()
    _seen.append(task)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", b"%d" % len(body))]})
    await send({"type": "http.response.body", "body": body})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send, install_factory=False)
    else:
        await _answer(scope, send)


async def with_factory(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send, install_factory=True)
    else:
        await _answer(scope, send)


async def late_factory(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send, install_factory=False)
    else:
        asyncio.get_running_loop().set_task_factory(_factory)
        await _answer(scope, send)
