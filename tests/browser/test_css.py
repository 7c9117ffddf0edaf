"""Style sheets (css.py, load.Stylesheets) and refreshes, piece by piece and end to end.

The rendering of a page's own ``<style>`` is in the golden files
(css_hidden, refresh); here are the parser's pieces, the fetching of linked
sheets from real files and from sockweb's own server, and ``browse --dump``
over both.
"""

from __future__ import annotations

import html
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from sockweb.browser import css, dom, layout, paint
from sockweb.browser.load import STYLESHEET_BYTES, STYLESHEET_COUNT, Stylesheets
from tests.conftest import ServerProcess
from tests.interop.test_chromium import run_chromium


def selectors(text: str) -> list[tuple[str, str, bool]]:
    return [(r.selector, r.prop, r.hides) for r in css.rules([(text, "")])]


def test_rules_keep_only_display_and_visibility() -> None:
    sheet = """
    @charset "utf-8";
    body { color: red }
    /* .commented { display: none } */
    .a, .b > p { display: none; color: blue }
    .c { display: none; display: block }
    .d { visibility: hidden !important }
    .e { DISPLAY : None }
    .f { display: flex }
    @media print { .g { display: none } }
    @media screen { .h { display: none } }
    @keyframes spin { from { display: none } }
    .i { content: "{"; display: none }
    """
    assert selectors(sheet) == [
        (".a", "display", True), (".b > p", "display", True), (".c", "display", False),
        (".d", "visibility", True), (".e", "display", True), (".f", "display", False),
        (".h", "display", True), (".i", "display", True)]


def test_an_unclosed_block_ends_with_the_sheet() -> None:
    assert selectors(".a { display: none } .b { display: none") == [
        (".a", "display", True), (".b", "display", True)]
    assert selectors("} .a { display: none }") == [(".a", "display", True)]


def test_nested_media_blocks_stop_at_max_media_depth() -> None:
    """Thousands of nested @media blocks are input, not a RecursionError: those within
    css.MAX_MEDIA_DEPTH apply, deeper ones do not."""
    inside = css.MAX_MEDIA_DEPTH
    sheet = "@media screen {" * inside + ".in { display: none }" + "}" * inside
    deep = "@media screen {" * 3_000 + ".deep { display: none }" + "}" * 3_000
    assert selectors(sheet + deep) == [(".in", "display", True)]


def test_selector_lists_split_at_top_level_commas_only() -> None:
    got = selectors(':is(.a, .b) p, [title="x,y"], .c { display: none }')
    assert [s for s, _, _ in got] == [":is(.a, .b) p", '[title="x,y"]', ".c"]


def test_unmatchable_selectors_are_dropped() -> None:
    got = selectors("a:hover, a::before, a:after, p:first-child, li:not(.x) { display: none }")
    assert [s for s, _, _ in got] == ["p:first-child", "li:not(.x)"]


@pytest.mark.parametrize(("selector", "expected"), [
    ("p", (0, 0, 1)), (".a", (0, 1, 0)), ("#x", (1, 0, 0)), ("div.related h3", (0, 1, 2)),
    ("ul li.x > a[href]", (0, 2, 3)), ("#a .b c", (1, 1, 1)), ("*", (0, 0, 0)),
    (":where(#x) p", (0, 0, 1)), ("a:not(.x)", (0, 1, 1)), ('a[title="#x .y"]', (0, 1, 1)),
])
def test_specificity(selector: str, expected: tuple[int, int, int]) -> None:
    assert css._specificity(selector) == expected


@pytest.mark.parametrize(("media", "applies"), [
    (None, True), ("", True), ("all", True), ("screen", True), ("Only Screen", True),
    ("print", False), ("screen, print", True), ("print, all", True),
    ("screen and (min-width: 800px)", False), ("(max-width: 600px)", False),
    ("not print", False), ("speech", False),
])
def test_media(media: str | None, applies: bool) -> None:
    assert css.media_applies(media) is applies


def test_descendants_of_a_hidden_element_are_hidden_and_controls_kept() -> None:
    html = ("<style>.box { display: none }</style><div class=box><p>inner <b>bold</b></p>"
            "<form action=/x><input name=q value=v></form></div><p>after</p>")
    page = layout.render(html.encode(), "http://example.test/", 80)
    assert [line.text for line in page.lines] == ["after"]
    assert [(c.name, c.value) for c in page.controls] == [("q", "v")]


def test_an_element_two_rules_hide_is_listed_once() -> None:
    tree = LexborHTMLParser('<div class="a b">x</div><p>y</p>')
    found = css.rules([(".a { display: none } div.b { display: none } "
                        ".a { visibility: hidden }", "http://example.test/")], None)
    assert [node.tag for node in css.hidden_nodes(tree, found, css.own_style)] == ["div"]


# -- the cascade, against Chromium's innerText ------------------------------------------

# (page, its text): what Chromium's innerText gives (test_the_texts_are_chromiums).
CASCADE = [
    pytest.param("<style>.x { display: none !important } .x { display: block }</style>"
                 "<p class=x>A</p><p>B</p>", "B", id="important-beats-later"),
    pytest.param("<style>#i { display: block } .x { display: none ! important }</style>"
                 "<p id=i class=x>A</p><p>B</p>", "B", id="important-beats-specific"),
    pytest.param("<style>.x { display: none !important; display: block }</style>"
                 "<p class=x>A</p><p>B</p>", "B", id="important-in-one-block"),
    pytest.param("<style>.x { display: none !important }</style>"
                 "<p class=x style='display: block'>A</p><p>B</p>", "B",
                 id="sheet-important-beats-style"),
    pytest.param("<style>.x { display: none !important }</style>"
                 "<p class=x style='display: block !important'>A</p><p>B</p>", "A\n\nB",
                 id="style-important-beats-sheet-important"),
    pytest.param("<style>.x { display: block !important }</style>"
                 "<p class=x style='display: none'>A</p><p>B</p>", "A\n\nB",
                 id="sheet-important-shows-style-none"),
    pytest.param("<style>.v { visibility: hidden } .v .show { visibility: visible }</style>"
                 "<div class=v>hidden part <span class=show>SHOWN</span></div><p>end</p>",
                 "SHOWN\n\nend", id="visible-in-hidden"),
    pytest.param("<style>.v { visibility: hidden } .w { visibility: visible }</style>"
                 "<div class=v>h1 <span class=w>A</span> <span class=w>B</span> h2 "
                 "<b>bold <i class=w>C</i></b></div><p>end</p>", "ABC\n\nend",
                 id="visible-pieces"),
    pytest.param("<style>.v { visibility: hidden } .w { visibility: visible }</style>"
                 "<div class=v><p>para</p><p class=w>W<span class=v> x</span></p>"
                 "<p>after</p></div><p>end</p>", "W\n\nend", id="visible-block"),
    pytest.param("<style>.v { visibility: hidden }</style><div class=v>h "
                 "<span style='visibility: visible'>V</span></div><p>end</p>", "V\n\nend",
                 id="visible-by-style"),
    pytest.param("<style>.v { visibility: hidden } .w { visibility: initial } "
                 ".i { visibility: inherit }</style><div class=v>h <span class=w>V</span> "
                 "<span class=i>I</span></div><p>end</p>", "V\n\nend", id="visible-initial"),
    pytest.param("<style>.v { visibility: hidden } .v span { display: none }</style>"
                 "<div class=v>h <span style='visibility: visible'>V</span></div><p>end</p>",
                 "end", id="visible-but-display-none"),
    pytest.param("<style>.v { visibility: hidden } .w { visibility: visible }</style><table>"
                 "<tr class=v><td>a<td class=w>b</table><p>end</p>", "b\n\nend",
                 id="visible-cell"),
    pytest.param("<style>.w { visibility: visible }</style><div style='visibility: hidden'>"
                 "h <span class=w>V</span></div><p>end</p>", "V\n\nend",
                 id="visible-in-style-hidden"),
    pytest.param("<style>.tab[hidden] { display: block }</style>"
                 "<div class=tab hidden>SHOWN</div><p>end</p>", "SHOWN\n\nend",
                 id="author-display-over-hidden"),
    pytest.param("<style>div { display: unset }</style><div hidden>SHOWN</div><p>end</p>",
                 "SHOWN\n\nend", id="unset-over-hidden"),
    pytest.param("<div hidden style='display: block'>SHOWN</div><p>end</p>", "SHOWN\n\nend",
                 id="style-over-hidden"),
    pytest.param("<style>div { display: block }</style><div hidden=UNTIL-FOUND "
                 "style='display: block'>UF</div><p>end</p>", "end", id="until-found"),
    pytest.param("<style>[hidden] { display: none !important }</style>"
                 "<div hidden style='display: block'>X</div><p>end</p>", "end",
                 id="important-hidden"),
]


@pytest.mark.parametrize(("page", "text"), CASCADE)
def test_the_cascade(page: str, text: str) -> None:
    rendered = layout.render(page.encode(), "http://example.test/", 80)
    assert paint.dump(rendered) == text + "\n"


def test_the_texts_are_chromiums(tmp_path: Path) -> None:
    """CASCADE's texts are what headless Chromium's innerText gives, each page
    written into an iframe of one page (one run of Chromium for all)."""
    pages = [case.values[0] for case in CASCADE]
    script = ("const out = []; for (const page of %s) {"
              " const f = document.createElement('iframe'); document.body.appendChild(f);"
              " const d = f.contentDocument; d.open(); d.write(page); d.close();"
              " out.push(d.body.innerText); f.remove(); }"
              " document.body.textContent = 'OUT' + JSON.stringify(out) + 'END';")
    path = tmp_path / "cascade.html"
    path.write_text("<!doctype html><body><script>" +
                    script % json.dumps(pages).replace("</", "<\\/") + "</script>")
    code, out, err = run_chromium(tmp_path, "--dump-dom", path.as_uri())
    assert code == 0, err[-2000:]
    got = json.loads(html.unescape(out.decode().split("OUT", 1)[1].rsplit("END", 1)[0]))
    assert got == [case.values[1] for case in CASCADE]


def test_cascade_shows_what_the_sheets_show_of_marked_elements() -> None:
    """css.cascade's second list: of the elements their own attributes hide (dom.py's
    marks), those an author display or an !important shows again."""
    tree = LexborHTMLParser(
        "<div class=tab hidden>a</div><div hidden>b</div><div class=tab hidden=until-found>c"
        "</div><p class=x style='display: none'>d</p><p style='display: none'>e</p>"
        "<p class=x style='display: none !important'>f</p><p style='visibility: hidden'>g</p>")
    found = css.rules([(".tab[hidden] { display: block } p { display: block } "
                        ".x { display: block !important }", "")])
    marked = tree.css("[hidden], [style]")
    hidden, shown = css.cascade(tree, found, css.own_style, marked)
    assert [node.text() for node in shown] == ["a", "d"] and hidden == []


def test_important_is_read() -> None:
    found = css.rules([(".a { display: none !important; display: block } "
                        ".b { visibility: visible!IMPORTANT } .c { display: block ! important }",
                        "")])
    assert [(r.selector, r.value, r.important) for r in found] == [
        (".a", "none", True), (".b", "visible", True), (".c", "block", True)]
    node = LexborHTMLParser("<p style='DISPLAY: none !important; visibility: visible'>"
                            ).css_first("p")
    assert node is not None
    assert css.own_style(node) == {"display": ("none", True), "visibility": ("visible", False)}


def test_a_visible_descendant_keeps_the_controls_around_it() -> None:
    html_page = ("<style>.v { visibility: hidden } .w { visibility: visible }</style>"
                 "<form class=v action=/x>Name <input name=q value=v> <b class=w>W</b></form>")
    page = layout.render(html_page.encode(), "http://example.test/", 80)
    assert [line.text for line in page.lines] == ["W"]
    assert [(c.name, c.value) for c in page.controls] == [("q", "v")]


def test_a_page_without_sheets_has_no_style_work() -> None:
    document = dom.parse("<p id=a>x</p><p hidden>y</p>", "http://example.test/")
    assert len(document.marks) == 2  # the anchor and the hidden attribute, as before


@pytest.mark.parametrize(("content", "expected"), [
    ("5", (5, "")), ("0; url=http://x/", (0, "http://x/")), ("0;URL='a b.html'", (0, "a b.html")),
    ('3, "x.html"', (3, "x.html")), ("  7 ; url = y.html  ", (7, "y.html")),
    ("2.5; url=z", (2, "z")), (".5; z", (0, "z")), ("10; x.html", (10, "x.html")),
    ("abc", None), ("", None), ("5x; url=y", None), ("1; url='q.html'junk", (1, "q.html")),
])
def test_refresh_content(content: str, expected: tuple[int, str] | None) -> None:
    assert dom.refresh_target(content) == expected


def test_refresh_resolves_against_the_base() -> None:
    document = dom.parse('<base href="http://other.test/dir/"><meta http-equiv=refresh '
                         'content="1; url=next.html"><meta http-equiv=REFRESH content=2>',
                         "http://example.test/page.html")
    assert document.refresh == [(1, "http://other.test/dir/next.html"),
                                (2, "http://example.test/page.html")]  # the page, not its base



def test_the_first_base_with_an_href_counts_wherever_it_stands() -> None:
    """HTML's document base URL: the first <base href> in tree order; a <base>
    without href does not count, and one in the body still does."""
    document = dom.parse('<base target=_top><p>x</p><base id=b href="http://a.test/x/">'
                         '<base href="http://b.test/"><a href=y>y</a>', "http://example.test/")
    assert str(document.base) == "http://a.test/x/"
    assert document.marks[document.tree.css_first("base[id]").mem_id].anchor == "b"


def test_an_element_matching_several_queries_is_taken_once() -> None:
    """Lexbor lists an element once per selector it matches: a linked sheet with an
    id was read twice, a label with an id and a for listed twice."""
    read: list[str] = []

    def fetch(url: str) -> str:
        read.append(url)
        return ".ad { display: none }"

    document = dom.parse('<link rel=stylesheet id=s style="x" href="s.css">'
                         '<label for=q id=l hidden>Query</label><input id=q name=q>'
                         '<p class=ad>ad</p>', "http://example.test/", fetch)
    assert read == ["http://example.test/s.css"]
    assert [node.attributes["id"] for node in document.labels] == ["l"]
    page = layout.render(b'<label for=q id=l hidden>Query</label><input id=q name=q>',
                         "http://example.test/", 80)
    assert [c.label for c in page.controls] == ["Query"]

# -- linked sheets: real files ------------------------------------------------------------


def site_with_sheets(root: Path) -> Path:
    (root / "css").mkdir(parents=True, exist_ok=True)
    (root / "css" / "main.css").write_text(
        '@import url("base.css");\n@import "print.css" print;\n.ad { display: none }\n')
    (root / "css" / "base.css").write_text(".banner { visibility: hidden }\n")
    (root / "css" / "print.css").write_text(".article { display: none }\n")
    page = root / "page.html"
    page.write_text(
        '<!doctype html><title>Sheets</title><link rel="stylesheet" href="css/main.css?v=2">'
        '<link rel="alternate stylesheet" href="css/print.css">'
        '<link rel="stylesheet" href="missing.css">'
        '<div class="banner">BANNER</div><div class="ad">ADVERT</div>'
        '<p class="article">The article.</p>')
    return page


def test_linked_sheets_and_imports_from_files(tmp_path: Path) -> None:
    page = site_with_sheets(tmp_path)
    sheets = Stylesheets()
    rendered = layout.render(page.read_bytes(), page.as_uri(), 80, fetch=sheets)
    assert paint.dump(rendered) == "The article.\n"
    assert set(sheets.fetched) == {(tmp_path / "css" / "main.css").as_uri() + "?v=2",
                                   (tmp_path / "css" / "base.css").as_uri(),
                                   (tmp_path / "missing.css").as_uri()}
    assert sheets.fetched[(tmp_path / "missing.css").as_uri()] is None  # ignored, silently
    again = layout.render(page.read_bytes(), page.as_uri(), 40, fetch=sheets)
    assert paint.dump(again) == "The article.\n" and len(sheets.fetched) == 3  # kept


def test_sheet_limits(tmp_path: Path) -> None:
    big = tmp_path / "big.css"
    big.write_bytes(b".big { display: none }\n" + b"/* padding */\n" * (STYLESHEET_BYTES // 14))
    sheets = Stylesheets()
    assert sheets(big.as_uri()) is None  # too large: not applied
    names = []
    for i in range(STYLESHEET_COUNT + 2):
        name = tmp_path / f"s{i}.css"
        name.write_text(f".s{i} {{ display: none }}")
        names.append(name.as_uri())
    got = [sheets(url) for url in names]
    assert sum(text is not None for text in got) == STYLESHEET_COUNT - 1  # big.css counted
    assert sheets("data:text/css,.x{display:none}") is None  # no scheme we fetch


def test_an_import_loop_ends(tmp_path: Path) -> None:
    (tmp_path / "a.css").write_text('@import "b.css"; .a { display: none }')
    (tmp_path / "b.css").write_text('@import "a.css"; .b { display: none }')
    page = tmp_path / "p.html"
    page.write_text('<link rel=stylesheet href=a.css><p class=a>A</p><p class=b>B</p><p>C</p>')
    rendered = layout.render(page.read_bytes(), page.as_uri(), 80, fetch=Stylesheets())
    assert paint.dump(rendered) == "C\n"


# -- end to end: sockweb's own server, `browse --dump` -------------------------------------


def browse(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, COLUMNS="80")
    return subprocess.run([sys.executable, "-m", "sockweb", "browse", *args],
                          capture_output=True, text=True, timeout=60, env=env)


def test_dump_applies_a_linked_sheet_from_the_server(
        start_server: Callable[..., ServerProcess], tmp_path: Path) -> None:
    site_with_sheets(tmp_path)
    (tmp_path / "huge.css").write_bytes(b".article{display:none}" + b" " * STYLESHEET_BYTES)
    (tmp_path / "moved.html").write_text(
        '<meta http-equiv="refresh" content="0; url=page.html"><p>Moved.</p>')
    (tmp_path / "huge.html").write_text(
        '<link rel=stylesheet href=huge.css><p class=article>Still here.</p>')
    server = start_server(str(tmp_path), "--no-access-log")
    got = browse("--dump", f"{server.url}/page.html")
    assert got.returncode == 0, got.stderr
    assert got.stdout == "The article.\n" and got.stderr == ""
    assert "BANNER" not in got.stdout and "ADVERT" not in got.stdout
    assert browse("--dump", f"{server.url}/huge.html").stdout == "Still here.\n"
    moved = browse("--dump", f"{server.url}/moved.html")
    assert moved.stdout == (f"REFRESH(0 sec): [1]{server.url}/page.html\n\nMoved.\n\n"
                            f"References\n\n   1. {server.url}/page.html\n")


def test_dump_of_a_file_applies_its_sheets(tmp_path: Path) -> None:
    page = site_with_sheets(tmp_path)
    got = browse("--dump", str(page))
    assert (got.returncode, got.stdout, got.stderr) == (0, "The article.\n", "")


def test_a_web_page_cannot_read_local_sheets(start_server: Callable[..., ServerProcess],
                                            tmp_path: Path) -> None:
    """A page or a sheet from the web naming a file: sheet (a link or an @import) gets
    nothing read, as browsers refuse local resources to the web; the page shows as if
    the sheet were missing."""
    local = tmp_path / "local.css"
    local.write_text(".secret { display: none }")
    site = tmp_path / "site"
    site.mkdir()
    (site / "remote.css").write_text(f'@import "{local.as_uri()}";')
    (site / "linked.html").write_text(
        f'<link rel=stylesheet href="{local.as_uri()}"><p class=secret>Shown.</p>')
    (site / "imported.html").write_text(
        '<link rel=stylesheet href="remote.css"><p class=secret>Shown too.</p>')
    server = start_server(str(site), "--no-access-log")
    for page, text in (("linked.html", "Shown.\n"), ("imported.html", "Shown too.\n")):
        sheets = Stylesheets()
        url = f"{server.url}/{page}"
        try:
            body = (site / page).read_bytes()
            assert paint.dump(layout.render(body, url, 80, fetch=sheets)) == text
        finally:
            sheets.close()
        assert local.as_uri() not in sheets.fetched


def test_local_sheets_that_are_no_files_are_not_read(tmp_path: Path) -> None:
    """A FIFO would block the read forever and /dev/zero never end: a local sheet
    must be a regular file."""
    fifo = tmp_path / "pipe.css"
    os.mkfifo(fifo)
    page = tmp_path / "p.html"
    page.write_text(f'<link rel=stylesheet href="{fifo.name}">'
                    '<link rel=stylesheet href="file:///dev/zero"><p>Text.</p>')
    got = browse("--dump", str(page))
    assert (got.returncode, got.stdout) == (0, "Text.\n"), got.stderr
