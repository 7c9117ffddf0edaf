"""Pages nobody here wrote: Debian's Python documentation, beside lynx -dump.

A few pages of python3-doc are dumped by sockweb and by lynx; their words
(``\\w+``, link numbers and drawn fields aside) must come in nearly the same
order, and no word that only a page's scripts and styles hold may appear in
sockweb's dump. The full comparison with w3m and Chromium is
benchmarks/browser_compare.py (figures in benchmarks/BROWSER.md).
"""

from __future__ import annotations

import difflib
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from sockweb.browser import layout, paint

CORPUS = Path("/usr/share/doc/python3-doc/html")
PAGES = ["library/json.html", "tutorial/controlflow.html", "genindex-J.html"]
_WORDS = re.compile(r"\w+")
_NOISE = re.compile(r"\[\d+\]|_{2,}")

def test_corpus_tools_are_installed() -> None:
    """.ci/run installs them; a missing one must fail here, not skip quietly."""
    assert shutil.which("lynx") is not None, "apt-get install lynx"
    assert CORPUS.is_dir(), "apt-get install python3-doc"


def words(text: str) -> list[str]:
    return _WORDS.findall(_NOISE.sub(" ", text.split("\nReferences\n\n", 1)[0]))


def sockweb_dump(page: Path) -> str:
    return paint.dump(layout.render(page.read_bytes(), page.as_uri(), 80,
                                    content_type="text/html"))


@pytest.mark.parametrize("name", PAGES)
def test_same_words_in_the_same_order_as_lynx(name: str) -> None:
    page = CORPUS / name
    if not page.exists():
        pytest.skip(f"{name} is not in this python3-doc")
    lynx = subprocess.run(["lynx", "-dump", "-nolist", "-width=80", "-display_charset=utf-8",
                           str(page)], capture_output=True, timeout=60, check=True)
    ours, theirs = words(sockweb_dump(page)), words(lynx.stdout.decode("utf-8", "replace"))
    ratio = difflib.SequenceMatcher(None, ours, theirs, autojunk=False).ratio()
    assert ratio > 0.95, (name, ratio)


@pytest.mark.parametrize("name", PAGES)
def test_nothing_from_scripts_or_styles(name: str) -> None:
    page = CORPUS / name
    if not page.exists():
        pytest.skip(f"{name} is not in this python3-doc")
    tree = LexborHTMLParser(page.read_text(encoding="utf-8"))
    hidden = {w for node in tree.css("script, style") for w in words(node.text())}
    for node in tree.css("script, style"):
        node.decompose()
    visible = set(words(tree.root.text() if tree.root is not None else ""))
    secret = {w for w in hidden - visible if len(w) > 3}
    assert secret, "the page should have script words to look for"
    assert not secret & set(words(sockweb_dump(page)))


def test_links_of_a_corpus_page_are_absolute_file_urls() -> None:
    page = CORPUS / PAGES[0]
    if not page.exists():
        pytest.skip("page missing")
    rendered = layout.render(page.read_bytes(), page.as_uri(), 80, content_type="text/html")
    assert rendered.links
    for link in rendered.links:
        assert link.url.startswith(("file:///", "http://", "https://", "mailto:")), link.url
