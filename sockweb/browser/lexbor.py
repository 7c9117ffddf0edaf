"""selectolax's Lexbor binding, imported without importing :mod:`logging` with it.

``selectolax.lexbor`` imports logging at load time for one logger, which it
uses for a single message (``unwrap()`` on a node already removed; sockweb
never calls it). Importing logging costs ``browse --dump`` about 5 ms, a
twentieth of dumping the largest page of the Python documentation, whose
target is to be no slower than ``lynx -dump``.

So while selectolax loads, ``sys.modules["logging"]`` is a stand-in whose
``getLogger(name)`` returns a logger that imports the real module the first
time it is used, and the stand-in is gone again as soon as the import is
over: any later ``import logging`` gets the real module. When logging is
already imported (the interactive browser, a program that uses sockweb as a
library) nothing is stood in for.
"""

from __future__ import annotations

import sys

__all__ = ["TEXT", "LexborHTMLParser", "LexborNode", "SelectolaxError", "css_once"]


class _DeferredLogger:
    """``logging.getLogger(name)``, looked up the first time it is used."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> object:
        import logging

        return getattr(logging.getLogger(self._name), attr)


def _load() -> None:
    if "logging" in sys.modules or "selectolax.lexbor" in sys.modules:
        return  # nothing to save: the import below is all
    stand_in = type(sys)("logging")
    stand_in.getLogger = _DeferredLogger  # type: ignore[attr-defined]
    sys.modules["logging"] = stand_in
    try:
        import selectolax.lexbor  # noqa: F401
    finally:
        if sys.modules.get("logging") is stand_in:
            del sys.modules["logging"]


_load()

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError  # noqa: E402

TEXT = 2  # the tag_id of a text node (LXB_TAG__TEXT): cheaper to compare than .tag


def css_once(tree: LexborHTMLParser, selectors: str) -> list[LexborNode]:
    """``tree.css(selectors)``, each element once, in document order.

    Lexbor lists an element once for each selector of the list that it
    matches, one entry after the other: ``<link rel=stylesheet id=s>`` would
    come twice from ``"[id], link[rel]"`` (and its sheet be read twice).
    """
    out: list[LexborNode] = []
    last = -1
    for node in tree.css(selectors):
        if node.mem_id != last:
            last = node.mem_id
            out.append(node)
    return out
