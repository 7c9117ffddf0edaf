"""sockweb/_loop.py: which event loop, and whether its create_task() is a plain one."""

from __future__ import annotations

import asyncio
from typing import Any

import uvloop

from sockweb._loop import creates_tasks_plainly, loop_name, new_event_loop


def test_new_event_loop_is_uvloop_where_installed() -> None:
    loop = new_event_loop()
    try:
        assert loop_name(loop) == "uvloop"
    finally:
        loop.close()


def test_asyncios_and_uvloops_own_create_task_are_plain() -> None:
    for loop in (asyncio.new_event_loop(), uvloop.new_event_loop()):
        try:
            assert creates_tasks_plainly(loop)
        finally:
            loop.close()


def test_a_loop_with_its_own_create_task_is_left_to_make_its_tasks() -> None:
    """Such a loop may do more than make a Task (instrument, name, count it):
    the server then calls its create_task() for every app request."""

    class Counting(uvloop.Loop):
        def create_task(self, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
            return super().create_task(coro, **kwargs)

    class SelectorCounting(asyncio.SelectorEventLoop):
        def create_task(self, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
            return super().create_task(coro, **kwargs)

    for loop in (Counting(), SelectorCounting()):
        try:
            assert not creates_tasks_plainly(loop)
        finally:
            loop.close()
