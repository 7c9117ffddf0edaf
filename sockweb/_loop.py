"""An event loop: uvloop where it is installed, plain asyncio elsewhere."""

from __future__ import annotations

import asyncio
import sys


def new_event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def loop_name(loop: asyncio.AbstractEventLoop) -> str:
    return "uvloop" if type(loop).__module__.startswith("uvloop") else "asyncio"


def creates_tasks_plainly(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether ``loop.create_task()`` is asyncio's or uvloop's own method: with
    no task factory set, it then makes exactly ``asyncio.Task(coro, loop=loop)``,
    which a caller may make itself. (A subclass's own create_task may do more.)"""
    method = type(loop).create_task
    if method is asyncio.BaseEventLoop.create_task:
        return True
    uvloop = sys.modules.get("uvloop")
    return uvloop is not None and method is uvloop.Loop.create_task
