"""The painters: the --dump text and the styled rows the full-screen UI draws."""

from __future__ import annotations

from sockweb.browser import dom, layout, paint
from sockweb.browser.model import Page


def page_of(html: str, width: int = 60) -> Page:
    return layout.layout(dom.parse(html, "http://example.test/p.html"), width)


def test_dump_is_lines_then_references_like_lynx() -> None:
    page = page_of('<p>a <a href="x">x</a></p>' + "".join(
        f'<a href="l{i}">{i}</a> ' for i in range(10)))
    text = paint.dump(page)
    assert text.startswith("a [1]x\n\n[2]0 [3]1")
    assert text.endswith("[11]9\n\nReferences\n\n   1. http://example.test/x\n"
                         "   2. http://example.test/l0\n" + "".join(
                             f"   {n}. http://example.test/l{n - 2}\n" for n in range(3, 10))
                         + "".join(f"  {n}. http://example.test/l{n - 2}\n" for n in (10, 11)))


def test_dump_without_links_has_no_references_and_no_trailing_blanks() -> None:
    text = paint.dump(page_of("<ul><li></li></ul><p>x&nbsp;y</p>"))
    assert text == "  *\n\nx y\n"


def test_styled_rows_merge_runs_and_name_styles() -> None:
    page = page_of("<h1>Title</h1><p>plain <b>bold</b> <a href=x>link</a> <code>c</code></p>")
    rows = paint.styled_rows(page)
    assert rows[0] == [("Title", "bold")]
    assert rows[2] == [("plain ", ""), ("bold", "bold"), (" ", ""),
                       ("[1]link", "underline blue"), (" ", ""), ("c", "cyan")]


def test_highlighted_link_and_window() -> None:
    page = page_of("<p><a href=a>one</a> <a href=b>two</a></p><p>three</p>")
    rows = paint.styled_rows(page, highlight_link=2)
    assert ("[2]two", paint.HIGHLIGHT) in rows[0]
    assert paint.styled_rows(page, start=2, stop=3) == [[("three", "")]]


def test_controls_are_redrawn_from_their_state_at_the_same_width() -> None:
    page = page_of('<form><input name=q value="old"> <input type=checkbox name=c> '
                   '<select name=s><option>Small<option>Enormous</select>'
                   '<textarea name=t cols=10 rows=2>a</textarea></form>')
    before = [paint.styled_rows(page)[i] for i in range(len(page.lines))]
    q, c, s, t = page.controls
    q.value = "new value"
    c.checked = True
    s.options[0].selected, s.options[1].selected = False, True
    t.value = "first\nsecond row"
    after = paint.styled_rows(page, highlight_control=1)
    assert after[0][0] == ("[new value___________]", paint.HIGHLIGHT)
    assert [text for text, _ in after[0]] == [
        "[new value___________]", " ", "[x]", " ", "[Enormous v]"]
    assert [len(text) for text, _ in after[0]] == [len(text) for text, _ in before[0]]
    assert [row[0][0] for row in after[1:3]] == ["[first_____]", "[second row]"]
