"""sockweb.browser.dom before the parser: control characters, raw or by reference.

Raw controls are dropped from the markup before it is parsed; numeric
references to them (``&#27;``, ``&#x9d``, ``&#0000007;``) would be decoded
by the parser after that, so they are rewritten first. Each case is checked
against what Lexbor makes of the same markup unfiltered: a reference that is
no control must come out exactly as it did.
"""

from __future__ import annotations

import re

import pytest

from sockweb.browser import dom
from sockweb.browser.lexbor import LexborHTMLParser


def _acts_on_a_terminal(text: str) -> bool:
    return any((c < " " and c not in "\t\n") or "\x7f" <= c <= "\x9f" for c in text)


NUMBERS = [*range(0x200), 0x2603, 0xFFFD, 0x10FFFF, 0x110000, 0xD800, 2**32 + 27, 2**64 + 7]


def _forms(n: int) -> list[str]:
    return [f"&#{n};", f"&#{n}", f"&#x{n:x};", f"&#X{n:X}", f"&#000{n};", f"&#x00{n:X}",
            f"&#{'0' * 40}{n};"]


@pytest.mark.parametrize("as_text", [False, True], ids=["utf8-bytes", "decoded-text"])
def test_every_reference_to_a_control_is_rewritten_and_no_other(as_text: bool) -> None:
    cases = [(form, tail) for n in NUMBERS for form in _forms(n) for tail in ("", "z", "9 ")]
    source = "".join(f"<p id=t{i}>[{form}{tail}]</p><p id=a{i} title='{form}{tail}'></p>"
                     for i, (form, tail) in enumerate(cases))
    tree = dom.parse(source if as_text else source.encode(), "file:///x").tree
    raw = LexborHTMLParser(source)
    got_nodes, raw_nodes = tree.css("p"), raw.css("p")
    assert len(got_nodes) == len(raw_nodes) == 2 * len(cases)
    for i, (form, tail) in enumerate(cases):
        for node, unfiltered_node, read in (
                (got_nodes[2 * i], raw_nodes[2 * i], lambda node: node.text()),
                (got_nodes[2 * i + 1], raw_nodes[2 * i + 1],
                 lambda node: node.attributes["title"])):
            got, unfiltered = read(node), read(unfiltered_node)
            assert not _acts_on_a_terminal(got) and "\r" not in got and "\f" not in got, \
                (form, tail, got)
            if not _acts_on_a_terminal(unfiltered) and "\r" not in unfiltered \
                    and "\f" not in unfiltered:
                assert got == unfiltered, (form, tail)
            else:
                assert got != unfiltered


@pytest.mark.parametrize(("written", "value"), [
    ("&#27;[31m", "\ufffd[31m"),
    ("&#x9b;", "\u203a"),  # windows-1252's single right angle quote, as the standard says
    ("&#x9d;", "\ufffd"),  # one of the five the table leaves C1
    ("&#13;", "\n"),
    ("&#13;&#10;", "\n"),  # CRLF is one line break, as in a textarea's value
    ("&#xd;&#xA;", "\n"),
    ("&#13;\n", "\n"),
    ("&#13;&#100;", "\nd"),
    ("&#13;&#xa0;", "\n\xa0"),
    ("&#12;", " "),
    ("\x0c", " "),
    ("\x1b[2J\x07", "[2J"),
])
def test_what_a_control_becomes(written: str, value: str) -> None:
    source = f"<textarea>[{written}]</textarea>"
    for markup in (source, source.encode()):
        assert dom.parse(markup, "x").tree.css_first("textarea").text() == f"[{value}]"


def test_a_form_feed_reference_in_an_unquoted_attribute_does_not_end_it() -> None:
    attrs = dom.parse(b"<input value=a&#12;b name=n>", "x").tree.css_first("input").attributes
    assert attrs == {"value": "a b", "name": "n"}


def test_the_quick_look_finds_what_the_pattern_finds() -> None:
    """_has_control_ref looks at the first "&"s one by one, then lets the pattern
    search the rest: no reference the pattern matches may be missed either way."""
    pattern = re.compile(dom._CONTROL_REF.encode())
    many = b"&amp;" * (dom._AMPERSANDS + 1)
    for n in NUMBERS:
        for form in _forms(n):
            for before in (b"", b"&#8212; &lt;", many):
                for tail in (b"", b";", b"z", b"9", b"f"):
                    data = before + form.encode() + tail
                    if pattern.search(data) is not None:
                        assert dom._has_control_ref(data), data[-60:]
    assert not dom._has_control_ref(b"<p>&#8212; &#x2014; &amp; &#150; &#10; &#9;")
