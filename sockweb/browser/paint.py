"""Stage three: a Page's display list -> what is shown.

Two painters over the same lines:

* :func:`dump` is ``sockweb browse --dump``: the lines as plain text, then, as
  ``lynx -dump`` prints them, a blank line, "References", a blank line and
  every link's number and absolute URL (``   1. http://...``).
* :func:`styled_rows` is for the full-screen UI: each line as ``(text, style)``
  runs, the style a Rich/Textual style string ("bold", "underline blue"...),
  a highlighted link or control in reverse video. Form controls are drawn
  from their current state (what the reader typed), at the width layout gave
  them, so editing a field never moves the rest of the line.
"""

from __future__ import annotations

from collections.abc import Iterator

from .controls import field_text, textarea_rows
from .flow import rows
from .model import BOLD, CODE, FIELD, HEADING, ITALIC, LINK, MARK, UNDERLINE, Control, Page

__all__ = ["STYLES", "dump", "dump_pieces", "references", "span_style", "styled_rows"]

# How each display-list style looks in a terminal (Rich's style grammar).
STYLES = {
    BOLD: "bold",
    ITALIC: "italic",
    UNDERLINE: "underline",
    CODE: "cyan",
    HEADING: "bold",
    LINK: "underline blue",
    FIELD: "reverse",
    MARK: "dim",
}
HIGHLIGHT = "reverse bold"
_style_cache: dict[frozenset[str], str] = {}

Row = list[tuple[str, str]]


def references(page: Page) -> list[str]:
    """The numbered link list of ``--dump``, lynx's layout: ``%4d. URL``."""
    return [f"{link.number:4d}. {link.url}" for link in page.links]


def dump(page: Page) -> str:
    """The page as text: its lines, then the references (if it has links)."""
    return "".join(dump_pieces(page))


# Lines (or references) per piece of dump_pieces: big enough that a piece is
# one write, small enough that a page of 16,000 lines is never in memory as
# text twice over (each new megabyte costs page faults, ~0.6 ms here).
_PIECE = 2000


def dump_pieces(page: Page, texts: list[str | None] | None = None) -> Iterator[str]:
    """:func:`dump`'s text in pieces, to be written as they come.

    ``texts``: the page's lines as ``flow.rows`` gives them, when the page was
    laid out as text only (``layout.render_rows``); else ``page.lines``.
    """
    count = len(page.lines) if texts is None else len(texts)
    for start in range(0, count, _PIECE):
        if start:
            yield "\n"
        piece = rows(page.lines[start:start + _PIECE]) if texts is None else \
            texts[start:start + _PIECE]
        text = "\n".join([row.rstrip() if row else "" for row in piece])
        # No-break spaces print as spaces, as lynx prints them: the dump is for reading.
        yield text.replace("\xa0", " ")
    links = page.links
    if links:
        yield "\n\nReferences\n\n"
        for start in range(0, len(links), _PIECE):
            if start:
                yield "\n"
            # %-formatting: a fifth quicker than the f-string's "4d" spec, 17,000 times
            yield "\n".join(["%4d. %s" % (link.number, link.url)  # noqa: UP031
                             for link in links[start:start + _PIECE]])
    yield "\n"


def span_style(styles: frozenset[str]) -> str:
    style = _style_cache.get(styles)
    if style is None:
        words: list[str] = []
        for name in sorted(styles):
            for word in STYLES.get(name, "").split():
                if word not in words:
                    words.append(word)
        style = _style_cache[styles] = " ".join(words)
    return style


def styled_rows(page: Page, *, highlight_link: int | None = None,
                highlight_control: int | None = None, start: int = 0,
                stop: int | None = None) -> list[Row]:
    """Lines ``start:stop`` as runs of (text, style); consecutive runs of one style merge."""
    controls = page.controls
    rows_seen: dict[int, int] = {}
    if start:  # textarea rows above the window still count
        for line in page.lines[:start]:
            for span in line.spans:
                if span.control is not None and FIELD in span.styles:
                    rows_seen[span.control] = rows_seen.get(span.control, 0) + 1
    out: list[Row] = []
    for line in page.lines[start:stop]:
        row: Row = []
        for span in line.spans:
            text = span.text
            style = span_style(span.styles)
            number = span.control
            if number is not None and FIELD in span.styles and 0 < number <= len(controls):
                index = rows_seen.get(number, 0)
                rows_seen[number] = index + 1
                text = redraw(controls[number - 1], text, index)
                if number == highlight_control:
                    style = HIGHLIGHT
            elif highlight_link is not None and span.link == highlight_link:
                style = HIGHLIGHT
            if row and row[-1][1] == style:
                row[-1] = (row[-1][0] + text, style)
            else:
                row.append((text, style))
        out.append(row)
    return out


def redraw(control: Control, drawn: str, row: int = 0) -> str:
    """``control`` as it is now, in the columns ``drawn`` took when the page was laid out."""
    kind = control.kind
    if kind == "textarea":
        rows = textarea_rows(control, max(len(drawn) - 2, 1), row + 1)
        return rows[row] if row < len(rows) else drawn
    if kind == "select":
        return field_text(control, max(len(drawn) - 4, 1))
    if kind in ("checkbox", "radio", "submit", "reset", "button", "image"):
        return field_text(control, 0)
    return field_text(control, max(len(drawn) - 2, 1))
