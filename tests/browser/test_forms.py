"""Form state changes and submission encoding, as tables over hand-built pages."""

from __future__ import annotations

import pytest

from sockweb.browser import forms
from sockweb.browser.forms import FileEntry, FormError, Submission
from sockweb.browser.model import Control, Form, Option, Page

ACTION = "http://example.test/search"


def page_with(*controls: Control, method: str = "GET", enctype: str = forms.URLENCODED,
              action: str = ACTION) -> Page:
    numbered = []
    for i, c in enumerate(controls, 1):
        c.number, c.form = i, 0
        numbered.append(c)
    form = Form(0, action, method, enctype, [c.number for c in numbered])
    return Page("http://example.test/form.html", controls=numbered, forms=[form])


def C(kind: str, name: str = "", value: str = "", **kw: object) -> Control:
    return Control(0, 0, kind, name, value, **kw)  # type: ignore[arg-type]


def submit(page: Page, submitter: int | None = None, **kw: object) -> Submission:
    button = forms.control(page, submitter) if submitter else None
    return forms.submission(page, page.forms[0], button, **kw)  # type: ignore[arg-type]


# -- the entry list: which controls are sent, and as what ---------------------------

ENTRY_CASES = [
    ("text field", [C("text", "q", "cats")], None, [("q", "cats")]),
    ("empty text is still sent", [C("text", "q")], None, [("q", "")]),
    ("nameless field is not", [C("text", "", "x")], None, []),
    ("disabled field is not", [C("text", "q", "x", disabled=True)], None, []),
    ("checked checkbox", [C("checkbox", "c", "yes", checked=True)], None, [("c", "yes")]),
    ("checkbox with an empty value sends it", [C("checkbox", "c", checked=True)], None,
     [("c", "")]),
    ("unchecked checkbox is not sent", [C("checkbox", "c", "yes")], None, []),
    ("only the checked radio", [C("radio", "r", "a"), C("radio", "r", "b", checked=True)],
     None, [("r", "b")]),
    ("hidden", [C("hidden", "token", "t0k")], None, [("token", "t0k")]),
    ("_charset_ gets the encoding", [C("hidden", "_charset_")], None,
     [("_charset_", "UTF-8")]),
    ("buttons not clicked are not sent",
     [C("submit", "go", "Go"), C("button", "b", "B"), C("reset", "r", "R")], None, []),
    ("the clicked submit button is", [C("submit", "a", "A"), C("submit", "b", "B")], 2,
     [("b", "B")]),
    ("nameless submit sends nothing", [C("text", "q", "x"), C("submit", "", "Go")], 2,
     [("q", "x")]),
    ("image submitter sends coordinates", [C("image", "map")], 1,
     [("map.x", "0"), ("map.y", "0")]),
    ("nameless image sends x and y", [C("image")], 1, [("x", "0"), ("y", "0")]),
    ("select sends the selected option",
     [C("select", "s", options=[Option("1", "one"), Option("2", "two", True)])], None,
     [("s", "2")]),
    ("select with none selected sends the first",
     [C("select", "s", options=[Option("1", "one"), Option("2", "two")])], None,
     [("s", "1")]),
    ("multiple select sends each selected",
     [C("select", "s", multiple=True,
        options=[Option("1", "one", True), Option("2", "two"), Option("3", "three", True)])],
     None, [("s", "1"), ("s", "3")]),
    ("multiple select with none sends nothing",
     [C("select", "s", multiple=True, options=[Option("1", "one")])], None, []),
    ("textarea", [C("textarea", "t", "a\nb")], None, [("t", "a\nb")]),
    ("file input with no file", [C("file", "f")], None, [("f", FileEntry("", b""))]),
    ("tree order kept",
     [C("text", "b", "2"), C("hidden", "a", "1"), C("text", "b", "3")], None,
     [("b", "2"), ("a", "1"), ("b", "3")]),
]


@pytest.mark.parametrize(("controls", "submitter", "expected"),
                         [c[1:] for c in ENTRY_CASES], ids=[c[0] for c in ENTRY_CASES])
def test_entry_list(controls: list[Control], submitter: int | None,
                    expected: list[forms.Entry]) -> None:
    page = page_with(*controls)
    button = forms.control(page, submitter) if submitter else None
    assert forms.entry_list(page, page.forms[0], button) == expected


def test_file_entry_reads_the_file_with_a_guessed_type() -> None:
    page = page_with(C("file", "up", "/some/dir/notes.txt"))
    files = {"/some/dir/notes.txt": b"hello\n"}
    entries = forms.entry_list(page, page.forms[0], None, files.__getitem__)
    assert entries == [("up", FileEntry("notes.txt", b"hello\n", "text/plain"))]


def test_unreadable_file_is_a_form_error(tmp_path: object) -> None:
    page = page_with(C("file", "up", "/no/such/file.bin"))
    with pytest.raises(FormError, match=r"cannot read /no/such/file\.bin"):
        submit(page)


# -- encodings ----------------------------------------------------------------------

URLENCODED_CASES = [
    ([("q", "a b")], "q=a+b"),
    ([("q", "x&y=z")], "q=x%26y%3Dz"),
    ([("q", "caf\u00e9 \u20ac")], "q=caf%C3%A9+%E2%82%AC"),
    ([("t", "a\nb\rc\r\nd")], "t=a%0D%0Ab%0D%0Ac%0D%0Ad"),
    ([("f", FileEntry("n.txt", b"data"))], "f=n.txt"),
    ([("*-._", "~!")], "*-._=%7E%21"),
    ([], ""),
]


@pytest.mark.parametrize(("entries", "expected"), URLENCODED_CASES)
def test_urlencoded(entries: list[forms.Entry], expected: str) -> None:
    assert forms.urlencoded(entries) == expected


def test_text_plain() -> None:
    assert forms.text_plain([("a", "1"), ("b", "x\ny")]) == b"a=1\r\nb=x\r\ny\r\n"


def test_multipart_keeps_order_escapes_names_and_normalises_line_breaks() -> None:
    body = forms.multipart(
        [("a", "1\n2"), ('we"ird\nname', "v"),
         ("up", FileEntry('my "file".txt', b"raw\nbytes", "text/plain")), ("z", "last")],
        "BOUNDARY")
    assert body == (
        b'--BOUNDARY\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n2\r\n'
        b'--BOUNDARY\r\nContent-Disposition: form-data; name="we%22ird%0D%0Aname"\r\n\r\nv\r\n'
        b'--BOUNDARY\r\nContent-Disposition: form-data; name="up"; '
        b'filename="my %22file%22.txt"\r\nContent-Type: text/plain\r\n\r\nraw\nbytes\r\n'
        b'--BOUNDARY\r\nContent-Disposition: form-data; name="z"\r\n\r\nlast\r\n'
        b"--BOUNDARY--\r\n")


# -- the submission: method, URL, body ----------------------------------------------

SUBMISSION_CASES = [
    ("GET puts the entries in the query",
     dict(method="GET"), Submission("GET", ACTION + "?q=two+words")),
    ("GET replaces the action's query and keeps its fragment",
     dict(method="GET", action=ACTION + "?old=1#frag"),
     Submission("GET", ACTION + "?q=two+words#frag")),
    ("method is case-insensitive", dict(method="get"), Submission("GET", ACTION + "?q=two+words")),
    ("POST urlencoded",
     dict(method="POST"), Submission("POST", ACTION, b"q=two+words", forms.URLENCODED)),
    ("POST text/plain",
     dict(method="POST", enctype="text/plain"),
     Submission("POST", ACTION, b"q=two words\r\n", "text/plain")),
    ("POST multipart",
     dict(method="POST", enctype=forms.MULTIPART),
     Submission("POST", ACTION,
                b'--B\r\nContent-Disposition: form-data; name="q"\r\n\r\ntwo words\r\n--B--\r\n',
                "multipart/form-data; boundary=B")),
    ("GET ignores the enctype",
     dict(method="GET", enctype=forms.MULTIPART), Submission("GET", ACTION + "?q=two+words")),
    ("POST to a file: URL just navigates",
     dict(method="POST", action="file:///tmp/x.html"), Submission("GET", "file:///tmp/x.html")),
    ("unknown method is GET",
     dict(method="DIALOG"), Submission("GET", ACTION + "?q=two+words")),
]


@pytest.mark.parametrize(("form", "expected"), [c[1:] for c in SUBMISSION_CASES],
                         ids=[c[0] for c in SUBMISSION_CASES])
def test_submission(form: dict[str, str], expected: Submission) -> None:
    page = page_with(C("text", "q", "two words"), **form)
    assert submit(page, boundary="B") == expected


def test_empty_action_submits_to_the_page() -> None:
    page = page_with(C("text", "q", "x"), action="")
    assert submit(page).url == "http://example.test/form.html?q=x"


def test_random_boundary_is_in_the_content_type() -> None:
    page = page_with(C("text", "q", "x"), method="POST", enctype=forms.MULTIPART)
    sent = submit(page)
    assert sent.content_type is not None and sent.body is not None
    boundary = sent.content_type.split("boundary=")[1]
    assert sent.body.startswith(b"--" + boundary.encode()) and len(boundary) > 20


# -- what a reader changes ----------------------------------------------------------


def test_toggle_checkbox_and_radio_group() -> None:
    page = page_with(C("checkbox", "c"), C("radio", "r", "a", checked=True),
                     C("radio", "r", "b"), C("radio", "other", "z", checked=True))
    box, ra, rb, other = page.controls
    forms.toggle(page, box)
    assert box.checked
    forms.toggle(page, box)
    assert not box.checked
    forms.toggle(page, rb)
    assert (ra.checked, rb.checked, other.checked) == (False, True, True)
    forms.toggle(page, rb)  # a checked radio stays checked
    assert rb.checked
    with pytest.raises(ValueError):
        forms.toggle(page, page_with(C("text", "q")).controls[0])


def test_radios_in_another_form_are_another_group() -> None:
    page = page_with(C("radio", "r", "a", checked=True), C("radio", "r", "b"))
    page.controls[1].form = 1
    forms.toggle(page, page.controls[1])
    assert page.controls[0].checked and page.controls[1].checked


def test_choose_single_and_multiple() -> None:
    single = C("select", "s", options=[Option("1", "one", True), Option("2", "two")])
    forms.choose(single, 1)
    assert [o.selected for o in single.options] == [False, True]
    assert forms.selected_index(single) == 1
    multi = C("select", "m", multiple=True, options=[Option("1", "one", True), Option("2", "")])
    forms.choose(multi, 1)
    forms.choose(multi, 0)
    assert [o.selected for o in multi.options] == [False, True]
    with pytest.raises(IndexError):
        forms.choose(single, 5)


SET_TEXT_CASES = [
    ("text", "a\nb", "ab"),
    ("textarea", "a\nb", "a\nb"),
    ("email", "  me@example.test ", "me@example.test"),
    ("search", "  keep spaces ", "  keep spaces "),
]


@pytest.mark.parametrize(("kind", "typed", "stored"), SET_TEXT_CASES)
def test_set_text_sanitises(kind: str, typed: str, stored: str) -> None:
    c = C(kind, "x")
    forms.set_text(c, typed)
    assert c.value == stored


def test_set_text_refuses_a_checkbox() -> None:
    with pytest.raises(ValueError):
        forms.set_text(C("checkbox", "c"), "x")


def test_reset_restores_the_saved_state() -> None:
    page = page_with(C("text", "q", "start"), C("checkbox", "c", checked=True),
                     C("select", "s", options=[Option("1", "one", True), Option("2", "two")]))
    saved = forms.snapshot(page)
    q, c, s = page.controls
    forms.set_text(q, "changed")
    forms.toggle(page, c)
    forms.choose(s, 1)
    forms.reset(page, page.forms[0], saved)
    assert (q.value, c.checked, [o.selected for o in s.options]) == ("start", True, [True, False])


def test_default_button_is_the_first_submit_disabled_or_not() -> None:
    page = page_with(C("text", "q"), C("reset", "r"), C("image", "b"), C("submit", "c"))
    assert forms.default_button(page, page.forms[0]) is page.controls[2]
    alone = page_with(C("text", "q"))
    assert forms.default_button(alone, alone.forms[0]) is None


IMPLICIT_CASES = [
    ("the default button is clicked", [C("text", "q"), C("submit", "a"), C("submit", "b")],
     (True, 2)),
    ("a disabled default button submits nothing",
     [C("text", "q"), C("submit", "a", disabled=True), C("submit", "b")], (False, None)),
    ("one field, no button: submitted", [C("search", "q"), C("checkbox", "c")], (True, None)),
    ("two fields, no button: not", [C("text", "a"), C("email", "b")], (False, None)),
    ("a textarea does not block", [C("text", "a"), C("textarea", "t")], (True, None)),
    ("a password blocks", [C("text", "a"), C("password", "p")], (False, None)),
    ("a button that is no submit does not count", [C("text", "a"), C("number", "n"),
                                                   C("button", "b")], (False, None)),
]


@pytest.mark.parametrize(("controls", "expected"), [c[1:] for c in IMPLICIT_CASES],
                         ids=[c[0] for c in IMPLICIT_CASES])
def test_implicit_submission(controls: list[Control],
                             expected: tuple[bool, int | None]) -> None:
    page = page_with(*controls)
    allowed, button = forms.implicit_submission(page, page.forms[0])
    assert (allowed, button.number if button else None) == expected
