"""What a rendered page is: the display list and what the reader can act on.

The layout stage (layout.py) makes a :class:`Page` from a document for one
terminal width; the paint stage (paint.py) turns its lines into text for
``--dump`` or into styled rows for the interactive UI (ui.py); the session
(session.py) follows its links and submits its forms. Nothing here knows a
terminal or a socket.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Styles a Span may carry; the painter decides how each looks.
BOLD = "bold"
ITALIC = "italic"
UNDERLINE = "underline"
CODE = "code"
HEADING = "heading"
LINK = "link"
FIELD = "field"  # a form control's visible text
MARK = "mark"  # a list bullet, a table rule: structure, not content


@dataclass(slots=True)
class Span:
    """A run of text in one style; ``link`` and ``control`` are 1-based numbers."""

    text: str
    styles: frozenset[str] = frozenset()
    link: int | None = None
    control: int | None = None


@dataclass(slots=True)
class Line:
    spans: list[Span] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.spans)


@dataclass(slots=True)
class Link:
    number: int
    url: str  # absolute
    text: str


@dataclass(slots=True)
class Option:
    value: str
    label: str
    selected: bool = False


@dataclass(slots=True)
class Control:
    """One form control; ``value``/``checked``/``options`` hold its current state."""

    number: int
    form: int | None  # index into Page.forms, None outside a form
    kind: str  # text, password, email, search, number, url, tel, hidden, checkbox, radio,
    #            submit, image, reset, button, select, textarea, file
    name: str
    value: str = ""
    checked: bool = False
    options: list[Option] = field(default_factory=list)
    multiple: bool = False
    disabled: bool = False
    label: str = ""


@dataclass(slots=True)
class Form:
    index: int
    action: str  # absolute URL
    method: str = "GET"  # GET or POST
    enctype: str = "application/x-www-form-urlencoded"
    controls: list[int] = field(default_factory=list)  # Control numbers, in order


@dataclass(slots=True)
class Page:
    url: str
    title: str = ""
    lines: list[Line] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    controls: list[Control] = field(default_factory=list)
    forms: list[Form] = field(default_factory=list)
    # fragment id -> the line where that element starts, for "#section" links
    anchors: dict[str, int] = field(default_factory=dict)
    width: int = 80
