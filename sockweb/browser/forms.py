"""Forms: what the reader changes, and what a submission sends.

Pure functions over the page model (model.py). The changes a reader makes
(typing into a field, ticking a box, choosing an option) mutate the
:class:`Control` in place, because the page is the form's state; a
submission is computed from that state without touching it, following the
HTML Standard's form submission algorithm (section 4.10.21):

1. constructing the entry list: controls in tree order; disabled ones, buttons
   other than the submitter, unchecked checkboxes and radios, and nameless
   controls are left out; a checkbox sends its value (layout gives one
   without a value attribute "on", as the standard does); an image
   submitter sends ``name.x``/``name.y``; a file input with no file sends an
   empty part; a hidden ``_charset_`` sends the encoding;
2. encoding it as the form's enctype says: ``application/x-www-form-urlencoded``,
   ``multipart/form-data`` (RFC 7578, names escaped as the standard does) or
   ``text/plain``; line breaks in names and values become CRLF first;
3. GET puts the urlencoded entries in the action URL's query, POST sends them
   as the body; a ``file:`` action is just navigated to.

The text is always encoded as UTF-8 (what the standard picks for a UTF-8
document, and what every page we render is decoded into).
"""

from __future__ import annotations

import mimetypes
import os
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..http.urls import URL, encode_query
from .model import Control, Form, Page

URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
TEXT_PLAIN = "text/plain"

# Kinds a reader types into (the UI opens an input box for them).
TEXT_KINDS = frozenset(
    {"text", "password", "email", "search", "number", "url", "tel", "textarea", "file"})
BUTTON_KINDS = frozenset({"submit", "image", "reset", "button"})
SUBMIT_KINDS = frozenset({"submit", "image"})
# Fields that block implicit submission (HTML 4.10.21.2): Enter in one submits its form;
# a form with more than one of them and no submit button is not submitted by Enter.
# (Date and time inputs block too: layout gives them the kind "text".)
IMPLICIT_KINDS = frozenset({"text", "search", "url", "tel", "email", "password", "number"})
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class FormError(Exception):
    """A submission that cannot be made (a file that cannot be read); the message says why."""


@dataclass(frozen=True, slots=True)
class FileEntry:
    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


Entry = tuple[str, "str | FileEntry"]


@dataclass(frozen=True, slots=True)
class Submission:
    """The request a submission makes: a GET of ``url`` or a POST of ``body``."""

    method: str
    url: str
    body: bytes | None = None
    content_type: str | None = None


# -- finding controls -------------------------------------------------------------


def control(page: Page, number: int) -> Control:
    """The control numbered ``number`` (1-based, as the page shows them)."""
    if 0 < number <= len(page.controls) and page.controls[number - 1].number == number:
        return page.controls[number - 1]  # the usual case: numbered in order
    for candidate in page.controls:
        if candidate.number == number:
            return candidate
    raise KeyError(f"no control {number}")


def form_controls(page: Page, form: Form) -> list[Control]:
    return [control(page, n) for n in form.controls]


def default_button(page: Page, form: Form) -> Control | None:
    """The form's default button: its first submit button, disabled or not (HTML 4.10.21.2)."""
    for c in form_controls(page, form):
        if c.kind in SUBMIT_KINDS:
            return c
    return None


def implicit_submission(page: Page, form: Form) -> tuple[bool, Control | None]:
    """What Enter in a field of ``form`` does, the HTML Standard's implicit submission:
    (True, button) clicks its default button; a disabled default button submits
    nothing; with no button, the form is submitted (True, None) only if it has
    at most one field that blocks implicit submission (:data:`IMPLICIT_KINDS`)."""
    button = default_button(page, form)
    if button is not None:
        return (False, None) if button.disabled else (True, button)
    fields = sum(1 for c in form_controls(page, form) if c.kind in IMPLICIT_KINDS)
    return fields <= 1, None


# -- what a reader changes --------------------------------------------------------


def set_text(c: Control, text: str) -> None:
    """Type ``text`` into a field, sanitised as the standard's value sanitisation says."""
    if c.kind not in TEXT_KINDS:
        raise ValueError(f"a {c.kind} control takes no text")
    if c.kind != "textarea":
        text = _LINE_BREAK.sub("", text)  # single-line inputs strip line breaks
    if c.kind in ("email", "url"):
        text = text.strip()
    c.value = text


def toggle(page: Page, c: Control) -> None:
    """Space on a checkbox flips it; on a radio, checks it and unchecks its group."""
    if c.kind == "checkbox":
        c.checked = not c.checked
    elif c.kind == "radio":
        for other in page.controls:
            if other.kind == "radio" and other.form == c.form and other.name == c.name:
                other.checked = False
        c.checked = True
    else:
        raise ValueError(f"a {c.kind} control cannot be toggled")


def choose(c: Control, index: int) -> None:
    """Pick option ``index`` of a select: the only one, or flipped in a multiple select."""
    if c.kind != "select":
        raise ValueError(f"a {c.kind} control has no options")
    if not 0 <= index < len(c.options):
        raise IndexError(f"no option {index}")
    if c.multiple:
        c.options[index].selected = not c.options[index].selected
    else:
        for i, option in enumerate(c.options):
            option.selected = i == index


def selected_index(c: Control) -> int | None:
    """The option a single select shows: the selected one, else the first
    (the standard's selectedness setting algorithm for a drop-down)."""
    for i, option in enumerate(c.options):
        if option.selected:
            return i
    return 0 if c.options and not c.multiple else None


def snapshot(page: Page) -> list[tuple[str, bool, list[bool]]]:
    """The controls' state, to put back on reset."""
    return [(c.value, c.checked, [o.selected for o in c.options]) for c in page.controls]


def reset(page: Page, form: Form, saved: list[tuple[str, bool, list[bool]]]) -> None:
    """A reset button: the form's controls back to the state ``snapshot`` saved."""
    members = set(form.controls)
    for c, (value, checked, selected) in zip(page.controls, saved, strict=False):
        if c.number in members:
            c.value, c.checked = value, checked
            for option, was in zip(c.options, selected, strict=False):
                option.selected = was


# -- constructing the entry list --------------------------------------------------


def read_path(path: str) -> bytes:
    """The default reader for file inputs: the file on disk (``~`` expanded)."""
    with open(os.path.expanduser(path), "rb") as f:
        return f.read()


def entry_list(
    page: Page, form: Form, submitter: Control | None,
    read_file: Callable[[str], bytes] = read_path,
) -> list[Entry]:
    entries: list[Entry] = []
    for c in form_controls(page, form):
        if c.disabled:
            continue
        if c.kind in BUTTON_KINDS and c is not submitter:
            continue
        if c.kind in ("checkbox", "radio") and not c.checked:
            continue
        if c.kind == "image":
            # A keyboard "click" lands on the image's origin, as browsers send it.
            prefix = f"{c.name}." if c.name else ""
            entries += [(prefix + "x", "0"), (prefix + "y", "0")]
            continue
        if not c.name:
            continue
        if c.kind == "select":
            chosen = [o for o in c.options if o.selected]
            index = selected_index(c)
            if not chosen and index is not None:
                chosen = [c.options[index]]
            entries += [(c.name, o.value) for o in chosen]
        elif c.kind == "file":
            entries.append((c.name, _file_entry(c.value, read_file)))
        elif c.kind == "hidden" and c.name.lower() == "_charset_":
            entries.append((c.name, "UTF-8"))
        else:
            entries.append((c.name, c.value))
    return entries


def _file_entry(path: str, read_file: Callable[[str], bytes]) -> FileEntry:
    if not path:
        return FileEntry("", b"")
    try:
        content = read_file(path)
    except OSError as exc:
        raise FormError(f"cannot read {path}: {exc.strerror or exc}") from exc
    filename = os.path.basename(path)
    content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return FileEntry(filename, content, content_type)


# -- encoding it ------------------------------------------------------------------


def _crlf(text: str) -> str:
    return _LINE_BREAK.sub("\r\n", text)


def name_value_pairs(entries: Iterable[Entry]) -> list[tuple[str, str]]:
    """Files become their names, line breaks CRLF: what urlencoded and text/plain send."""
    return [(_crlf(name), value.filename if isinstance(value, FileEntry) else _crlf(value))
            for name, value in entries]


def urlencoded(entries: Iterable[Entry]) -> str:
    return encode_query(name_value_pairs(entries))


def text_plain(entries: Iterable[Entry]) -> bytes:
    return "".join(f"{n}={v}\r\n" for n, v in name_value_pairs(entries)).encode()


def _escape(text: str) -> bytes:
    # The standard's escaping for names and filenames in Content-Disposition.
    return text.replace("\n", "%0A").replace("\r", "%0D").replace('"', "%22").encode()


def multipart(entries: Iterable[Entry], boundary: str) -> bytes:
    """RFC 7578 with the HTML Standard's escaping; parts in the entries' order."""
    out: list[bytes] = []
    mark = boundary.encode()
    for name, value in entries:
        out.append(b"--" + mark + b'\r\nContent-Disposition: form-data; name="'
                   + _escape(_crlf(name)) + b'"')
        if isinstance(value, FileEntry):
            out.append(b'; filename="' + _escape(value.filename) + b'"\r\nContent-Type: '
                       + value.content_type.encode() + b"\r\n\r\n" + value.content + b"\r\n")
        else:
            out.append(b"\r\n\r\n" + _crlf(value).encode() + b"\r\n")
    out.append(b"--" + mark + b"--\r\n")
    return b"".join(out)


def new_boundary() -> str:
    # Random, so no file's content can contain it by chance; dashes as browsers do.
    return "----sockweb" + secrets.token_hex(12)


def submission(
    page: Page, form: Form, submitter: Control | None = None, *,
    read_file: Callable[[str], bytes] = read_path, boundary: str | None = None,
) -> Submission:
    """The request that submitting ``form`` (by ``submitter``, if a button was used) makes."""
    entries = entry_list(page, form, submitter, read_file)
    action = URL.parse(form.action or page.url)
    method = form.method.upper()
    if method == "POST" and action.scheme in ("http", "https"):
        enctype = form.enctype.lower()
        if enctype == MULTIPART:
            mark = boundary or new_boundary()
            return Submission("POST", str(action), multipart(entries, mark),
                              f"{MULTIPART}; boundary={mark}")
        if enctype == TEXT_PLAIN:
            return Submission("POST", str(action), text_plain(entries), TEXT_PLAIN)
        return Submission("POST", str(action), urlencoded(entries).encode(), URLENCODED)
    if method == "POST":
        return Submission("GET", str(action))  # file: has no POST; the standard navigates
    # GET (and anything unknown, as the standard's invalid value default):
    # the query is replaced, the fragment kept.
    return Submission("GET", str(action.replace(query=urlencoded(entries))))
