"""What the halves of layout's builder share, declared once for mypy.

The builder (``_Builder`` in layout.py) is put together from mixins: its
inline half (inline.py), forms (controls.py), lists (lists.py) and tables
(tables.py). :class:`BuilderBase` is their common base: the state more than
one of them reads and writes, and the methods one half calls that another
half or the builder itself supplies.

It holds annotations and stubs only, nothing that runs: the state is set in
``_Builder.__init__`` (``document`` and ``page`` in ``ControlsMixin``'s), and
each stub's real method is in layout.py or a mixin, every one of which comes
before this base in the method resolution order.
"""

from __future__ import annotations

# typing costs every start ~3 ms to import; annotations need it only for mypy.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from .dom import Document, LexborNode, Mark
    from .flow import Block, St
    from .model import Page

__all__ = ["BuilderBase"]


class BuilderBase:
    """The builder's shared state and the methods its halves call across."""

    document: Document
    page: Page
    marks: dict[int, Mark]  # the document's marks, by node.mem_id
    blocks: list[Block]
    runs: list[tuple[str, St]]
    split_runs: bool  # runs holds neighbours of one style (see inline.RUN_JOIN)
    st: St
    indent: int
    prefix: str | None  # the list marker the next line starts with
    fresh: bool  # nothing laid out since the container began: no margin
    line_width: int | None  # set when laying out text only (layout.py)

    # Supplied by the builder (layout.py).
    def flush(self) -> None:
        raise NotImplementedError

    def blank(self) -> None:
        raise NotImplementedError

    def add_block(self, block: Block) -> None:
        raise NotImplementedError

    def block(self, node: LexborNode, margin: bool = False, indent: int = 0,
              container: bool = False) -> None:
        raise NotImplementedError

    def cell_content(self, node: LexborNode, bold: bool) -> None:
        raise NotImplementedError

    def walk(self, node: LexborNode) -> None:
        raise NotImplementedError

    def walk_items(self, node: LexborNode) -> None:
        raise NotImplementedError

    def lone_text(self, node: LexborNode) -> LexborNode | None:
        raise NotImplementedError

    # Supplied by InlineMixin (inline.py).
    def atom(self, t: str, st: St) -> None:
        raise NotImplementedError

    def resolve(self, href: str) -> str:
        raise NotImplementedError

    # Supplied by ListsMixin (lists.py).
    def marker_line(self) -> None:
        raise NotImplementedError
