"""Layout's second pass: blocks -> lines for one width (line breaking).

The boxes layout.py builds are plain data, and this module turns them into
:class:`~sockweb.browser.model.Line` objects for a width; a new terminal
width reruns only this pass.

A block is a :class:`Flow` (inline content: styled runs of text with white
space already collapsed), a :class:`Rule`, :data:`BLANK` (a margin) or any
object with ``anchors`` and ``lay_out(width, out)`` (a table, tables.py).
Text-only layout (``--dump``) may also hand over a ``str``, a paragraph
already known to be one finished line.

Line breaking is greedy, at spaces, as browsers do for ``white-space:
normal``: a run of text is split into words only when its paragraph does not
fit on one line, which most list items and table cells do. A word longer
than the line is cut, so no line but a ``pre`` one passes the width.

The indentation and list-marker spans that start lines are shared between
the lines that have the same one (there are tens of thousands on a long
index page): spans are read-only once laid out.
"""

from __future__ import annotations

from .model import MARK, Line, Span

# typing costs every start ~3 ms to import; annotations need it only for mypy.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Protocol

__all__ = ["BLANK", "Block", "Flow", "Out", "Rule", "Run", "St", "render", "render_blocks",
           "render_rows", "rows", "width_of"]

# A run's style: (styles, link number, control number), shared between runs.
St = tuple[frozenset[str], int | None, int | None]
Run = tuple[str, St]

MARK_STYLES = frozenset({MARK})
PLAIN: St = (frozenset(), None, None)
MIN_LINE = 20  # deep indentation stops short of leaving fewer columns than this
# Known without unicodedata, whose import most pages then never need (0.7 ms):
# printable ASCII (in text that is not all ASCII), Latin-1's letters and
# signs and the typographic punctuation of U+2010-U+2027 (dashes, quotes,
# daggers, bullets, the ellipsis) take one column; the soft hyphen, a format
# character, none.
_widths: dict[str, int] = dict.fromkeys(
    [*map(chr, range(0x20, 0x7F)), *map(chr, range(0xA0, 0x100)),
     *map(chr, range(0x2010, 0x2028))], 1)
_widths["\xad"] = 0


def width_of(text: str) -> int:
    """Terminal columns: East Asian wide characters take two, combining marks none."""
    if text.isascii():
        return len(text)
    total = 0
    for ch in text:
        w = _widths.get(ch)
        if w is None:
            import unicodedata  # once a character is new (see _widths)

            if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
                w = 0
            else:
                w = 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
            _widths[ch] = w
        total += w
    return total


def _fit(text: str, start: int, columns: int) -> tuple[int, int]:
    """(end, width) of the longest ``text[start:end]`` at most ``columns`` wide.

    Long text is cut by index, never by slicing off what is left: a 5 MB word
    cut that way copied its rest once per line, quadratic (10 s for 10 MB).
    """
    if text.isascii():
        end = min(len(text), start + columns)
        return end, end - start
    used = 0
    end = start
    # At most ``columns`` characters of a column or more fit: look at a few times
    # that many (a copy of a line's length, not of the rest of the text).
    for ch in text[start:start + columns * 4]:
        w = width_of(ch)
        if used + w > columns:
            break
        used += w
        end += 1
    else:
        # Zero-width characters can take more than four per column: go on by index.
        while end < len(text):
            w = width_of(text[end])
            if used + w > columns:
                break
            used += w
            end += 1
    return end, used


class Flow:
    """Inline content: runs of text, white space already collapsed.

    A plain class rather than a dataclass: layout makes one per paragraph and
    list item (15,000 for genindex-all.html), and this __init__ is the cheap one.
    """

    __slots__ = ("indent", "prefix", "runs", "wrap", "breaks", "anchors")

    def __init__(self, indent: int, prefix: str | None, runs: list[Run], wrap: bool = True,
                 breaks: bool = False, anchors: list[str] | None = None) -> None:
        self.indent = indent
        self.prefix = prefix  # the first line's start, a list marker (as wide as indent)
        self.runs = runs
        self.wrap = wrap
        self.breaks = breaks  # the runs hold "\n" (a <br>, pre text)
        self.anchors = anchors

    def lay_out(self, width: int, out: Out) -> None:
        _flow(self, width, out.lines, False, {})

    def measure(self) -> tuple[int, int]:
        """(narrowest, widest) columns: the longest word, the longest line."""
        texts = "".join([t for t, _ in self.runs]).split("\n")
        widest = max(width_of(t) for t in texts)
        if not self.wrap:
            return widest + self.indent, widest + self.indent
        narrowest = max((width_of(w) for t in texts for w in t.split(" ")), default=0)
        return narrowest + self.indent, widest + self.indent


class Out:
    """Where lines are laid out: the lines, the anchors' lines, a pending margin.

    ``text``: the flows' lines are only their text (``--dump``, which needs no
    display list): a str for a line, None for a line without spans, as
    :func:`rows` gives them from Lines. Other boxes (tables, rules) still
    make Lines, turned into text as they come.
    """

    __slots__ = ("lines", "anchors", "blank", "text")

    def __init__(self, text: bool = False) -> None:
        self.lines: list[Any] = []  # Line, or str | None in text mode
        self.anchors: dict[str, int] = {}
        self.blank = False
        self.text = text


class Rule:
    """``<hr>``: a line of dashes across."""

    __slots__ = ("indent", "anchors")

    def __init__(self, indent: int) -> None:
        self.indent = indent
        self.anchors: list[str] | None = None

    def lay_out(self, width: int, out: Out) -> None:
        indent = min(self.indent, max(width - MIN_LINE, 0))
        rule = Span("-" * (width - indent), MARK_STYLES)
        out.lines.append(Line([Span(" " * indent), rule] if indent else [rule]))

    def measure(self) -> tuple[int, int]:
        return 1, 1


class _Blank:
    """A margin: one blank line if something comes before and after."""

    anchors: list[str] | None = None

    def lay_out(self, width: int, out: Out) -> None:
        out.blank = True

    def measure(self) -> tuple[int, int]:
        return 0, 0

    def __repr__(self) -> str:
        return "BLANK"


BLANK = _Blank()
if TYPE_CHECKING:
    class Box(Protocol):
        anchors: list[str] | None

        def lay_out(self, width: int, out: Out) -> None: ...

        def measure(self) -> tuple[int, int]: ...

    Block = Flow | Box
else:
    Block = object  # annotations only; what a block is, is told to mypy above


def render_blocks(blocks: list[Block], width: int,
                  cut: bool = False) -> tuple[list[Line], dict[str, int]]:
    """The lines of ``blocks`` at ``width`` and where each anchor landed.

    ``cut``: lines that are not wrapped (``pre``) are cut at the width too.
    """
    out = Out()
    render(blocks, width, out, cut)
    lines = out.lines
    while lines and not lines[-1].spans:
        lines.pop()
    return lines, out.anchors


def render_rows(blocks: list[Block], width: int, cut: bool = False) -> list[str | None]:
    """What :func:`render_blocks` gives, as :func:`rows` of it, without making the Lines."""
    out = Out(text=True)
    render(blocks, width, out, cut)
    lines: list[str | None] = out.lines
    while lines and lines[-1] is None:
        lines.pop()
    return lines


def rows(lines: list[Line]) -> list[str | None]:
    """Lines as their text; None for a line without spans."""
    return ["".join([s.text for s in line.spans]) if line.spans else None for line in lines]


def render(blocks: list[Block], width: int, out: Out, cut: bool = False) -> None:
    """Lay ``blocks`` out into ``out``."""
    lines = out.lines
    text_mode = out.text
    pads: dict[str, Span] = {}  # the shared indentation and marker spans
    for block in blocks:
        if block is BLANK:
            out.blank = True
            continue
        if out.blank:
            if lines:
                last = lines[-1]
                if last is not None and (type(last) is str or last.spans):
                    lines.append(None if text_mode else Line([]))
            out.blank = False
        if type(block) is str:  # type: ignore[comparison-overlap]  # text-only layout's
            lines.append(block)  # a finished line, from layout's flush in text-only mode
            continue
        if block.anchors:
            for name in block.anchors:
                out.anchors.setdefault(name, len(lines))
        if type(block) is not Flow:
            start = len(lines)
            block.lay_out(width, out)
            if text_mode:
                for i in range(start, len(lines)):
                    if type(lines[i]) is Line:
                        lines[i] = rows([lines[i]])[0]
            continue
        runs = block.runs
        indent = block.indent
        if len(runs) == 1 and not block.breaks and indent <= width - MIN_LINE:
            # The common case, inline: one run that fits on its line.
            text, st = runs[0]
            if (len(text) if text.isascii() else width_of(text)) <= width - indent:
                lead = block.prefix
                if lead is None:
                    lead = " " * indent
                elif len(lead) != indent:
                    if len(lead) > indent:  # _flow keeps a marker this wide in the width
                        _flow(block, width, lines, cut, pads, text_mode)
                        continue
                    lead = lead.ljust(indent)
                if text_mode:
                    lines.append(lead + text)
                elif lead:
                    span = pads.get(lead)
                    if span is None:
                        span = pads[lead] = Span(lead, MARK_STYLES if lead.strip() else PLAIN[0])
                    lines.append(Line([span, Span(text, st[0], st[1], st[2])]))
                else:
                    lines.append(Line([Span(text, st[0], st[1], st[2])]))
                continue
        _flow(block, width, lines, cut, pads, text_mode)


def _flow(block: Flow, width: int, lines: list[Any], cut: bool, pads: dict[str, Span],
          text_mode: bool = False) -> None:
    indent = block.indent
    first = block.prefix
    if indent > width - MIN_LINE:
        indent = max(width - MIN_LINE, 0)
    if first is not None and len(first) > indent:
        first, indent = _marker_at(first, indent, width)
        if len(first) > indent:  # a marker on a line of its own
            lines.append(first if text_mode else Line([Span(first, MARK_STYLES)]))
            first = None
    avail = width - indent
    runs = block.runs
    pieces: list[list[Run]]
    if not block.breaks:
        used = 0
        for text, _ in runs:
            used += len(text) if text.isascii() else width_of(text)
        if used <= avail:
            pieces = [runs]  # the common case: it fits on one line
        elif block.wrap:
            pieces = _wrap(runs, avail)
        elif cut:
            pieces = _wrap_hard(runs, avail)
        else:
            pieces = [runs]
    else:
        rows = _split_rows(runs)
        if not block.wrap and "\t" in "".join([t for t, _ in runs]):
            rows = [_expand_tabs(r) for r in rows]
        pieces = []
        for row in rows:
            used = 0
            for text, _ in row:
                used += len(text) if text.isascii() else width_of(text)
            if used <= avail:
                pieces.append(row)
            elif block.wrap:
                pieces.extend(_wrap(row, avail))
            elif cut:
                pieces.extend(_wrap_hard(row, avail))
            else:
                pieces.append(row)
    pad = " " * indent
    for row in pieces:
        lead = pad
        if first is not None:
            lead = first if len(first) >= indent else first.ljust(indent)
            first = None
        if text_mode:
            lines.append(lead + "".join([t for t, _ in row]) if lead or row else None)
            continue
        if lead:
            span = pads.get(lead)
            if span is None:
                span = pads[lead] = Span(lead, MARK_STYLES if lead != pad else PLAIN[0])
            spans = [span]
            spans += [Span(text, styles, link, control)
                      for text, (styles, link, control) in row]
        else:
            spans = [Span(text, styles, link, control) for text, (styles, link, control) in row]
        lines.append(Line(spans))


def _marker_at(prefix: str, indent: int, width: int) -> tuple[str, int]:
    """A list marker wider than the indent its item is left, deep in a narrow
    width: (the first line's lead, the item's indent).

    The marker (``prefix`` without the spaces before it) ends where the
    indent does, as lynx and w3m keep the markers of deeper items in one
    column; one wider than that indent takes its width for the item's lines,
    up to half the width; one wider still (``<ol start>`` in the billions at
    a width of 10) is cut at the width, on a line of its own (a lead longer
    than the indent returned).
    """
    marker = prefix.lstrip(" ")
    if len(marker) <= indent:
        return marker.rjust(indent), indent
    if len(marker) <= width // 2:
        return marker, len(marker)
    return marker[:width].rstrip(" "), indent


def _split_rows(runs: list[Run]) -> list[list[Run]]:
    """Runs cut into rows at every "\n"."""
    rows: list[list[Run]] = []
    row: list[Run] = []
    for text, st in runs:
        if "\n" not in text:
            row.append((text, st))
            continue
        parts = text.split("\n")
        if parts[0]:
            row.append((parts[0], st))
        for part in parts[1:]:
            rows.append(row)
            row = [(part, st)] if part else []
    rows.append(row)
    return rows


def _expand_tabs(row: list[Run]) -> list[Run]:
    out = []
    column = 0
    for text, st in row:
        if "\t" in text:
            pieces = []
            for part in text.split("\t")[:-1]:
                pieces.append(part)
                column += width_of(part)
                pieces.append(" " * (8 - column % 8))
                column += 8 - column % 8
            last = text.rpartition("\t")[2]
            pieces.append(last)
            text = "".join(pieces)
            column += width_of(last)
        else:
            column += width_of(text)
        out.append((text, st))
    return out


def _wrap(row: list[Run], avail: int) -> list[list[Run]]:
    """Greedy line breaking at spaces; runs stay merged where their style is one."""
    out: list[list[Run]] = []
    line: list[Run] = []
    used = 0
    word: list[Run] = []
    word_w = 0
    space: St = PLAIN  # the style of the space before ``word``

    def place() -> None:
        nonlocal line, used, word, word_w
        if not word:
            return
        if line and used + 1 + word_w <= avail:
            _append(line, " ", space)
            used += 1
        elif line:
            out.append(line)
            line, used = [], 0
        if word_w > avail:  # a word longer than a line: cut it, in one pass over it
            left = avail
            for text, st in word:
                start = 0
                while start < len(text):
                    if left <= 0:
                        out.append(line)
                        line, left = [], avail
                    end, w = _fit(text, start, left)
                    if end == start:  # a wide character where fewer columns are left
                        if left < avail:
                            left = 0
                            continue
                        end, w = start + 1, left  # on a 1-column line it goes anyway
                    _append(line, text[start:end], st)
                    start = end
                    left -= w
            used = avail - left
            word, word_w = [], 0
            return
        for text, st in word:
            _append(line, text, st)
        used += word_w
        word, word_w = [], 0

    for text, st in row:
        parts = text.split(" ")
        last = len(parts) - 1
        for i, part in enumerate(parts):
            if part:
                word.append((part, st))
                word_w += width_of(part)
            if i < last:
                place()
                space = st
    place()
    if line or not out:
        out.append(line)
    return out


def _wrap_hard(row: list[Run], avail: int) -> list[list[Run]]:
    """Unwrapped text cut at the width, wherever it falls."""
    out: list[list[Run]] = [[]]
    left = avail
    for text, st in row:
        start = 0
        while start < len(text):
            if left <= 0:
                out.append([])
                left = avail
            end, w = _fit(text, start, left)
            if end == start:  # a wide character where one column is left
                left = 0
                continue
            out[-1].append((text[start:end], st))
            start = end
            left -= w
    return out


def _append(line: list[Run], text: str, st: St) -> None:
    if line and line[-1][1] is st:
        line[-1] = (line[-1][0] + text, st)
    else:
        line.append((text, st))


def line_width(line: Line) -> int:
    return sum(width_of(s.text) for s in line.spans)
