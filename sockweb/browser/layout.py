"""Stage two: a parsed document -> boxes -> the lines of a :class:`Page`.

Layout runs in two passes, as the Web Browser Engineering book's does:

1. **Boxes** (the builder here, with its inline half in inline.py, its form
   half in controls.py, its lists in lists.py and its table half in
   tables.py; what they share is declared in builder_base.py): one walk
   over the tree makes a flat list of blocks, each a
   *flow* of styled text runs with white space already collapsed (CSS
   ``white-space``), its indent and the list marker of its first line; or a
   table, or a rule; with ``BLANK`` where a margin is.
   Links, form controls and forms are numbered here, in document order.
2. **Lines** (flow.py, tables.py): the blocks broken into lines for one
   width. A narrower terminal reruns only this pass.

Margins collapse the way CSS's do in practice: a blank line is asked for
around paragraphs, headings, lists, tables, quotations; two asks make one
blank line, and none is kept at the start or the end of a list item, a
definition, a table cell or a quotation, whose first line already stands
on its marker or indent.

``<blockquote>`` is indented four; how lists, their markers and ``<dd>``
are laid out is told in lists.py.
"""

from __future__ import annotations

from collections.abc import Callable

from . import dom
from .controls import ControlsMixin
from .depth import deeply
from .dom import LexborNode
from .flow import BLANK, MIN_LINE, PLAIN, Block, Flow, Rule, St, render_blocks, width_of
from .flow import render_rows as render_rows_of
from .inline import INLINE_STYLE, RUN_JOIN, InlineMixin
from .lexbor import TEXT as _TEXT
from .lists import ListsMixin
from .model import BOLD, HEADING, LINK, Link, Page
from .tables import TablesMixin

# typing costs every start ~3 ms to import; annotations need it only for mypy.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .css import Fetch

__all__ = ["layout", "render", "render_rows", "text_page"]

_DIVS = frozenset({
    "div", "section", "article", "aside", "header", "footer", "main", "nav", "center",
    "hgroup", "figcaption", "fieldset", "legend", "summary", "body", "html", "search",
    "frameset", "noframes", "tr", "td", "th", "thead", "tbody", "tfoot", "caption", "dt",
    "optgroup", "menuitem", "address",
})
# Elements with a handler that stay in the line (a mark on them must not break it).
_INLINE = frozenset({*INLINE_STYLE, "a", "img", "input", "select", "button", "label", "q",
                     "iframe", "frame", "nobr", "br", "option", "sup", "sub"})


class _Builder(InlineMixin, ControlsMixin, ListsMixin, TablesMixin):
    """Pass one: the document's tree -> a list of blocks (see the module docstring)."""

    # Set on the instance only once it happens (rare): a class default keeps
    # the builder's own attributes at 29, where CPython's attribute access
    # stays quickest.
    split_runs = False  # runs holds neighbours of one style (see inline.RUN_JOIN)

    def __init__(self, document: dom.Document, page: Page, text: bool = False) -> None:
        super().__init__(document, page)
        self.marks = document.marks
        # Text only (--dump), at the page's level: a paragraph that is one run
        # and fits is its finished line at once (see flush). None in a table's
        # cells, whose width is known only once the table is measured.
        self.line_width: int | None = page.width if text else None
        self.blocks: list[Block] = []
        self.runs: list[tuple[str, St]] = []
        self.sp = True  # the flow so far ends in a collapsible space (or is empty)
        self.breaks = False  # the runs hold "\n"
        self.indent = 0
        self.prefix: str | None = None  # the list marker the next line starts with
        self.fresh = True  # nothing laid out since the container began: no margin
        self.st = PLAIN
        self.ws = "normal"  # CSS white-space
        self.keep = False  # white space is kept (pre, pre-wrap, pre-line)
        self.anchors: list[str] = []
        # Each open list: [its items' marker prefix (or one per item), their indent, next].
        self.lists: list[list[Any]] = []
        self.link_pending: int | None = None  # a link whose [n] is not out yet
        self.link_text: list[str] | None = None
        self.link_image = ""
        self._styles: dict[tuple[frozenset[str], str], frozenset[str]] = {}
        self._urls: dict[str, str] = {}
        self._linked: dict[frozenset[str], frozenset[str]] = {}
        self._by_id: dict[int, Callable[[_Builder, LexborNode], None]] = {}

    # -- blocks -------------------------------------------------------------------
    def flush(self) -> None:
        runs = self.runs
        if not runs:
            return
        if self.split_runs:
            runs = self.runs = _joined_runs(runs)
            self.split_runs = False
        text, st = runs[-1]
        if text[-1:] == "\n":
            text = text[:-1]  # a <br> that ends a block adds no line
        elif self.sp and not self.keep:
            text = text.rstrip(" ")
        if text:
            runs[-1] = (text, st)
        else:
            runs.pop()
        if runs:
            width = self.line_width
            if width is not None and len(runs) > 1:
                # Text only: styles show nowhere, and line breaking goes by words
                # across runs, so the runs can be one (a link with <code> in it).
                runs = [("".join([t for t, _ in runs]), PLAIN)]
            if (width is not None and len(runs) == 1 and not self.breaks and not self.anchors
                    and self.indent <= width - MIN_LINE):
                # flow.render()'s common case done here: one run that fits its
                # line is that line (15,000 list items on an index page).
                text = runs[0][0]
                indent = self.indent
                if (len(text) if text.isascii() else width_of(text)) <= width - indent:
                    lead = self.prefix
                    if lead is None:
                        lead = " " * indent
                    elif len(lead) < indent:
                        lead = lead.ljust(indent)
                    self.prefix = None
                    # Typed as blocks are elsewhere; only render_rows sees these.
                    self.blocks.append(lead + text)  # type: ignore[arg-type]
                    self.fresh = False
                    self.runs = []
                    self.sp = True
                    return
            ws = self.ws
            block = Flow(self.indent, self.prefix, runs, ws != "pre" and ws != "nowrap",
                         self.breaks)
            self.prefix = None
            # add_block(), inlined: a flush per paragraph and list item
            if self.anchors:
                block.anchors = self.anchors
                self.anchors = []
            self.blocks.append(block)
            self.fresh = False
        self.runs = []
        self.sp = True
        self.breaks = False

    def add_block(self, block: Block) -> None:
        if self.anchors:
            block.anchors = self.anchors
            self.anchors = []
        self.blocks.append(block)
        self.fresh = False

    def blank(self) -> None:
        blocks = self.blocks
        if not self.fresh and blocks and blocks[-1] is not BLANK:
            blocks.append(BLANK)

    def block(self, node: LexborNode, margin: bool = False, indent: int = 0,
              container: bool = False) -> None:
        self.flush()
        if margin:
            self.blank()
        old = self.indent
        self.indent += indent
        if container:
            self.fresh = True
        self.walk(node)
        self.flush()
        if container and self.blocks and self.blocks[-1] is BLANK:
            self.blocks.pop()
        self.indent = old
        if margin:
            self.blank()

    def cell_content(self, node: LexborNode, bold: bool) -> None:
        old = self.st
        self.st = (frozenset({BOLD}) if bold else frozenset(), None, None)
        self.walk(node)
        self.flush()
        self.st = old

    # -- the walk -----------------------------------------------------------------
    def walk(self, node: LexborNode) -> None:
        # The hot loop: every node of the page passes here once. Lexbor's
        # tag_id is cheaper to read than the tag's name, so handlers are
        # found by id (custom elements get an id of their own per document).
        child = node.child
        marks = self.marks
        by_id = self._by_id
        while child is not None:
            tid = child.tag_id
            if tid == _TEXT:
                t = child.text_content or ""
                if not t.isascii() or not t.isspace() or self.keep:
                    self.text(t)
                elif not self.sp:  # the space between two words, tags apart
                    st = self.st
                    runs = self.runs
                    if runs and runs[-1][1] is st:
                        if len(runs[-1][0]) < RUN_JOIN:
                            runs[-1] = (runs[-1][0] + " ", st)
                        else:
                            runs.append((" ", st))
                            self.split_runs = True
                    else:
                        runs.append((" ", st))
                    self.sp = True
            else:
                handler = by_id.get(tid)
                if handler is None:
                    handler = by_id[tid] = _handler(child.tag or "")
                if handler is not _skip:
                    mark = marks.get(child.mem_id) if marks else None
                    if mark is None:
                        handler(self, child)
                    else:
                        self.marked(child, child.tag or "", mark)
            child = child.next

    def walk_items(self, node: LexborNode) -> None:
        """walk() for a list's children, most of them items and white space.

        The white space between items (a third of all nodes on an index page)
        shows nothing: Lexbor skips those text nodes in C. One would matter
        only after words that sit in the list itself, outside any item (the
        flow does not end in a space then), and is looked for only then.
        """
        if self.keep:
            self.walk(node)
            return
        by_id = self._by_id
        marks = self.marks
        for child in node.iter(include_text=True, skip_empty=True):
            if not self.sp:
                before = child.prev
                if before is not None and before.is_empty_text_node:
                    self.text(" ")
            tid = child.tag_id
            if tid == _TEXT:
                self.text(child.text_content or "")
                continue
            handler = by_id.get(tid)
            if handler is None:
                handler = by_id[tid] = _handler(child.tag or "")
            if handler is not _skip:
                mark = marks.get(child.mem_id) if marks else None
                if mark is None:
                    handler(self, child)
                else:
                    self.marked(child, child.tag or "", mark)

    def lone_text(self, node: LexborNode) -> LexborNode | None:
        """Text only: the text node that is all ``node`` shows, found through
        elements that show nothing of their own there (<code>, <span>: an
        unmarked element walked into, the only child of its parent), or None."""
        by_id = self._by_id
        marks = self.marks
        while node.tag_id != _TEXT:
            if node.next is not None or (marks and node.mem_id in marks):
                return None
            handler = by_id.get(node.tag_id)
            if handler is None:
                handler = by_id[node.tag_id] = _handler(node.tag or "")
            if handler is not _Builder.walk and handler is not _Builder.styled:
                return None
            child = node.child
            if child is None:
                return None
            node = child
        return node

    def marked(self, node: LexborNode, tag: str, mark: dom.Mark) -> None:
        if mark.hidden:
            self.hidden_controls(node)
            return
        handler: Callable[[_Builder, LexborNode], None] | None = _HANDLERS.get(tag)
        if mark.display == "block" and (handler is None or tag in INLINE_STYLE):
            handler = _Builder.block
        elif mark.display == "inline" and tag in _DIVS:
            handler = None
        if handler is not None and tag not in _INLINE:
            self.flush()
        if mark.anchor:
            self.anchors.append(mark.anchor)
        old_ws = self.ws
        if mark.white_space:
            self.set_ws(mark.white_space)
        if handler is None:
            self.walk(node)
        else:
            handler(self, node)
        if self.ws != old_ws:
            if handler is not None:
                self.flush()
            self.set_ws(old_ws)

    # -- the elements -------------------------------------------------------------
    def paragraph(self, node: LexborNode) -> None:
        self.block(node, margin=True)

    def heading(self, node: LexborNode) -> None:
        old = self.st
        self.st = self.with_style(HEADING)
        self.st = self.with_style(BOLD)
        self.block(node, margin=True)
        self.st = old

    def pre(self, node: LexborNode) -> None:
        self.flush()
        self.blank()
        old = self.ws
        self.set_ws("pre")
        self.walk(node)
        self.flush()
        self.set_ws(old)
        self.blank()

    def blockquote(self, node: LexborNode) -> None:
        self.block(node, margin=True, indent=4, container=True)

    def hr(self, node: LexborNode) -> None:
        self.flush()
        self.marker_line()
        self.add_block(Rule(self.indent))

    def details(self, node: LexborNode) -> None:
        if "open" in node.attributes:
            self.block(node)
            return
        self.flush()
        child = node.child
        while child is not None:
            if child.tag == "summary":
                self.block(child)
            child = child.next

    def dialog(self, node: LexborNode) -> None:
        if "open" in node.attributes:
            self.block(node)

    def nothing(self, node: LexborNode) -> None:
        pass


_HANDLERS: dict[str, Callable[[_Builder, LexborNode], None]] = {
    **{tag: _Builder.styled for tag in INLINE_STYLE},
    **{tag: _Builder.block for tag in _DIVS},
    **{tag: _Builder.heading for tag in ("h1", "h2", "h3", "h4", "h5", "h6")},
    **{tag: _Builder.pre for tag in ("pre", "listing", "xmp", "plaintext")},
    **{tag: _Builder.list_ for tag in ("ul", "ol", "menu", "dir")},
    "p": _Builder.paragraph, "figure": _Builder.paragraph, "nobr": _Builder.nobr,
    "blockquote": _Builder.blockquote, "br": _Builder.br, "hr": _Builder.hr,
    "li": _Builder.item, "dl": _Builder.dl, "dd": _Builder.dd, "a": _Builder.anchor,
    "img": _Builder.image, "iframe": _Builder.frame, "frame": _Builder.frame,
    "q": _Builder.quote, "details": _Builder.details, "dialog": _Builder.dialog,
    "table": _Builder.table, "form": _Builder.form, "input": _Builder.input,
    "button": _Builder.button, "select": _Builder.select, "textarea": _Builder.textarea,
    "label": _Builder.label, "option": _Builder.nothing, "sup": _Builder.around,
    "sub": _Builder.around,
}



def _joined_runs(runs: list[tuple[str, St]]) -> list[tuple[str, St]]:
    """Neighbouring runs of one style as one run, joined once (see inline.RUN_JOIN)."""
    out: list[tuple[str, St]] = []
    pieces: list[str] = []
    style = runs[0][1]
    for text, st in runs:
        if st is not style:
            out.append(("".join(pieces), style))
            pieces, style = [], st
        pieces.append(text)
    out.append(("".join(pieces), style))
    return out


def _skip(builder: _Builder, node: LexborNode) -> None:
    pass


def _handler(tag: str) -> Callable[[_Builder, LexborNode], None]:
    """What to do with an element: its handler, skip it, or (unknown tags) walk into it."""
    if tag in dom.SKIP:
        return _skip
    return _HANDLERS.get(tag, _Builder.walk)


def layout(document: dom.Document, width: int = 80) -> Page:
    """The page of ``document`` for a terminal ``width`` columns wide (at least 10).

    Raises PageTooDeep (depth.py) for a page nested too deeply to lay out.
    """
    return deeply(_layout, document, width)


def _layout(document: dom.Document, width: int) -> Page:
    page, blocks, ends = _boxes(document, width)
    page.lines, page.anchors = render_blocks(blocks, page.width)
    for name in ends:
        page.anchors.setdefault(name, max(len(page.lines) - 1, 0))
    return page


def _boxes(document: dom.Document, width: int,
           text: bool = False) -> tuple[Page, list[Block], list[str]]:
    """Pass one: the page (links, controls, forms; no lines yet), its blocks, and the
    anchors left at its end. ``text``: for :func:`flow.render_rows` only (a block
    may be a finished line, a str)."""
    page = Page(document.url, document.title, width=max(width, 10))
    builder = _Builder(document, page, text)
    if document.refresh:
        page.refresh = document.refresh
        _refresh_lines(document, builder)
    root = document.root
    if root is not None:
        builder.walk(root)
        builder.flush()
    builder.finish_controls()
    return page, builder.blocks, builder.anchors


def _refresh_lines(document: dom.Document, builder: _Builder) -> None:
    """A page that refreshes says so first, as lynx does: ``REFRESH(5 sec): [1]URL``."""
    links = builder.page.links
    for seconds, url in document.refresh:
        number = len(links) + 1
        links.append(Link(number, url, url))
        builder.add_block(Flow(0, None, [(f"REFRESH({seconds} sec): ", PLAIN),
                                         (f"[{number}]{url}", (frozenset({LINK}), number, None))]))
    builder.blank()


def render(body: bytes, url: str, width: int = 80, *,
           content_type: str | None = "text/html", fetch: Fetch | None = None) -> Page:
    """Bytes as received -> a Page: HTML laid out, other text shown as it is.

    ``fetch`` reads linked style sheets (load.Stylesheets); None: only <style>.
    """
    document = _document(body, url, content_type, fetch)
    if document is None:
        return text_page(dom.decode(body, content_type or "text/html"), url, width)
    return layout(document, width)


def render_rows(body: bytes, url: str, width: int = 80, *, content_type: str | None = "text/html",
                fetch: Fetch | None = None) -> tuple[Page, list[str | None]]:
    """What ``flow.rows(render(...).lines)`` is, and the page without its lines.

    For ``--dump``, which wants only the text: no Line or Span is made (on a
    page of 16,000 lines that is a fifth of the time after parsing).
    """
    document = _document(body, url, content_type, fetch)
    if document is None:
        page = Page(url, width=max(width, 10))
        text = dom.decode(body, content_type or "text/html")
        return page, render_rows_of(_text_blocks(text), page.width, cut=True)
    return deeply(_rows, document, width)


def _rows(document: dom.Document, width: int) -> tuple[Page, list[str | None]]:
    page, blocks, _ = _boxes(document, width, text=True)
    return page, render_rows_of(blocks, page.width)


def _document(body: bytes, url: str, content_type: str | None,
              fetch: Fetch | None = None) -> dom.Document | None:
    """The parsed page, or None for a body that is not HTML."""
    content_type = content_type or "text/html"
    kind = content_type.split(";")[0].strip().lower()
    if "html" in kind or not kind:
        raw = dom.utf8_body(body, content_type)
        return dom.parse(raw if raw is not None else dom.decode(body, content_type), url, fetch)
    return None


def text_page(text: str, url: str, width: int = 80) -> Page:
    """Plain text: every line kept, tabs expanded, cut where it passes the width."""
    width = max(width, 10)
    page = Page(url, width=width)
    page.lines, page.anchors = render_blocks(_text_blocks(text), width, cut=True)
    return page


def _text_blocks(text: str) -> list[Block]:
    # A lone CR or FF would move a terminal's cursor: they end a line, as CRLF does.
    text = dom.text_without_controls(text).replace("\r\n", "\n").replace("\r", "\n")
    return [Flow(0, None, [(text.replace("\f", "\n").expandtabs(8), PLAIN)], False, True)]
