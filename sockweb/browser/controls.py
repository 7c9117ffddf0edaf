"""Forms as layout sees them: controls read from the tree, numbered, and drawn as text.

How a control looks (``field_text``) is one function, used by layout for the
first drawing and by the painter to redraw a control the reader changed, at
the same width, so the line around it does not move:

    text, email, password...  [value______]   (password as ****)
    checkbox / radio          [x] [ ]  /  (*) ( )
    select                    [Label     v]   (padded to the longest option)
    submit, reset, button     [Submit]
    textarea                  [first row___]
                              [second row__]   (one line per row)
    hidden                    nothing; still a Control, so it is submitted

A control inside a hidden element is still a control (browsers submit a
hidden text field): it is numbered and kept, just not drawn.
"""

from __future__ import annotations

from .builder_base import BuilderBase
from .dom import Document, LexborNode, attr_int, collapse
from .flow import Flow
from .model import FIELD, Control, Form, Option, Page

__all__ = ["ControlsMixin", "field_text", "textarea_rows"]

KINDS = frozenset({
    "text", "password", "email", "search", "number", "url", "tel", "hidden", "checkbox",
    "radio", "submit", "image", "reset", "button", "file",
})
BUTTONS = {"submit": "Submit", "reset": "Reset", "button": "", "image": "Submit"}
ENCTYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})
FIELD_STYLES = frozenset({FIELD})
DEFAULT_SIZE = 20  # HTML's default size= for a text field
MAX_SIZE = 60
_NOT_LABEL = frozenset({"select", "textarea", "option", "script", "style", "-comment"})


def field_text(control: Control, size: int) -> str:
    """A one-line control drawn ``size`` columns wide inside its brackets."""
    kind = control.kind
    if kind == "checkbox":
        return "[x]" if control.checked else "[ ]"
    if kind == "radio":
        return "(*)" if control.checked else "( )"
    if kind in BUTTONS:
        return f"[{control.label or control.value or BUTTONS[kind] or kind}]"
    if kind == "select":
        shown = ", ".join(o.label for o in control.options if o.selected)
        return f"[{shown[:size].ljust(size)} v]"
    if kind == "hidden":
        return ""
    shown = "*" * len(control.value) if kind == "password" else control.value
    shown = shown.replace("\n", " ")
    return f"[{shown[:size].ljust(size, '_')}]"


def textarea_rows(control: Control, cols: int, rows: int) -> list[str]:
    """A textarea's rows: its value's lines, cut at ``cols``, at least ``rows`` of them."""
    out = []
    for line in control.value.replace("\r\n", "\n").split("\n"):
        while len(line) > cols:
            out.append(line[:cols])
            line = line[cols:]
        out.append(line)
    out += [""] * (rows - len(out))
    return [f"[{row.ljust(cols, '_')}]" for row in out]


class ControlsMixin(BuilderBase):
    """The form half of layout's builder; the rest is the builder's (builder_base.py)."""

    def __init__(self, document: Document, page: Page) -> None:
        self.document = document
        self.page = page
        self.width = page.width
        self.form_index: int | None = None
        self.form_ids: dict[str, int] = {}
        self.label_text = ""
        self.control_ids: dict[str, Control] = {}
        self.invisible = False

    # -- forms and labels ---------------------------------------------------------
    def form(self, node: LexborNode) -> None:
        attrs = node.attributes
        index = len(self.page.forms)
        method = (attrs.get("method") or "").strip().lower()
        enctype = (attrs.get("enctype") or "").strip().lower()
        self.page.forms.append(Form(
            index, self.resolve(attrs.get("action") or ""),
            "POST" if method == "post" else "GET",
            enctype if enctype in ENCTYPES else "application/x-www-form-urlencoded"))
        if attrs.get("id"):
            self.form_ids[attrs["id"] or ""] = index
        saved, self.form_index = self.form_index, index
        self.block(node)
        self.form_index = saved

    def label(self, node: LexborNode) -> None:
        saved = self.label_text
        self.label_text = collapse("".join(_label_texts(node, [])))
        self.walk(node)
        self.label_text = saved

    def hidden_controls(self, node: LexborNode) -> None:
        """The controls inside a hidden element: kept for submission, not drawn."""
        if node.tag not in ("input", "select", "textarea", "button") and not node.css_first(
                "input, select, textarea, button"):
            return
        saved, self.invisible = self.invisible, True
        targets = [node] if node.tag in ("input", "select", "textarea", "button") else \
            node.css("input, select, textarea, button")
        for target in targets:
            getattr(self, target.tag or "input")(target)
        self.invisible = saved

    def finish_controls(self) -> None:
        """Labels given by ``<label for=id>``, wherever they stand."""
        if not self.control_ids:
            return
        for node in self.document.labels:
            control = self.control_ids.get(node.attributes.get("for") or "")
            if control is not None and not control.label:
                control.label = collapse("".join(_label_texts(node, [])))

    def _register(self, node: LexborNode, kind: str, name: str, value: str = "",
                  checked: bool = False, options: list[Option] | None = None,
                  multiple: bool = False, label: str = "") -> Control:
        attrs = node.attributes
        form = self.form_index
        owner = attrs.get("form")
        if owner:
            form = self.form_ids.get(owner)
        controls = self.page.controls
        label = label or self.label_text or attrs.get("aria-label") or attrs.get("title") or ""
        control = Control(len(controls) + 1, form, kind, name, value, checked, options or [],
                          multiple, "disabled" in attrs, collapse(label))
        controls.append(control)
        if form is not None:
            self.page.forms[form].controls.append(control.number)
        if attrs.get("id"):
            self.control_ids[attrs["id"] or ""] = control
        return control

    def _show(self, control: Control, text: str) -> None:
        if not self.invisible:
            self.atom(text, (FIELD_STYLES, self.st[1], control.number))

    def _size(self, size: int) -> int:
        return max(1, min(size, MAX_SIZE, self.width - self.indent - 2))

    # -- the controls -------------------------------------------------------------
    def input(self, node: LexborNode) -> None:
        attrs = node.attributes
        kind = (attrs.get("type") or "text").strip().lower()
        if kind not in KINDS:
            kind = "text"
        # A file input starts empty whatever its value attribute says, as in every
        # browser: else a page could name ~/.ssh/id_rsa and have it uploaded by
        # whoever submits the form. Only the reader picks a file.
        value = attrs.get("value") or "" if kind != "file" else ""
        checked = "checked" in attrs
        if kind in ("checkbox", "radio") and "value" not in attrs:
            value = "on"
        label = ""
        if kind in BUTTONS:
            label = value or (attrs.get("alt") if kind == "image" else "") or BUTTONS[kind]
        control = self._register(node, kind, attrs.get("name") or "", value, checked,
                                 label=label)
        if kind != "hidden":
            self._show(control, field_text(control, self._size(attr_int(node, "size",
                                                                         DEFAULT_SIZE))))

    def button(self, node: LexborNode) -> None:
        attrs = node.attributes
        kind = (attrs.get("type") or "submit").strip().lower()
        if kind not in ("submit", "reset", "button"):
            kind = "submit"
        text = collapse(node.text())
        control = self._register(node, kind, attrs.get("name") or "", attrs.get("value") or "",
                                 label=text or BUTTONS[kind] or "button")
        self._show(control, field_text(control, 0))

    def select(self, node: LexborNode) -> None:
        attrs = node.attributes
        options = []
        for option in node.css("option"):
            oattrs = option.attributes
            text = collapse(option.text())
            value = oattrs.get("value") or "" if "value" in oattrs else text
            options.append(Option(value, collapse(oattrs.get("label") or "") or text,
                                  "selected" in oattrs))
        multiple = "multiple" in attrs
        chosen = [o for o in options if o.selected]
        if not multiple and options:
            for o in chosen[:-1]:
                o.selected = False
            if not chosen:
                options[0].selected = True
        value = next((o.value for o in options if o.selected), "")
        control = self._register(node, "select", attrs.get("name") or "", value,
                                 options=options, multiple=multiple)
        if multiple:  # room for all it holds, as far as a line allows
            size = self._size(sum(len(o.label) + 2 for o in options) - 2)
        else:
            size = self._size(max((len(o.label) for o in options), default=1))
        self._show(control, field_text(control, size))

    def textarea(self, node: LexborNode) -> None:
        attrs = node.attributes
        control = self._register(node, "textarea", attrs.get("name") or "", node.text())
        if self.invisible:
            return
        cols = self._size(attr_int(node, "cols", DEFAULT_SIZE))
        rows = textarea_rows(control, cols, max(1, min(attr_int(node, "rows", 2), 20)))
        self.flush()
        st = (FIELD_STYLES, None, control.number)
        self.add_block(Flow(self.indent, None, [("\n".join(rows), st)], False, len(rows) > 1))


def _label_texts(node: LexborNode, out: list[str]) -> list[str]:
    child = node.child
    while child is not None:
        tag = child.tag
        if tag == "-text":
            out.append(child.text_content or "")
        elif tag not in _NOT_LABEL:
            _label_texts(child, out)
        child = child.next
    return out
