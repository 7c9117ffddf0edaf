"""Laying out a page nested deeper than Python's recursion limit allows.

Layout walks the tree recursively, a frame or two per level of nesting, and
Python stops at about 1,000 frames. Real pages stay far below that, but a
page is input like any other: 20,000 nested ``<div>``s are 220 KB, Lexbor
builds the tree (it has no depth limit), and browsers lay it out. So a page
that fails at the default limit is laid out once more on a thread of its own,
with a stack large enough for :data:`DEEP_FRAMES` frames and the limit raised
to match (the stack is reserved address space; only the part used is
memory). Past that the page is refused with :class:`PageTooDeep`, one line
for the reader, never a traceback.

Ordinary pages pay nothing: the first attempt is the plain call.
"""

from __future__ import annotations

import sys

from ..http.errors import SockwebError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    T = TypeVar("T")

__all__ = ["DEEP_FRAMES", "PageTooDeep", "deeply"]

# About 100,000 levels of nesting (a page of over a megabyte of open tags).
DEEP_FRAMES = 200_000
# Python 3.10 keeps each Python call on the C stack too (3.11 does not);
# 2 KiB a frame is generous for either.
DEEP_STACK = DEEP_FRAMES * 2048


class PageTooDeep(SockwebError):
    """The page nests elements deeper than sockweb lays out."""


def deeply(fn: Callable[..., T], *args: object) -> T:
    """``fn(*args)``, again with room for :data:`DEEP_FRAMES` frames if it recursed too deep."""
    try:
        return fn(*args)
    except RecursionError:
        pass
    import threading

    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(fn(*args))
        except BaseException as exc:  # handed to the caller's thread below
            failure.append(exc)

    limit = sys.getrecursionlimit()
    try:
        stack = threading.stack_size(DEEP_STACK)
    except (ValueError, RuntimeError) as exc:  # a platform that will not give the stack
        raise PageTooDeep(f"the page nests elements too deeply to lay out ({exc})") from None
    try:
        sys.setrecursionlimit(max(limit, DEEP_FRAMES))
        worker = threading.Thread(target=run, name="sockweb-deep-layout", daemon=True)
        worker.start()
        worker.join()
    except RuntimeError as exc:  # no thread could be started (a memory limit)
        raise PageTooDeep(f"the page nests elements too deeply to lay out ({exc})") from None
    finally:
        sys.setrecursionlimit(limit)
        threading.stack_size(stack)
    if failure:
        if isinstance(failure[0], RecursionError):
            raise PageTooDeep("the page nests elements more than about "
                              f"{DEEP_FRAMES // 2:,} levels deep: too deep to lay out") from None
        raise failure[0]
    return outcome[0]
