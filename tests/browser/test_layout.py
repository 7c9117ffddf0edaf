"""Rendering, checked against golden text files, and the display list it makes.

Each ``golden/NAME.html`` is rendered and dumped (``paint.dump``) and compared
with ``golden/NAME.txt``. A comment in the first bytes may set the width, the
page's URL and the Content-Type header it came with::

    <!-- golden: width=40 url=http://example.test/x.html content-type=text/html; charset=koi8-r -->

To accept new output after a deliberate change, run with
``SOCKWEB_UPDATE_GOLDEN=1`` and read the diff before committing it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from sockweb.browser import dom, flow, layout, paint
from sockweb.browser.model import BOLD, CODE, FIELD, HEADING, ITALIC, LINK, MARK, Page

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.stem for p in GOLDEN.glob("*.html"))
UPDATE = os.environ.get("SOCKWEB_UPDATE_GOLDEN") == "1"
_DIRECTIVE = re.compile(rb"<!-- golden:(.*?)-->", re.DOTALL)


def options(data: bytes, name: str) -> tuple[int, str, str]:
    width, url, ctype = 72, f"http://example.test/golden/{name}.html", "text/html"
    found = _DIRECTIVE.search(data[:512])
    if found:
        text = found.group(1).decode("ascii")
        if m := re.search(r"width=(\d+)", text):
            width = int(m.group(1))
        if m := re.search(r"url=(\S+)", text):
            url = m.group(1)
        if m := re.search(r"content-type=(.*\S)", text):
            ctype = m.group(1)
    return width, url, ctype


def render_case(name: str) -> str:
    data = (GOLDEN / f"{name}.html").read_bytes()
    width, url, ctype = options(data, name)
    return paint.dump(layout.render(data, url, width, content_type=ctype))


def test_there_are_goldens() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize("name", CASES)
def test_golden(name: str) -> None:
    got = render_case(name)
    expected = GOLDEN / f"{name}.txt"
    if UPDATE or not expected.exists():
        expected.write_text(got, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"{expected.name} did not exist: written, check it and commit it")
    assert got == expected.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", CASES)
def test_text_only_layout_is_the_display_list_as_text(name: str) -> None:
    """``browse --dump`` lays pages out as text only (render_rows): the same text."""
    data = (GOLDEN / f"{name}.html").read_bytes()
    width, url, ctype = options(data, name)
    for w in (width, 24, 200):
        page = layout.render(data, url, w, content_type=ctype)
        bare, texts = layout.render_rows(data, url, w, content_type=ctype)
        assert texts == flow.rows(page.lines)
        assert "".join(paint.dump_pieces(bare, texts)) == paint.dump(page)
        assert bare.links == page.links and bare.controls == page.controls


def test_no_line_passes_the_width() -> None:
    for name in CASES:
        if name == "pre" or "whitespace" in name:
            continue  # pre and white-space: pre/nowrap keep their long lines
        data = (GOLDEN / f"{name}.html").read_bytes()
        width, url, ctype = options(data, name)
        page = layout.render(data, url, width, content_type=ctype)
        for line in page.lines:
            assert len(line.text) <= width, (name, line.text)


# -- the display list ------------------------------------------------------------------


def page_of(html: str, width: int = 72, url: str = "http://example.test/d/p.html") -> Page:
    return layout.layout(dom.parse(html, url), width)


def spans_with(page: Page, text: str) -> list[frozenset[str]]:
    return [s.styles for line in page.lines for s in line.spans if s.text.endswith(text)]


def test_styles_reach_the_spans() -> None:
    page = page_of("<h1>Title</h1><p><b>bold</b> <i>it</i> <code>c()</code> "
                   "<a href=x><em>linked</em></a></p>")
    assert spans_with(page, "Title") == [frozenset({HEADING, BOLD})]
    assert spans_with(page, "bold") == [frozenset({BOLD})]
    assert spans_with(page, "it") == [frozenset({ITALIC})]
    assert spans_with(page, "c()") == [frozenset({CODE})]
    assert spans_with(page, "linked") == [frozenset({LINK, ITALIC})]
    linked = [s for line in page.lines for s in line.spans if s.link == 1]
    assert "".join(s.text for s in linked) == "[1]linked"


def test_list_markers_are_marks() -> None:
    page = page_of("<ul><li>one</ul>")
    first = page.lines[0].spans[0]
    assert first.text == "  * " and MARK in first.styles


def test_links_are_numbered_in_document_order_with_absolute_urls() -> None:
    page = page_of('<a href="a.html">A</a> <a href="/b#x">B</a> <a href="#top">T</a>'
                   '<a href="mailto:me@example.test">M</a>')
    assert [(ln.number, ln.url, ln.text) for ln in page.links] == [
        (1, "http://example.test/d/a.html", "A"),
        (2, "http://example.test/b#x", "B"),
        (3, "http://example.test/d/p.html#top", "T"),
        (4, "mailto:me@example.test", "M"),
    ]


def test_anchors_give_the_line_of_their_element() -> None:
    html = "<p>intro</p>" + "".join(f"<h2 id=s{i}>Section {i}</h2><p>text</p>" for i in range(3))
    html += '<p><a name="named">named anchor</a></p>'
    page = page_of(html)
    for i in range(3):
        assert page.lines[page.anchors[f"s{i}"]].text == f"Section {i}"
    assert page.lines[page.anchors["named"]].text == "named anchor"


def test_forms_and_controls() -> None:
    page = page_of('<form action="go" method="post"><input name="q" value="v">'
                   '<input type="checkbox" name="c" value="1" checked>'
                   '<select name="s"><option value="1">One<option>Two</select>'
                   '<input type="hidden" name="h" value="x"><button>Go</button></form>'
                   '<label for="far">Far label</label><input id="far" name="f">')
    assert len(page.forms) == 1
    form = page.forms[0]
    assert (form.action, form.method, form.controls) == (
        "http://example.test/d/go", "POST", [1, 2, 3, 4, 5])
    kinds = [(c.number, c.kind, c.name, c.value, c.form) for c in page.controls]
    assert kinds == [(1, "text", "q", "v", 0), (2, "checkbox", "c", "1", 0),
                     (3, "select", "s", "1", 0), (4, "hidden", "h", "x", 0),
                     (5, "submit", "", "", 0), (6, "text", "f", "", None)]
    assert page.controls[1].checked
    assert [o.selected for o in page.controls[2].options] == [True, False]
    assert page.controls[4].label == "Go"
    assert page.controls[5].label == "Far label"
    fields = [s for line in page.lines for s in line.spans if FIELD in s.styles]
    assert [s.control for s in fields] == [1, 2, 3, 5, 6]  # the hidden one is not drawn


def test_relayout_at_another_width_keeps_the_text() -> None:
    html = "<p>" + " ".join(f"word{i}" for i in range(60)) + "</p>"
    narrow, wide = page_of(html, 30), page_of(html, 100)
    assert len(narrow.lines) > len(wide.lines)
    assert " ".join(ln.text for ln in narrow.lines).split() == \
        " ".join(ln.text for ln in wide.lines).split()
    assert narrow.width == 30


def test_text_page_keeps_lines_and_cuts_long_ones() -> None:
    page = layout.render(b"a\tb\n\nline " + b"x" * 30, "file:///t.txt", 20,
                         content_type="text/plain")
    assert [ln.text for ln in page.lines] == ["a       b", "", "line xxxxxxxxxxxxxxx",
                                              "xxxxxxxxxxxxxxx"]


def test_empty_and_odd_documents() -> None:
    assert page_of("").lines == []
    assert page_of("<frameset><frame src=a.html name=main></frameset>").links[0].url.endswith(
        "/d/a.html")
    page = page_of("<table></table><ul></ul><ol></ol><dl></dl><pre></pre>")
    assert page.lines == []


def test_narrow_widths_never_fail() -> None:
    html = (GOLDEN / "tables.html").read_text() + (GOLDEN / "lists_nested.html").read_text()
    for width in (10, 11, 15, 25):
        page = page_of(html, width)
        assert page.lines


def test_deep_nesting_is_laid_out_and_the_limit_restored() -> None:
    """Both layouts (interactive and text only) survive nesting past the recursion limit."""
    import sys

    data = ("<ul><li>" * 3_000 + "<div>" * 5_000 + "bottom").encode()
    limit = sys.getrecursionlimit()
    page = layout.render(data, "http://example.test/", 80)
    assert "bottom" in "".join(paint.dump(page).split())
    _, texts = layout.render_rows(data, "http://example.test/", 80)
    assert "bottom" in "".join(t for t in texts if t)
    assert sys.getrecursionlimit() == limit


def test_too_deep_is_page_too_deep(monkeypatch: pytest.MonkeyPatch) -> None:
    from sockweb.browser import depth
    from sockweb.http.errors import SockwebError

    monkeypatch.setattr(depth, "DEEP_FRAMES", 3_000)
    with pytest.raises(depth.PageTooDeep) as raised:
        layout.render(b"<div>" * 5_000 + b"x", "http://example.test/", 80)
    assert isinstance(raised.value, SockwebError)
    assert "1,500 levels" in str(raised.value)


@pytest.mark.parametrize(("value", "expected"), [
    ("7", 7), ("  +12abc", 12), ("-3", -3), ("\t9", 9), ("2147483647", 2147483647),
    ("2147483648", 5), ("9" * 5000, 5), ("٣", 5), ("x1", 5), ("", 5),
])
def test_attr_int_follows_html_integer_rules(value: str, expected: int) -> None:
    """HTML's rules for parsing integers: ASCII digits only; a value past 32 bits is no
    value (5,000 digits once passed Python's int conversion limit: a traceback)."""
    from sockweb.browser.lexbor import LexborHTMLParser

    node = LexborHTMLParser(f"<ol start='{value}'></ol>").css_first("ol")
    assert node is not None
    assert dom.attr_int(node, "start", 5) == expected


def test_huge_numbers_in_attributes_are_laid_out() -> None:
    data = ("<ol start=" + "9" * 5000 + "><li>a</ol><td colspan=" + "9" * 5000 + ">c"
            "<textarea rows=2147483647 cols=2147483647>t</textarea>").encode()
    text = paint.dump(layout.render(data, "http://example.test/", 60))
    assert "1. a" in text and "c" in text and "[t" in text


def test_text_pages_drop_control_characters() -> None:
    """The source view, the headers view and plain text go through text_page: no ESC,
    BEL or C1 control reaches the terminal, and a lone CR or FF ends a line."""
    page = layout.text_page("a\x1b[2Jb\x07\u009bc\rd\x0ce\r\nf", "http://example.test/")
    assert flow.rows(page.lines) == ["a[2Jbc", "d", "e", "f"]


def test_text_in_many_elements_is_one_run_per_style() -> None:
    """A paragraph of 3,000 <span>s (and one of <br>s): the pieces of one style are
    joined once, at the flush (inline.RUN_JOIN), so each line is one span and the
    text is all there."""
    spans = ("<p>" + "<span>ab </span>" * 3_000 + "<b>bold</b></p>").encode()
    page = layout.render(spans, "http://example.test/", 60)
    assert all(len(line.spans) == 1 for line in page.lines[:-1])
    assert paint.dump(page).split() == ["ab"] * 3_000 + ["bold"]
    _, texts = layout.render_rows(spans, "http://example.test/", 60)
    assert texts == flow.rows(page.lines)
    breaks = ("<p>" + "x<br>" * 3_000 + "</p>").encode()
    assert paint.dump(layout.render(breaks, "http://example.test/")) == "x\n" * 3_000


def test_a_select_of_many_options_and_selectedcontent() -> None:
    """Lexbor parses without DOM mutation events (dom.WO_EVENTS): with them, every
    <option> inserted re-ran its <select>'s selectedness, quadratic (100,000 options:
    38 s). What the events would add, <selectedcontent>'s copy of the selected
    option, layout never showed: the control is drawn from the options."""
    many = ("<select name=s>" + "<option>o" * 20_000 + "<option selected>last</select>").encode()
    page = layout.render(many, "http://example.test/")
    [control] = page.controls
    assert len(control.options) == 20_001 and control.value == "last"
    custom = (b"<select name=s><button><selectedcontent></selectedcontent></button>"
              b"<option>a</option><option selected>b</option></select><p>after</p>")
    assert paint.dump(layout.render(custom, "http://example.test/", 40)) == "[b v]\n\nafter\n"


def test_sup_in_a_link_keeps_its_mark_however_deep_in_dump() -> None:
    """A footnote link, <a href><sup>1</sup></a> (pandoc) or wrapped deeper."""
    for html in ("<p>see<a href=f><sup>1</sup></a>",
                 "<p>see<a href=f><span><sup>1</sup></span></a>",
                 "<p>see<a href=f><code><span><sub>1</sub></span></code></a>"):
        text = paint.dump(layout.render(html.encode(), "http://example.test/", 40))
        assert text.startswith("see[1]^1" if "sup" in html else "see[1][1]"), (html, text)


def test_sup_and_sub_show_marks_on_the_screen_too() -> None:
    page = page_of("<p>2<sup>10</sup> x<sub>i</sub> <a href=f><sup>1</sup></a> "
                   "<b>n<sup>2</sup></b>")
    assert [(s.text, s.link) for s in page.lines[0].spans] == [
        ("2^10 x[i] ", None), ("[1]^1", 1), (" ", None), ("n^2", None)]
    assert spans_with(page, "n^2") == [frozenset({BOLD})]
