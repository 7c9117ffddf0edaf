"""What a rendered page is: the display list and what the reader can act on.

The layout stage (layout.py) makes a :class:`Page` from a document for one
terminal width; the paint stage (paint.py) turns its lines into text for
``--dump`` or into styled rows for the interactive UI (ui.py); the session
(session.py) follows its links and submits its forms. Nothing here knows a
terminal or a socket.
"""

from __future__ import annotations

# Styles a Span may carry; the painter decides how each looks.
BOLD = "bold"
ITALIC = "italic"
UNDERLINE = "underline"
CODE = "code"
HEADING = "heading"
LINK = "link"
FIELD = "field"  # a form control's visible text
MARK = "mark"  # a list bullet, a table rule: structure, not content


class _Record:
    """Plain data with a field per slot, compared and shown field by field.

    What ``@dataclass(slots=True)`` would give, written out: importing
    dataclasses (and the inspect module it pulls in) and making these seven
    classes cost ``browse --dump`` 7 ms of its start-up.
    """

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]  # mutable: unhashable, as a dataclass

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        names: tuple[str, ...] = self.__slots__
        return all(getattr(self, name) == getattr(other, name) for name in names)

    def __repr__(self) -> str:
        names: tuple[str, ...] = self.__slots__
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{type(self).__name__}({fields})"


class Span(_Record):
    """A run of text in one style; ``link`` and ``control`` are 1-based numbers."""

    __slots__ = ("text", "styles", "link", "control")

    def __init__(self, text: str, styles: frozenset[str] = frozenset(), link: int | None = None,
                 control: int | None = None) -> None:
        self.text = text
        self.styles = styles
        self.link = link
        self.control = control


class Line(_Record):
    __slots__ = ("spans",)

    def __init__(self, spans: list[Span] | None = None) -> None:
        self.spans = [] if spans is None else spans

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.spans)


class Link(_Record):
    __slots__ = ("number", "url", "text")

    def __init__(self, number: int, url: str, text: str) -> None:
        self.number = number
        self.url = url  # absolute
        self.text = text


class Option(_Record):
    __slots__ = ("value", "label", "selected")

    def __init__(self, value: str, label: str, selected: bool = False) -> None:
        self.value = value
        self.label = label
        self.selected = selected


class Control(_Record):
    """One form control; ``value``/``checked``/``options`` hold its current state."""

    __slots__ = ("number", "form", "kind", "name", "value", "checked", "options", "multiple",
                 "disabled", "label")

    def __init__(self, number: int, form: int | None, kind: str, name: str, value: str = "",
                 checked: bool = False, options: list[Option] | None = None,
                 multiple: bool = False, disabled: bool = False, label: str = "") -> None:
        self.number = number
        self.form = form  # index into Page.forms, None outside a form
        # text, password, email, search, number, url, tel, hidden, checkbox, radio,
        # submit, image, reset, button, select, textarea, file
        self.kind = kind
        self.name = name
        self.value = value
        self.checked = checked
        self.options = [] if options is None else options
        self.multiple = multiple
        self.disabled = disabled
        self.label = label


class Form(_Record):
    __slots__ = ("index", "action", "method", "enctype", "controls")

    def __init__(self, index: int, action: str, method: str = "GET",
                 enctype: str = "application/x-www-form-urlencoded",
                 controls: list[int] | None = None) -> None:
        self.index = index
        self.action = action  # absolute URL
        self.method = method  # GET or POST
        self.enctype = enctype
        self.controls = [] if controls is None else controls  # Control numbers, in order


class Page(_Record):
    __slots__ = ("url", "title", "lines", "links", "controls", "forms", "anchors", "width",
                 "refresh")

    def __init__(self, url: str, title: str = "", lines: list[Line] | None = None,
                 links: list[Link] | None = None, controls: list[Control] | None = None,
                 forms: list[Form] | None = None, anchors: dict[str, int] | None = None,
                 width: int = 80, refresh: list[tuple[int, str]] | None = None) -> None:
        self.url = url
        self.title = title
        self.lines = [] if lines is None else lines
        self.links = [] if links is None else links
        self.controls = [] if controls is None else controls
        self.forms = [] if forms is None else forms
        # fragment id -> the line where that element starts, for "#section" links
        self.anchors = {} if anchors is None else anchors
        self.width = width
        # <meta http-equiv=refresh>: (seconds, absolute URL); the UI follows the first
        self.refresh = [] if refresh is None else refresh
