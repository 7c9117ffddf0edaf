"""The widgets of the full-screen browser (ui.py): the page view and three dialogs.

The page view is a line-API scroll view: only the lines on screen are ever
styled, so a page of 50,000 lines scrolls as fast as one of fifty. It paints
the page's spans, form fields from their controls' current state (so what the
reader typed shows without laying the page out again), the highlighted link
or field, and find matches.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.geometry import Size
from textual.screen import ModalScreen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import OptionList, Static, TextArea

from . import forms, paint
from .model import FIELD, Control, Page
from .session import Match

HELP = [
    ("j  Down", "scroll down a line"), ("k  Up", "scroll up a line"),
    ("Space  PgDn", "next page"), ("b  PgUp", "previous page"),
    ("g  Home", "top of the page"), ("G  End", "bottom of the page"),
    ("Tab", "highlight the next link or field"), ("Shift-Tab", "highlight the previous one"),
    ("Enter", "follow the highlighted link, or use the highlighted field"),
    ("Space", "on a highlighted checkbox or radio button: tick it"),
    ("12 Enter", "follow link [12]"),
    ("h  Left  Backspace", "back"), ("l  Right", "forward"),
    ("o", "open a URL (http, https, file:// or a path)"),
    ("r", "reload (a page a form POSTed asks first)"),
    ("/", "find in page"), ("n  N", "next / previous match"),
    ("\\", "view source (again: back to the page)"), ("i", "response headers"),
    ("s", "save the page source to a file"), ("Esc", "cancel a number or a question"),
    ("?", "this help"), ("q", "quit"),
]

# Colours of its own rather than paint.HIGHLIGHT's reverse video: a field is
# already drawn reversed, and reversing it again would hide the highlight.
HIGHLIGHT = Style(color="black", bgcolor="bright_cyan", bold=True, reverse=False)
FOUND = Style(color="black", bgcolor="yellow", reverse=False)
CURRENT_FOUND = Style(color="black", bgcolor="bright_red", bold=True, reverse=False)


@dataclass(frozen=True, slots=True)
class Target:
    """A link or field the highlight can rest on: where its text is, line by line."""

    link: int | None
    control: int | None
    pieces: tuple[tuple[int, int, int], ...]  # (line, start column, end column)

    @property
    def line(self) -> int:
        return self.pieces[0][0]


def targets(page: Page) -> list[Target]:
    """The page's links and fields in reading order (a link wrapped over lines is one)."""
    found: dict[tuple[int | None, int | None], list[tuple[int, int, int]]] = {}
    for number, line in enumerate(page.lines):
        column = 0
        for span in line.spans:
            end = column + len(span.text)
            if span.link is not None or span.control is not None:
                pieces = found.setdefault((span.link, span.control), [])
                if pieces and pieces[-1][0] == number and pieces[-1][2] == column:
                    pieces[-1] = (number, pieces[-1][1], end)  # styles changed mid-link
                else:
                    pieces.append((number, column, end))
            column = end
    return [Target(link, control, tuple(p)) for (link, control), p in found.items()]


_styles: dict[frozenset[str], Style] = {}


def _style(styles: frozenset[str]) -> Style:
    """The painter's look for a set of display-list styles, parsed once."""
    style = _styles.get(styles)
    if style is None:
        style = _styles[styles] = Style.parse(paint.span_style(styles) or "none")
    return style


def _textarea_rows(page: Page) -> dict[tuple[int, int], int]:
    """Which row of its textarea each multi-line field span is, found once per page
    (so painting a line never scans the lines above it)."""
    seen: dict[int, int] = {}
    rows: dict[tuple[int, int], int] = {}
    controls = page.controls
    for number, line in enumerate(page.lines):
        for index, span in enumerate(line.spans):
            c = span.control
            if c is not None and 0 < c <= len(controls) and controls[c - 1].kind == "textarea":
                rows[(number, index)] = seen.get(c, 0)
                seen[c] = rows[(number, index)] + 1
    return rows


class PageView(ScrollView, can_focus=True):
    """The page, painted line by line; only the lines on screen are ever styled."""

    DEFAULT_CSS = "PageView { scrollbar-size-vertical: 1; }"

    def __init__(self) -> None:
        super().__init__(id="page")
        self.page = Page("")
        self.targets: list[Target] = []
        self.lit: int | None = None
        self.matches: list[Match] = []
        self.current_match: Match | None = None
        self.textarea_rows: dict[tuple[int, int], int] = {}  # (line, span) -> row of its field

    def show_page(self, page: Page, top: int = 0, lit: int | None = None) -> None:
        self.page = page
        self.targets = targets(page)
        self.textarea_rows = _textarea_rows(page)
        self.lit = lit if lit is not None and lit < len(self.targets) else None
        self.matches, self.current_match = [], None
        widest = max((len(line.text) for line in page.lines), default=0)
        self.virtual_size = Size(widest, len(page.lines))
        self.scroll_to(0, top, animate=False, immediate=True)
        self.refresh()

    @property
    def top(self) -> int:
        return round(self.scroll_y)

    @property
    def rows(self) -> int:
        return max(self.scrollable_content_region.height, 1)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        number = scroll_y + y
        width = self.scrollable_content_region.width
        if number >= len(self.page.lines):
            return Strip.blank(width, self.rich_style)
        cells = self._styled_chars(number)
        segments = [Segment("".join(ch for ch, _ in run), style)
                    for style, run in ((s, list(r)) for s, r in groupby(cells, key=lambda c: c[1]))]
        # The widget's own colours under the page's styles, so text and margin match.
        strip = Strip(segments).apply_style(self.rich_style)
        return strip.crop_extend(scroll_x, scroll_x + width, self.rich_style)

    def _styled_chars(self, number: int) -> list[tuple[str, Style]]:
        cells: list[tuple[str, Style]] = []
        controls = self.page.controls
        for index, span in enumerate(self.page.lines[number].spans):
            style = _style(span.styles)
            text = span.text
            if span.control is not None and FIELD in span.styles \
                    and 0 < span.control <= len(controls):
                # Drawn from the control's state now, in the columns layout gave it.
                row = self.textarea_rows.get((number, index), 0)
                text = paint.redraw(controls[span.control - 1], text, row)
            cells += [(ch, style) for ch in text]
        overlays: list[tuple[int, int, Style]] = []
        if self.lit is not None:
            overlays += [(s, e, HIGHLIGHT) for line, s, e in self.targets[self.lit].pieces
                         if line == number]
        for match in self.matches:
            if match.line == number:
                style = CURRENT_FOUND if match == self.current_match else FOUND
                overlays.append((match.start, match.end, style))
        for start, end, overlay in overlays:
            for i in range(start, min(end, len(cells))):
                cells[i] = (cells[i][0], cells[i][1] + overlay)
        return cells

    # -- moving ------------------------------------------------------------------
    def scroll_line(self, line: int) -> None:
        """Scroll as little as needed to bring ``line`` on screen."""
        if line < self.top:
            self.scroll_to(y=line, animate=False, immediate=True)
        elif line >= self.top + self.rows:
            self.scroll_to(y=line - self.rows + 1, animate=False, immediate=True)

    def move_highlight(self, step: int) -> None:
        """Tab: the next link or field; from the screen's top when the highlight is off it."""
        if not self.targets:
            return
        top, bottom = self.top, self.top + self.rows - 1
        current = self.lit
        if current is None or not top <= self.targets[current].line <= bottom:
            lines = [t.line for t in self.targets]
            if step > 0:
                current = next((i for i, line in enumerate(lines) if line >= top), 0)
            else:
                below = [i for i, line in enumerate(lines) if line <= bottom]
                current = below[-1] if below else len(lines) - 1
        else:
            current = (current + step) % len(self.targets)
        self.lit = current
        self.scroll_line(self.targets[current].line)
        self.refresh()

    # -- the actions the keys name (ui.py binds them) ----------------------------
    def action_scroll_lines(self, count: int) -> None:
        self.scroll_to(y=self.scroll_y + count, animate=False, immediate=True)

    def action_scroll_pages(self, count: int) -> None:
        self.scroll_to(y=self.scroll_y + count * self.rows, animate=False, immediate=True)

    def action_top(self) -> None:
        self.scroll_to(y=0, animate=False, immediate=True)

    def action_bottom(self) -> None:
        self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)

    def action_highlight(self, step: int) -> None:
        self.move_highlight(step)

    def highlighted(self) -> Target | None:
        return self.targets[self.lit] if self.lit is not None else None


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark,enter", "dismiss_help", "close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 84; max-height: 90%; border: round $accent;
                                  background: $surface; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        text = Text("sockweb browse: keys\n\n", style="bold")
        for keys, what in HELP:
            text.append(f"{keys:<20}", style="bold cyan")
            text.append(f"{what}\n")
        text.append("\nForms: Tab to a field, Enter to edit it; then Enter submits the form\n"
                    "(as a browser's Enter does), Tab keeps the text and goes to the next\n"
                    "field, Esc throws the edit away. Space or Enter ticks boxes, Enter on a\n"
                    "button submits. A page that refreshes itself is followed; any\n"
                    "navigation cancels a refresh still to come. Esc closes this.")
        with VerticalScroll():
            yield Static(text, id="help-text")

    def action_dismiss_help(self) -> None:
        self.dismiss(None)


class SelectScreen(ModalScreen[int | None]):
    """A select's options as a list; Enter picks one, Esc leaves it as it was."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]
    DEFAULT_CSS = """
    SelectScreen { align: center middle; }
    SelectScreen > OptionList { width: 60; max-height: 80%; border: round $accent; }
    """

    def __init__(self, control: Control) -> None:
        super().__init__()
        self.control = control

    def compose(self) -> ComposeResult:
        multiple = self.control.multiple
        options = OptionList(*(("[x] " if o.selected else "[ ] ") * multiple + (o.label or o.value)
                               for o in self.control.options))
        options.border_title = self.control.label or self.control.name or "choose"
        yield options

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = forms.selected_index(self.control) or 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option_index)

    def action_cancel(self) -> None:
        self.dismiss(None)


class TextAreaScreen(ModalScreen[str | None]):
    """A textarea's text in an editor: Ctrl-S keeps it, Esc throws the edit away."""

    BINDINGS = [Binding("ctrl+s", "keep", "keep", priority=True),
                Binding("escape", "cancel", "cancel", priority=True)]
    DEFAULT_CSS = """
    TextAreaScreen { align: center middle; }
    TextAreaScreen > TextArea { width: 80%; height: 60%; border: round $accent; }
    """

    def __init__(self, value: str) -> None:
        super().__init__()
        self.value = value

    def compose(self) -> ComposeResult:
        area = TextArea(self.value)
        area.border_title = "Ctrl-S keeps the text, Esc cancels"
        yield area

    def action_keep(self) -> None:
        self.dismiss(self.query_one(TextArea).text)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """A yes-or-no question: y is yes; n, Esc (or anything else that closes it) no."""

    BINDINGS = [Binding("y", "answer(True)", "yes"), Binding("n,escape", "answer(False)", "no")]
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Static { width: auto; max-width: 80%; border: round $warning;
                             background: $surface; padding: 0 1; }
    """

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        yield Static(Text(f"{self.question} (y/n)"), id="question")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
