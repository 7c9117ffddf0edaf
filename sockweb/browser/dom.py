"""Stage one: bytes -> text -> a parsed document, and what layout must know up front.

The parser is selectolax's binding of Lexbor, an HTML5 parser that follows the
WHATWG tree-construction rules (so ``<p>`` in ``<p>``, tables with stray
text, unclosed ``<li>`` come out as a browser builds them) at about 10 MB/s.

Layout walks the tree once, child by child. What it would otherwise have to
ask of every element (does it have an ``id``? is it hidden? does its
``style`` change white-space or display?) is found here first by one CSS
query in C, and handed over as :attr:`Document.marks`, keyed by the node's
``mem_id``: most elements have none, and looking one up costs a dict miss.

What is never shown, decided here:

* ``head`` (but its ``title``), ``script``, ``style``, ``template``, ``svg``
  (icons): browsers draw no text of theirs;
* ``map``, ``canvas``, ``video``, ``audio`` *are* walked into: a map is
  transparent (its ``<a>``s are drawn); a canvas shows its fallback content
  when scripts are off, as they always are here; a video's or an audio's is
  what a browser that plays nothing shows, and lynx and w3m show it (their
  ``<source>`` and ``<track>`` are skipped);
* elements with the ``hidden`` attribute and ``style="display: none"`` or
  ``visibility: hidden``, as the CSS user-agent sheet and cascade say;
* ``noscript`` *is* shown: sockweb runs no scripts, so it is the page meant
  for it (lynx and w3m agree; Lexbor parses it as markup, scripting off);
* ``aria-hidden="true"`` *is* shown: it hides from screen readers only, and
  a graphical browser draws it (so does ``innerText``);
* elements that the page's style sheets hide (``<style>``, ``<link
  rel=stylesheet>``; css.py says which rules count): found only when the
  page has a sheet, so a page without one pays nothing.

The same query finds ``<meta http-equiv=refresh>`` (:func:`refresh_target`),
which --dump shows at the top, as lynx does, and the UI follows.
"""

from __future__ import annotations

import re

from ..client.decoding import charset_from_content_type, decode_text
from ..http.urls import URL, InvalidURL
from .lexbor import LexborHTMLParser, LexborNode, css_once

# typing costs every start ~3 ms to import; annotations need it only for mypy.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .css import Fetch

__all__ = ["Document", "LexborNode", "Mark", "collapse", "decode", "parse", "refresh_target",
           "resolve_url"]

# Elements whose content is never rendered.
SKIP = frozenset({
    "head", "script", "style", "template", "svg",
    "-comment", "title", "meta", "link", "base", "param", "source", "track",
})

# A node needs layout's attention if it is one of these (the CSS query below).
# The same walk of the tree finds the page's style sheets and refreshes, its
# <base href> and the <label for>s that name a control wherever they stand: each
# walk of its own cost 3 to 6 ms on a page of 80,000 nodes.
_MARKED = ("[id], a[name], [hidden], [style], style, link[rel], meta[http-equiv], base[href], "
           "label[for]")
_DISPLAY = re.compile(r"(?:^|;)\s*display\s*:\s*([a-z-]+)", re.IGNORECASE)
_VISIBILITY = re.compile(r"(?:^|;)\s*visibility\s*:\s*(hidden|collapse)", re.IGNORECASE)
_WHITE_SPACE = re.compile(
    r"(?:^|;)\s*white-space\s*:\s*(normal|nowrap|pre-wrap|pre-line|pre|break-spaces)",
    re.IGNORECASE)
_LIST_STYLE = re.compile(r"(?:^|;)\s*list-style(?:-type)?\s*:\s*none", re.IGNORECASE)
_HEAD_TAGS = frozenset({"style", "link", "meta"})
# CSS collapses only these; U+00A0 and the other Unicode spaces stay.
_CSS_SPACE = re.compile(r"[ \t\n\r\f]+")
_HTML_INT = re.compile(r"[ \t\n\r\f]*([-+]?[0-9]+)")
# Control characters other than HTML's white space (tab, LF, FF, CR): a page's
# text goes to a terminal, where ESC, BEL, BS, CSI... act instead of showing (a
# title that retitles the window, text that moves the cursor or recolours the
# screen). lynx and w3m drop them; sockweb drops them before parsing. DEL and
# the C1 controls (U+0080-U+009F, "\xc2\x80"-"\xc2\x9f" in UTF-8) too.
# A form feed is HTML white space, but a terminal acts on it too (a new line,
# or a new page): in markup it becomes a space, which is what it collapses to
# anyway outside <pre> (w3m shows a space there too; lynx drops it).
_C0_BYTES = bytes([*range(0x09), 0x0B, *range(0x0E, 0x20), 0x7F])
_C0_FF_BYTES = bytes([*_C0_BYTES, 0x0C])  # looked for: either kind means a copy
_FF_TO_SPACE = bytes.maketrans(b"\x0c", b" ")
_C1_UTF8 = re.compile(rb"\xc2[\x80-\x9f]")
_CONTROLS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
# The parser makes characters of numeric references (&#27; &#x1b &#0000027;)
# after the pass above, so those that would be controls are rewritten first:
# to U+FFFD, the standard's own answer for &#0; and numbers past U+10FFFF.
# Matched: decimal or hex, leading zeros, with or without the ";" (the parser
# takes the longest run of digits, hence the look-aheads); C0 but tab and LF,
# DEL, and the five C1 numbers that the standard's windows-1252 table leaves
# C1 (&#x81; &#x8d; &#x8f; &#x90; &#x9d;: &#x80;-&#x9f; else become characters
# such as the euro sign and are not touched). Two keep a meaning of their own:
# &#12; (form feed) becomes a space, as raw form feeds do, and &#13; (CR), a
# line break for lynx and w3m and kept by the standard, becomes &#10; unless a
# line feed follows it, when it goes (the textarea value's own newline
# normalization, CRLF and CR to LF); layout shows both as it showed CR.
# In RAWTEXT elements (<xmp>, <noembed>...) a reference is not decoded and shows
# as written: there the rewrite shows too, for a control reference written to
# be displayed, which no page does by accident.
_CONTROL_REF = (r"&#(?:[xX]0*([0-8b-fB-F]|1[0-9a-fA-F]|7[fF]|8[1dDfF]|9[0dD])(?![0-9a-fA-F])"
                r"|0*([0-8]|1[1-9]|2[0-9]|3[01]|12[79]|14[134]|157)(?![0-9]));?")
_CONTROL_NUMBERS = frozenset([*range(0x09), *range(0x0B, 0x20), 0x7F, 0x81, 0x8D, 0x8F, 0x90, 0x9D])
_AMPERSANDS = 256  # looked at one by one before the pattern is searched for (_has_control_ref)
_LINE_FEED_NEXT = r"[\r\n]|&#(?:[xX]0*[aA](?![0-9a-fA-F])|0*10(?![0-9]))"
_CHECK = 1 << 16  # bytes looked at per translate(): the copy stays in reused memory
# Lexbor's LXB_DOM_DOCUMENT_OPT_WO_EVENTS: no DOM mutation callbacks while the
# tree is built. The one sockweb would lose is <selectedcontent> copying the
# selected <option> (layout reads options itself); the one it escapes reran a
# <select>'s selectedness for every <option> inserted, quadratic: a select of
# 100,000 options took 38 s to parse (lynx: 8.6 s).
WO_EVENTS = 1


class Mark:
    """What an element's attributes change for layout."""

    __slots__ = ("anchor", "hidden", "display", "white_space", "no_marker")

    def __init__(self, anchor: str | None = None, hidden: bool = False,
                 display: str | None = None, white_space: str | None = None,
                 no_marker: bool = False) -> None:
        self.anchor = anchor  # its id (or an <a name>): a fragment target
        self.hidden = hidden
        self.display = display  # "block" or "inline" when style= overrides the tag's own
        self.white_space = white_space  # normal, nowrap, pre, pre-wrap, pre-line
        self.no_marker = no_marker  # list-style: none


class Document:
    """A parsed page: the tree, its address, what links resolve against, its marks."""

    __slots__ = ("tree", "url", "base", "title", "marks", "refresh", "labels")

    def __init__(self, tree: LexborHTMLParser, url: str, base: URL | None, title: str,
                 marks: dict[int, Mark], refresh: list[tuple[int, str]] | None = None,
                 labels: list[LexborNode] | None = None) -> None:
        self.tree = tree
        self.url = url  # the document's address
        self.base = base  # what links resolve against (<base href> applied)
        self.title = title
        self.marks = marks
        # <meta http-equiv=refresh>s: (seconds, absolute URL), in document order
        self.refresh = [] if refresh is None else refresh
        # the <label for=id>s, in document order
        self.labels = [] if labels is None else labels

    @property
    def root(self) -> LexborNode | None:
        return self.tree.root


def decode(body: bytes, content_type: str | None) -> str:
    """The body as text: BOM, then the header's charset, then <meta>, UTF-8, windows-1252."""
    return decode_text(body, content_type or "text/html")


# The <meta charset> prescan of client.decoding.decode_text, to see whether it would say UTF-8.
_META_CHARSET = re.compile(rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([-\w.:]+)""", re.IGNORECASE)
_UTF8 = ("utf-8", "utf8")


def utf8_body(body: bytes, content_type: str | None) -> bytes | None:
    """``body`` as the parser can take it when :func:`decode` would read it as UTF-8.

    Lexbor decodes UTF-8 itself, bad bytes to U+FFFD as Python's "replace"
    does, so a UTF-8 page need not become a str (4 bytes a character when it
    holds one emoji) to be encoded back to UTF-8 for the parser: on a 1.6 MB
    page that is 3 ms of copying and 5 MB of fresh memory. None when in doubt
    (another charset, no label and not ASCII): then the text is decoded.
    """
    if body.startswith(b"\xef\xbb\xbf"):
        return body[3:]
    if body.startswith((b"\xfe\xff", b"\xff\xfe")):
        return None
    label = charset_from_content_type(content_type)
    if label is None and "html" in (content_type or "text/html").lower():
        found = _META_CHARSET.search(body[:1024])
        if found is not None:
            label = found.group(1).decode("ascii").lower()
    if label is None:
        return body if body.isascii() else None  # decode() tries UTF-8, then windows-1252
    return body if label in _UTF8 else None


def without_controls(html: bytes) -> bytes:
    """UTF-8 (or ASCII-compatible) markup without its control characters, and without
    numeric references to them (see above).

    Looked for a piece at a time, so a page without any, nearly every page,
    costs a scan and no copy of itself.
    """
    for start in range(0, len(html), _CHECK):
        piece = html[start:start + _CHECK]
        if len(piece.translate(None, _C0_FF_BYTES)) != len(piece):
            html = html.translate(_FF_TO_SPACE, _C0_BYTES)
            break
    if b"\xc2" in html and _C1_UTF8.search(html) is not None:
        html = _C1_UTF8.sub(b"", html)
    if _has_control_ref(html):
        html = _control_refs(True).sub(_bytes_ref, html)
    return html


def html_without_controls(html: str) -> str:
    """:func:`without_controls` for markup that was decoded to text."""
    if "\f" in html or _CONTROLS.search(html):
        html = _CONTROLS.sub("", html).replace("\f", " ")
    if "&#" in html:
        html = _control_refs(False).sub(_text_ref, html)
    return html


def text_without_controls(text: str) -> str:
    """Text (plain text, a page's source) without control characters; form feeds are
    kept, for plain text to end a line at them."""
    return _CONTROLS.sub("", text) if _CONTROLS.search(text) else text


def _has_control_ref(html: bytes) -> bool:
    """Whether ``html`` holds a numeric reference to a control (:data:`_CONTROL_REF`).

    Most pages have a few dozen "&"s: each is found with memchr and looked at
    in Python, a few microseconds in all, where compiling the pattern costs
    0.2 ms and its search walks the whole page at about 4 GB/s (0.6 ms of the
    2.5 MB contents.html, which has 11 "&"s). Past :data:`_AMPERSANDS` of them
    the pattern searches the rest.
    """
    find = html.find
    at = find(b"&")
    for _ in range(_AMPERSANDS):
        if at < 0:
            return False
        if html[at + 1:at + 2] == b"#" and _control_number(html[at + 2:at + 34]):
            return True
        at = find(b"&", at + 1)
    return at >= 0 and _control_refs(True).search(html, at) is not None


def _control_number(head: bytes) -> bool:
    """Whether the number ``head`` (what follows a "&#") starts with is a control's;
    True when in doubt (digits up to its end), for the pattern to decide."""
    base = 10
    digits = b"0123456789"
    if head[:1] in (b"x", b"X"):
        head = head[1:]
        base = 16
        digits = b"0123456789abcdefABCDEF"
    rest = head.lstrip(digits)
    if not rest:
        return True
    number = head[:len(head) - len(rest)]
    return bool(number) and int(number, base) in _CONTROL_NUMBERS


def _control_refs(binary: bool) -> re.Pattern[Any]:
    """:data:`_CONTROL_REF` compiled, only for a page that needs it (re caches it)."""
    return re.compile(_CONTROL_REF.encode() if binary else _CONTROL_REF)


def _text_ref(found: re.Match[str]) -> str:
    lf_next = re.compile(_LINE_FEED_NEXT).match(found.string, found.end()) is not None
    return _instead(found[1], found[2], lf_next)


def _bytes_ref(found: re.Match[bytes]) -> bytes:
    lf_next = re.compile(_LINE_FEED_NEXT.encode()).match(found.string, found.end()) is not None
    return _instead(found[1], found[2], lf_next).encode()


def _instead(hex_digits: str | bytes | None, digits: str | bytes, lf_next: bool) -> str:
    """What a reference to a control becomes (see :data:`_CONTROL_REF`)."""
    number = int(hex_digits, 16) if hex_digits is not None else int(digits)
    if number == 12:
        return "&#32;"  # not " ": that would end an unquoted attribute value
    if number == 13:
        return "" if lf_next else "&#10;"
    return "&#xFFFD;"


def parse(html: str | bytes, url: str, fetch: Fetch | None = None) -> Document:
    """Parse ``html``: text, or UTF-8 bytes (see :func:`utf8_body`).

    ``fetch`` reads the linked style sheets (load.Stylesheets); without it only
    the page's own ``<style>`` elements are read.
    """
    html = without_controls(html) if isinstance(html, bytes) else html_without_controls(html)
    tree = LexborHTMLParser(html, options=WO_EVENTS)
    base: URL | None
    try:
        base = URL.parse(url)
    except InvalidURL:
        base = None
    title_node = tree.css_first("title")
    title = collapse(title_node.text()) if title_node is not None else ""
    extra: list[LexborNode] = []
    labels: list[LexborNode] = []
    hidden: list[LexborNode] = []
    marks, base_node = _marks(tree, extra, labels, hidden)
    if base_node is not None:
        base = resolve_base(base, base_node.attributes.get("href") or "")
    refresh: list[tuple[int, str]] = []
    if extra:
        sheets: list[tuple[str, str]] = []
        for node in extra:
            _head_element(node, base, url, fetch, sheets, refresh)
        if sheets:
            _hide_styled(tree, marks, sheets, fetch, hidden)
    return Document(tree, url, base, title, marks, refresh, labels)


def _head_element(node: LexborNode, base: URL | None, url: str, fetch: Fetch | None,
                  sheets: list[tuple[str, str]], refresh: list[tuple[int, str]]) -> None:
    """A <style>, <link> or <meta http-equiv>: its sheet or its refresh, if it has one."""
    attrs = node.attributes
    tag = node.tag
    if tag == "meta":
        if (attrs.get("http-equiv") or "").strip().lower() == "refresh":
            found = refresh_target(attrs.get("content") or "")
            if found is not None:
                # no URL: the document's own (not its base), as the standard says
                refresh.append((found[0], resolve_url(base, found[1]) if found[1] else url))
        return
    if tag == "link" and (fetch is None or "stylesheet" not in (attrs.get("rel") or "").lower()):
        return  # <link rel=icon>, rel=canonical...: most links are no sheet
    from .css import media_applies

    if (attrs.get("type") or "text/css").strip().lower() != "text/css" or \
            "disabled" in attrs or not media_applies(attrs.get("media")):
        return
    sheet_url = str(base) if base is not None else url
    if tag == "style":
        sheets.append((node.text(deep=True), sheet_url))
        return
    rel = (attrs.get("rel") or "").lower().split()
    href = (attrs.get("href") or "").strip()
    if "stylesheet" not in rel or "alternate" in rel or not href or fetch is None:
        return
    target = resolve_url(base, href)
    if local_from_web(url, target):
        return
    text = fetch(target)
    if text is not None:
        sheets.append((text, target))


def _hide_styled(tree: LexborHTMLParser, marks: dict[int, Mark], sheets: list[tuple[str, str]],
                 fetch: Fetch | None, hidden: list[LexborNode]) -> None:
    """Mark hidden what the page's sheets hide, and shown what of ``hidden`` (hidden by
    its own attributes) they show (css.py)."""
    from . import css

    hide, show = css.cascade(tree, css.rules(sheets, fetch), css.own_style, hidden)
    for node in show:
        marks[node.mem_id].hidden = False
    for node in hide:
        mark = marks.get(node.mem_id)
        if mark is None:
            marks[node.mem_id] = Mark(hidden=True)
        else:
            mark.hidden = True


_WS = " \t\n\f\r"  # ASCII white space, HTML's


def refresh_target(content: str) -> tuple[int, str] | None:
    """A ``<meta http-equiv=refresh>``'s content as (seconds, URL as written; "" for the
    page itself), or None if it is not one: the HTML Standard's shared declarative
    refresh steps (``5``, ``0; url=x.html``, ``3, 'x.html'``, ``1;URL="x"``)."""
    # Written out rather than as regular expressions: compiling those would cost
    # every page (dom is imported for all) for the few that refresh.
    text = content.lstrip(_WS)
    time = text[:len(text) - len(text.lstrip("0123456789"))]
    if not time and not text.startswith("."):
        return None
    rest = text[len(time):].lstrip("0123456789.")
    if rest and rest[0] not in ";," + _WS:
        return None
    rest = rest.lstrip(_WS)
    if rest[:1] in (";", ","):
        rest = rest[1:].lstrip(_WS)
    seconds = int(time) if time else 0
    if not rest:
        return seconds, ""
    if rest[:3].lower() == "url":
        after = rest[3:].lstrip(_WS)
        if after[:1] == "=":
            rest = after[1:].lstrip(_WS)
    if rest[:1] in ("'", '"'):
        rest = rest[1:].partition(rest[0])[0]
    return seconds, rest.strip(_WS)


def resolve_base(base: URL | None, href: str) -> URL | None:
    try:
        return URL.parse(href, base) if base is not None else URL.parse(href)
    except InvalidURL:
        return base


def resolve_url(base: URL | None, href: str) -> str:
    """An href as an absolute URL; schemes we cannot fetch (mailto:) are kept as written."""
    href = href.strip()
    if base is None:
        return href
    try:
        return str(base.join(href))
    except InvalidURL:
        return href


def collapse(text: str) -> str:
    """White space collapsed as CSS does it, and trimmed."""
    if text.isascii() or text.isprintable():
        # str.split() splits on Unicode spaces too (U+00A0...), which CSS keeps;
        # printable text has no white space but U+0020 to split on.
        return " ".join(text.split())
    return _CSS_SPACE.sub(" ", text).strip(" ")


def _marks(tree: LexborHTMLParser, extra: list[LexborNode], labels: list[LexborNode],
           hidden_by_attrs: list[LexborNode]) -> tuple[dict[int, Mark], LexborNode | None]:
    """What each element's attributes change, and the first <base href>.

    <style>, <link>, <meta> go to ``extra``; the <label for>s to ``labels``; the
    elements that their attributes hide to ``hidden_by_attrs`` (a sheet may show them).
    """
    marks: dict[int, Mark] = {}
    base = None
    for node in css_once(tree, _MARKED):
        tag = node.tag
        if tag in _HEAD_TAGS:
            extra.append(node)
            continue
        attrs = node.attributes
        if tag == "base":
            if base is None and "href" in attrs:
                base = node
        elif tag == "label" and "for" in attrs:
            labels.append(node)
        anchor = attrs.get("id") or (attrs.get("name") if tag == "a" else None)
        hidden = "hidden" in attrs
        display = white_space = None
        no_marker = False
        style = attrs.get("style")
        if style:
            found = _DISPLAY.search(style)
            if found is not None:
                value = found.group(1).lower()
                # style= overrides the UA's [hidden] { display: none }, but not
                # hidden=until-found (content-visibility: hidden: HTML 15.3.1)
                hidden = value == "none" or (
                    hidden and (attrs["hidden"] or "").lower() == "until-found")
                if value in ("block", "list-item", "flex", "grid", "table"):
                    display = "block"
                elif value in ("inline", "inline-block", "inline-flex"):
                    display = "inline"
            hidden = hidden or _VISIBILITY.search(style) is not None
            ws = _WHITE_SPACE.search(style)
            if ws is not None:
                white_space = ws.group(1).lower().replace("break-spaces", "pre-wrap")
            no_marker = _LIST_STYLE.search(style) is not None
        if hidden:
            hidden_by_attrs.append(node)
        if anchor or hidden or display or white_space or no_marker:
            marks[node.mem_id] = Mark(anchor or None, hidden, display, white_space, no_marker)
    return marks, base


def local_from_web(referrer: str, target: str) -> bool:
    """Whether ``target`` is a file of this machine that a page or sheet from the web
    (``referrer``, not file:) asks for: refused, as browsers refuse it ("Not allowed
    to load local resource"), whether by a link, a form, a refresh or a style sheet."""
    return target[:5].lower() == "file:" and referrer[:5].lower() != "file:"


def attr_int(node: LexborNode, name: str, default: int) -> int:
    """An integer attribute (size, rows, colspan...), ``default`` if absent or not a number.

    HTML's rules for parsing integers: ASCII white space, a sign, ASCII digits,
    anything after ignored. A value that does not fit 32 bits is no value, as in
    Blink and Gecko (and 5,000 digits would pass Python's int conversion limit).
    """
    value = node.attributes.get(name)
    if not value:
        return default
    match = _HTML_INT.match(value)
    if match is None or len(match.group(1)) > 11:
        return default
    number = int(match.group(1))
    return number if -2**31 <= number < 2**31 else default
