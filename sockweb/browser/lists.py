"""Lists, for layout's builder: ``<ul>``, ``<ol>``, ``<li>``, ``<dl>``, ``<dd>``.

Lists indent their items two columns past the marker column; bullets go
``*``, ``+``, ``-`` by depth; ``<ol>`` numbers honour ``start``,
``reversed``, ``type`` (1 a A i I) and ``<li value>``. ``<dd>`` is indented
four.

An item's marker waits in the builder's ``prefix`` for the item's first
line; an item that is empty, or starts with what cannot carry a marker (a
rule, a table, a nested list's item), has its marker on a line of its own.
"""

from __future__ import annotations

from . import dom
from .builder_base import BuilderBase
from .dom import LexborNode
from .flow import BLANK, Flow

# typing costs every start ~3 ms to import; annotations need it only for mypy.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["ListsMixin"]

_BULLETS = ("*", "+", "-")


class ListsMixin(BuilderBase):
    """The list half of layout's builder; the rest is the builder's (builder_base.py)."""

    # Each open list: [its items' marker prefix (or one per item), their indent, next].
    lists: list[list[Any]]

    def marker_line(self) -> None:
        """A list marker whose item starts with something that cannot carry it."""
        if self.prefix is not None:
            self.add_block(Flow(self.indent, self.prefix, [], False, False))
            self.prefix = None

    def list_(self, node: LexborNode) -> None:
        self.flush()
        nested = bool(self.lists)
        if not nested:
            self.blank()
        mark = self.marks.get(node.mem_id)
        # [a prefix for all items, or one per item; the items' indent; the next item]
        state: list[Any]
        if mark is not None and mark.no_marker:
            state = [None, self.indent + 4, 0]
        elif node.tag == "ol":
            markers = _ordered_markers(node)
            indent = self.indent + 2 + (max(map(len, markers), default=1) or 1) + 1
            # Each item's first line starts with its marker, right-aligned before the indent.
            state = [[" " * (indent - len(m) - 1) + m + " " for m in markers], indent, 0]
        else:
            indent = self.indent + 4
            state = [" " * (indent - 2) + _BULLETS[len(self.lists) % 3] + " ", indent, 0]
        self.lists.append(state)
        self.walk_items(node)
        self.flush()
        self.lists.pop()
        if not nested:
            self.blank()

    def item(self, node: LexborNode) -> None:
        if self.runs:
            self.flush()
        if self.prefix is not None:
            self.marker_line()
        if self.lists:
            state = self.lists[-1]
            prefixes, indent, index = state
            if prefixes is None or type(prefixes) is str:
                self.prefix = prefixes
            else:
                self.prefix = prefixes[index] if index < len(prefixes) else None
                state[2] = index + 1
        else:
            indent = self.indent + 4
            self.prefix = "  * "
        old = self.indent
        self.indent = indent
        self.fresh = True
        self.walk(node)
        if self.runs:
            self.flush()
        if self.prefix is not None:
            self.marker_line()
        blocks = self.blocks
        if blocks and blocks[-1] is BLANK:
            blocks.pop()
        self.indent = old

    def dl(self, node: LexborNode) -> None:
        self.block(node, margin=not self.lists)

    def dd(self, node: LexborNode) -> None:
        self.block(node, indent=4, container=True)


def _roman(n: int) -> str:
    out = []
    for value, letters in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"),
                           (90, "xc"), (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"),
                           (4, "iv"), (1, "i")):
        count, n = divmod(n, value)
        out.append(letters * count)
    return "".join(out)


def _alpha(n: int) -> str:
    out = ""
    while n > 0:
        n, rest = divmod(n - 1, 26)
        out = chr(97 + rest) + out
    return out


def _ordered_markers(node: LexborNode) -> list[str]:
    """An <ol>'s item markers: start, reversed, type and <li value> as HTML says."""
    attrs = node.attributes
    items = []
    child = node.child
    while child is not None:
        if child.tag == "li":
            items.append(child)
        child = child.next
    backwards = "reversed" in attrs
    number = dom.attr_int(node, "start", len(items) if backwards else 1)
    kind = attrs.get("type") or "1"
    markers = []
    for li in items:
        number = dom.attr_int(li, "value", number)
        if kind in "aA" and number > 0:
            text = _alpha(number)
        elif kind in "iI" and 0 < number < 4000:
            text = _roman(number)
        else:
            text = str(number)
        markers.append((text.upper() if kind in "AI" else text) + ".")
        number += -1 if backwards else 1
    return markers
