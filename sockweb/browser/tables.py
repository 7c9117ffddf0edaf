"""Tables, both passes: cells read from the tree, then columns sized and lines drawn.

Which tables are tables: one whose cells hold lists, headings, quotations,
forms or other tables, or that says ``role="presentation"``, is a *layout*
table (genindex.html's columns, a page's frame). It is read row by row and
cell by cell, each cell a block, as lynx and ``innerText`` read it: its
columns would be pages side by side, which a terminal cannot hold.

The others are *data* tables, laid out with HTML's automatic table layout
cut down: each cell is measured for its narrowest (longest word) and widest
(no wrapping) width; columns get their widest if the table fits, else their
narrowest plus a share of the room left in proportion to what each would
still take; columns stand two spaces apart, a dashed rule under the header
row, and a blank line between rows when a cell wraps. A table whose
narrowest columns do not fit either is shown row by row, each cell a line
"Header: value" (the header row's text), rows a blank line apart.

Rowspans take their room in the rows below (the cell's text stays in its
first row); colspans widen the columns they cross evenly.
"""

from __future__ import annotations

from .builder_base import BuilderBase
from .dom import LexborNode, attr_int
from .flow import BLANK, Block, Flow, Out, line_width, render, render_blocks
from .model import BOLD, MARK, Line, Span

__all__ = ["GAP", "Cell", "Table", "TablesMixin"]

GAP = 2  # columns between table columns
MAX_SPAN = 100  # a colspan or rowspan past this is taken as this (browsers cap at 1000/65534)
_BOLD = frozenset({BOLD})
_MARK = frozenset({MARK})
_LAYOUT_INNER = ("ul", "ol", "dl", "table", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
                 "form")
LAYOUT_TABLE = ", ".join(f"{cell} {inner}" for cell in ("td", "th") for inner in _LAYOUT_INNER)


class Cell:
    __slots__ = ("blocks", "colspan", "rowspan", "header")

    def __init__(self, blocks: list[Block], colspan: int = 1, rowspan: int = 1,
                 header: bool = False) -> None:
        self.blocks = blocks
        self.colspan = min(max(colspan, 1), MAX_SPAN)
        self.rowspan = min(max(rowspan, 1), MAX_SPAN)
        self.header = header


class Table:
    """A data table: rows of cells, the first ``header_rows`` of them headers."""

    __slots__ = ("indent", "rows", "header_rows", "caption", "anchors")

    def __init__(self, indent: int, rows: list[list[Cell]], header_rows: int = 0,
                 caption: list[Block] | None = None) -> None:
        self.indent = indent
        self.rows = rows
        self.header_rows = header_rows
        self.caption = caption or []
        self.anchors: list[str] | None = None

    def grid(self) -> tuple[list[list[Cell | None]], int]:
        """Cells placed in columns; what a rowspan or colspan covers is None."""
        grid: list[list[Cell | None]] = []
        taken: set[tuple[int, int]] = set()
        for r, row in enumerate(self.rows):
            out: list[Cell | None] = []
            col = 0
            for cell in row:
                while (r, col) in taken:
                    out.append(None)
                    col += 1
                out.append(cell)
                out.extend([None] * (cell.colspan - 1))
                for dr in range(1, cell.rowspan):
                    for dc in range(cell.colspan):
                        taken.add((r + dr, col + dc))
                col += cell.colspan
            grid.append(out)
        ncols = max((len(r) for r in grid), default=0)
        for out in grid:
            out.extend([None] * (ncols - len(out)))
        return grid, ncols

    def measure(self) -> tuple[int, int]:
        grid, ncols = self.grid()
        low, high = _column_widths(grid, ncols)
        gaps = GAP * max(ncols - 1, 0)
        return sum(low) + gaps, sum(high) + gaps

    def lay_out(self, width: int, out: Out) -> None:
        indent = min(self.indent, max(width - 20, 0))
        avail = width - indent
        if self.caption:
            render(self.caption, width, out)
        grid, ncols = self.grid()
        if not ncols:
            return
        low, high = _column_widths(grid, ncols)
        gaps = GAP * (ncols - 1)
        if sum(high) + gaps <= avail:
            widths = high
        elif sum(low) + gaps <= avail:
            room = avail - gaps - sum(low)
            want = [h - lo for h, lo in zip(high, low, strict=True)]
            total = sum(want) or 1
            widths = [lo + room * w // total for lo, w in zip(low, want, strict=True)]
        else:
            self._records(grid, avail, indent, out)
            return
        self._columns(grid, widths, indent, out)

    def _columns(self, grid: list[list[Cell | None]], widths: list[int], indent: int,
                 out: Out) -> None:
        ncols = len(widths)
        offsets = [sum(widths[:c]) + GAP * c for c in range(ncols)]
        rendered = []
        for row in grid:
            cells = []
            for c, cell in enumerate(row):
                if cell is not None:
                    span = min(cell.colspan, ncols - c)
                    sub = Out()
                    render(cell.blocks, sum(widths[c:c + span]) + GAP * (span - 1), sub,
                           cut=True)
                    cells.append((c, sub))
            rendered.append(cells)
        tall = any(len(sub.lines) > 1 for cells in rendered for _, sub in cells)
        for r, cells in enumerate(rendered):
            if tall and r and r != self.header_rows:
                out.lines.append(Line([]))
            start = len(out.lines)
            for k in range(max((len(sub.lines) for _, sub in cells), default=0)):
                spans: list[Span] = [Span(" " * indent)] if indent else []
                x = 0
                for c, sub in cells:
                    if k >= len(sub.lines) or not sub.lines[k].spans:
                        continue
                    if offsets[c] > x:
                        spans.append(Span(" " * (offsets[c] - x)))
                    line = sub.lines[k]
                    spans.extend(line.spans)
                    x = offsets[c] + line_width(line)
                out.lines.append(Line(spans))
            for _, sub in cells:
                for name, at in sub.anchors.items():
                    out.anchors.setdefault(name, start + at)
            if r == self.header_rows - 1 and r < len(rendered) - 1:
                rule = Span((" " * GAP).join("-" * w for w in widths), _MARK)
                out.lines.append(Line([Span(" " * indent), rule] if indent else [rule]))

    def _records(self, grid: list[list[Cell | None]], avail: int, indent: int,
                 out: Out) -> None:
        """Too wide for the screen: each row a record of "header: value" lines."""
        headers: list[str] = []
        body = grid
        if self.header_rows:
            for cell in grid[0]:
                lines = render_blocks(cell.blocks, 10_000)[0] if cell is not None else []
                headers.append(" ".join(line.text.strip() for line in lines))
            body = grid[self.header_rows:]
        for r, row in enumerate(body):
            if r:
                out.lines.append(Line([]))
            for c, cell in enumerate(row):
                if cell is None:
                    continue
                label = headers[c] if c < len(headers) else ""
                blocks = [Flow(b.indent + indent, b.prefix, b.runs, b.wrap, b.breaks, b.anchors)
                          if type(b) is Flow else b for b in cell.blocks]
                first = next((i for i, b in enumerate(blocks) if type(b) is Flow), None)
                if label and first is not None:
                    flow = blocks[first]
                    assert isinstance(flow, Flow)
                    flow.runs = [(f"{label}: ", (_BOLD, None, None)), *flow.runs]
                elif label:
                    blocks.insert(0, Flow(indent, None, [(f"{label}:", (_BOLD, None, None))]))
                render(blocks, avail + indent, out, cut=True)


def _column_widths(grid: list[list[Cell | None]], ncols: int) -> tuple[list[int], list[int]]:
    low = [1] * ncols
    high = [1] * ncols
    spanning = []
    for row in grid:
        for c, cell in enumerate(row):
            if cell is None:
                continue
            lo = hi = 0
            for block in cell.blocks:
                if block is not BLANK:
                    b_lo, b_hi = block.measure()
                    lo, hi = max(lo, b_lo), max(hi, b_hi)
            if cell.colspan == 1:
                low[c], high[c] = max(low[c], lo), max(high[c], hi)
            else:
                spanning.append((c, min(cell.colspan, ncols - c), lo, hi))
    for c, span, lo, hi in spanning:  # a spanning cell widens its columns evenly
        gaps = GAP * (span - 1)
        for widths, need in ((low, lo), (high, hi)):
            short = need - gaps - sum(widths[c:c + span])
            for k in range(span):
                if short > 0:
                    widths[c + k] += short // span + (1 if k < short % span else 0)
    return low, [max(h, lo) for h, lo in zip(high, low, strict=True)]


class TablesMixin(BuilderBase):
    """The table half of layout's builder (stage A): <table> -> a Table block."""

    anchors: list[str]

    def table(self, node: LexborNode) -> None:
        if node.attributes.get("role") in ("presentation", "none") or node.css_first(
                LAYOUT_TABLE):
            self.block(node, margin=True)
            return
        self.flush()
        self.marker_line()
        self.blank()
        rows: list[list[Cell]] = []
        header_rows = 0
        caption: list[Block] = []
        saved = (self.blocks, self.indent, self.prefix, self.fresh, self.anchors)
        self.indent, self.prefix, self.anchors = 0, None, []
        child = node.child
        while child is not None:
            tag = child.tag
            if tag == "caption":
                caption = self._cell_blocks(child)
            elif tag in ("thead", "tbody", "tfoot", "tr"):
                for tr in [child] if tag == "tr" else _children(child, "tr"):
                    row = self._row(tr) if self._visible(tr) else []
                    if row:
                        rows.append(row)
                        if header_rows == len(rows) - 1 and (
                                tag == "thead" or all(c.header for c in row)):
                            header_rows += 1
            child = child.next
        anchors = self.anchors
        self.blocks, self.indent, self.prefix, self.fresh, self.anchors = saved
        self.anchors.extend(anchors)
        if rows or caption:
            self.add_block(Table(self.indent, rows, header_rows, caption))
        self.blank()

    def _visible(self, node: LexborNode) -> bool:
        mark = self.marks.get(node.mem_id) if self.marks else None
        if mark is None:
            return True
        if mark.anchor:
            self.anchors.append(mark.anchor)
        return not mark.hidden

    def _row(self, tr: LexborNode) -> list[Cell]:
        row = []
        for td in _children(tr, "td", "th"):
            if self._visible(td):
                header = td.tag == "th"
                blocks = self._cell_blocks(td, header)
                row.append(Cell(blocks, attr_int(td, "colspan", 1), attr_int(td, "rowspan", 1),
                                header))
        return row

    def _cell_blocks(self, node: LexborNode, bold: bool = False) -> list[Block]:
        blocks, self.blocks, self.fresh = self.blocks, [], True
        line_width, self.line_width = self.line_width, None  # a cell's width is not known yet
        self.cell_content(node, bold)
        cell, self.blocks = self.blocks, blocks
        self.line_width = line_width
        return cell


def _children(node: LexborNode, *tags: str) -> list[LexborNode]:
    out = []
    child = node.child
    while child is not None:
        if child.tag in tags:
            out.append(child)
        child = child.next
    return out
