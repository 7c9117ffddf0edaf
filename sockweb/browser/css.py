"""Style sheets, read for the one thing a text browser needs of them: what is hidden.

A page's ``<style>`` elements and ``<link rel=stylesheet>`` sheets (with their
``@import``s) are read, in document order, for the rules that set
``display`` or ``visibility``; an element is left out of the page when the
rule that wins the cascade for it says ``display: none`` or ``visibility:
hidden`` (``collapse``), as a graphical browser leaves it out of the screen
and ``innerText``. Everything else a sheet says is ignored.

Parsing is the standard library's and deliberately small (CSS Syntax Level 3
cut down): comments stripped, rules split at braces counted outside strings,
declarations at ``;``. What is applied is chosen to be conservative, so that
nothing a browser shows is ever hidden:

* rules at the top level and in ``@media`` blocks whose query list holds
  ``all`` or ``screen`` with no condition (``only`` allowed); not ``@media
  print``, ``(max-width: ...)``, ``@supports``, ``@layer``, ``@container``;
* selectors are matched by Lexbor (selectolax's ``css()``), never by code
  here; a selector it cannot parse is skipped, and so is one that names a
  pseudo-element (``::before``: generated content, which is not drawn) or a
  state the reader's terminal never has (``:hover``, ``:focus``...);
* the cascade is specificity, then order; ``!important`` is not given its
  precedence (its declaration counts as a normal one); a ``style=``
  attribute beats every sheet (layout already reads it, dom.py);
* ``visibility: hidden`` hides the element's whole subtree (a descendant made
  ``visible`` again stays hidden: rare, and a loss of text, not a leak).

Finding what is hidden costs one walk of the tree for all the hiding rules
together (on a page of 88,000 nodes, about 0.3 ms a selector); then each
element found is checked, alone, against the rules that could show it again
(a later or more specific ``display: block``), and only if one does, rule by
rule in cascade order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from ..http.urls import URL, InvalidURL
from .dom import local_from_web, resolve_url
from .lexbor import LexborHTMLParser, LexborNode, SelectolaxError, css_once

__all__ = ["Fetch", "Rule", "hidden_nodes", "media_applies", "own_style", "rules"]

# What a sheet's URL gives: its text, or None (missing, too large, not CSS).
Fetch = Callable[[str], "str | None"]

MAX_IMPORT_DEPTH = 4  # @import inside @import: browsers allow more; real sheets nest 3 deep
# @media inside @media: real sheets nest two or three; a sheet of thousands would
# otherwise recurse past Python's limit. Deeper blocks are not applied.
MAX_MEDIA_DEPTH = 32
# Exact checks for elements matched by both a hiding and a showing rule, at
# most this many (each walks the element's subtree): past it, the element is
# shown, the conservative answer.
MAX_EXACT_CHECKS = 2000

_COMMENT = re.compile(r"/\*.*?(?:\*/|\Z)", re.DOTALL)
_SIGNIFICANT = re.compile(r"""[{};"'\\]""")
# A rule as most are written: a prelude and a block with no braces, strings or escapes
# in them; read in one match (as the scan below would read it) instead of at each ";".
_PLAIN_RULE = re.compile(r"""([^{};"'\\]*)\{([^{}"'\\]*)\}""")
_IMPORT = re.compile(
    r"""@import\s+(?:url\(\s*(?:"([^"]*)"|'([^']*)'|([^)\s]*))\s*\)|"([^"]*)"|'([^']*)')\s*(.*)""",
    re.DOTALL | re.IGNORECASE)
_MEDIA_OK = re.compile(r"(?:only\s+)?(?:all|screen)", re.IGNORECASE)
# Pseudo-elements (old single-colon spellings too) and states a terminal page is never in.
_UNMATCHABLE = re.compile(
    r"::|:(?:before|after|first-line|first-letter|hover|active|focus|focus-within|"
    r"focus-visible|visited|target|target-within|placeholder-shown|autofill|playing|paused|"
    r"fullscreen|modal|popover-open|picture-in-picture|user-invalid|user-valid)\b",
    re.IGNORECASE)
_SPEC_ID = re.compile(r"#[-\w\\]+")
_SPEC_CLASS = re.compile(r"\.[-\w\\]+|\[[^\]]*\]|:(?!not\(|is\(|where\(|has\()[-\w]+")
_SPEC_TYPE = re.compile(r"(?:^|[\s>+~(,])([a-zA-Z][-\w]*)")
_WHERE = re.compile(r":where\([^()]*\)")
_STRING = re.compile(r""""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'""")
_OWN_STYLE = re.compile(r"(?:^|;)\s*(display|visibility)\s*:", re.IGNORECASE)


class Rule:
    """One selector of a rule that sets ``display`` or ``visibility``."""

    __slots__ = ("selector", "rank", "prop", "hides")

    def __init__(self, selector: str, rank: tuple[int, int, int, int], prop: str,
                 hides: bool) -> None:
        self.selector = selector
        self.rank = rank  # (ids, classes, types, order): who wins the cascade
        self.prop = prop  # "display" or "visibility"
        self.hides = hides

    def __repr__(self) -> str:
        return f"Rule({self.selector!r}, {self.rank}, {self.prop}, hides={self.hides})"


def media_applies(media: str | None) -> bool:
    """Whether a media query list (``@media``'s, a ``media=`` attribute) surely holds on a
    screen: empty, or one of its queries is ``all`` or ``screen`` without a condition."""
    if media is None or not media.strip():
        return True
    return any(_MEDIA_OK.fullmatch(query.strip()) for query in media.split(","))


def rules(sheets: list[tuple[str, str]], fetch: Fetch | None = None) -> list[Rule]:
    """The display and visibility rules of ``sheets`` ((CSS text, its URL), in document
    order), ``@import``ed sheets fetched with ``fetch`` and read in their place."""
    out: list[Rule] = []
    for text, url in sheets:
        _read_sheet(text, url, fetch, out, 0, 0)
    return out


def _read_sheet(text: str, url: str, fetch: Fetch | None, out: list[Rule], depth: int,
                media_depth: int) -> None:
    lowered = text.lower()
    if "@import" not in lowered and ("{" not in text or (
            "display" not in lowered and "visibility" not in lowered)):
        return  # no rule of it could hide anything (a syntax-colouring sheet)
    text = _COMMENT.sub(" ", text) if "/*" in text else text
    for prelude, block in _blocks(text):
        if block is None:  # a statement: @import, @charset, @namespace...
            if fetch is not None and depth < MAX_IMPORT_DEPTH and \
                    prelude[:7].lower() == "@import":
                _import(prelude, url, fetch, out, depth)
            continue
        if prelude.startswith("@"):
            name, _, condition = prelude[1:].partition(" ")
            if name.lower() == "media" and media_depth < MAX_MEDIA_DEPTH and \
                    media_applies(condition):
                _read_sheet(block, url, fetch, out, depth, media_depth + 1)
            continue  # @supports, @layer, @font-face, @keyframes, @page...: not applied
        _read_rule(prelude, block, out)


def _import(statement: str, url: str, fetch: Fetch, out: list[Rule], depth: int) -> None:
    found = _IMPORT.match(statement)
    if found is None:
        return
    href = next((g for g in found.groups()[:5] if g is not None), "")
    condition = found.group(6).strip()
    if not href or (condition and not media_applies(condition)):
        return
    try:
        target = resolve_url(URL.parse(url), href) if url else href
    except InvalidURL:
        return
    if local_from_web(url, target):
        return  # a sheet from the web importing a file of this machine
    text = fetch(target)
    if text is not None:
        _read_sheet(text, target, fetch, out, depth + 1, 0)


def _blocks(text: str) -> Iterator[tuple[str, str | None]]:
    """The top-level rules of ``text``: (prelude, block) pairs, block None for a statement
    ended by ";". Braces and ";" inside strings do not count; an unclosed block ends
    with the text, as CSS says."""
    start = 0
    depth = 0
    open_at = 0
    prelude = ""
    pos = 0
    n = len(text)
    plain = _PLAIN_RULE.match
    while pos < n:
        if depth == 0:
            rule = plain(text, pos)
            if rule is not None:
                yield text[start:rule.end(1)].strip(), rule.group(2)
                pos = start = rule.end()
                continue
        found = _SIGNIFICANT.search(text, pos)
        if found is None:
            break
        ch = found.group()
        pos = found.end()
        if ch == "\\":
            pos += 1
        elif ch in "\"'":
            end = _STRING.match(text, found.start())
            pos = end.end() if end is not None else n
        elif ch == "{":
            if depth == 0:
                prelude = text[start:found.start()].strip()
                open_at = pos
            depth += 1
        elif ch == "}":
            if depth == 0:
                start = pos  # a stray "}": dropped
                continue
            depth -= 1
            if depth == 0:
                yield prelude, text[open_at:found.start()]
                start = pos
        elif depth == 0:  # ";" ends a statement at the top level
            yield text[start:found.start()].strip(), None
            start = pos
    if depth:
        yield prelude, text[open_at:]


def _read_rule(prelude: str, block: str, out: list[Rule]) -> None:
    lowered = block.lower()
    if "display" not in lowered and "visibility" not in lowered:
        return  # most rules: colours, fonts, margins
    found: dict[str, bool] = {}
    for declaration in lowered.split(";"):
        name, colon, value = declaration.partition(":")
        name = name.strip()
        if not colon or name not in ("display", "visibility"):
            continue
        value = value.replace("!important", "").strip()
        if not value:
            continue
        # The last declaration in a block wins, as in the cascade.
        found[name] = value == "none" if name == "display" else value in ("hidden", "collapse")
    if not found:
        return
    for selector in _split_selectors(prelude):
        if not selector or _UNMATCHABLE.search(selector):
            continue
        ids, classes, types = _specificity(selector)
        for prop, hides in found.items():
            out.append(Rule(selector, (ids, classes, types, len(out)), prop, hides))


def _split_selectors(prelude: str) -> list[str]:
    """A selector list split at its top-level commas (not in :is(a, b) or [x="a,b"])."""
    if "(" not in prelude and "[" not in prelude:
        return [s.strip() for s in prelude.split(",")]
    parts: list[str] = []
    depth = 0
    quote = ""
    start = 0
    for i, ch in enumerate(prelude):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(prelude[start:i].strip())
            start = i + 1
    parts.append(prelude[start:].strip())
    return parts


def _specificity(selector: str) -> tuple[int, int, int]:
    """(ids, classes/attributes/pseudo-classes, types) of a selector, as CSS counts them
    (``:is()``/``:not()`` by their arguments, counted all; ``:where()`` as nothing)."""
    if ":where(" in selector:
        selector = _WHERE.sub("", selector)
    plain = _STRING.sub('""', selector) if ('"' in selector or "'" in selector) else selector
    ids = len(_SPEC_ID.findall(plain))
    classes = len(_SPEC_CLASS.findall(plain))
    types = len(_SPEC_TYPE.findall(_SPEC_CLASS.sub(" ", _SPEC_ID.sub(" ", plain))))
    return ids, classes, types


def own_style(node: LexborNode) -> set[str]:
    """Of display and visibility, what an element's own style= attribute sets."""
    style = node.attributes.get("style")
    return {p.lower() for p in _OWN_STYLE.findall(style)} if style else set()


def _valid(selector: str, probe: LexborHTMLParser) -> bool:
    try:
        probe.css_first(selector)
    except SelectolaxError:
        return False
    return True


def hidden_nodes(tree: LexborHTMLParser, found: list[Rule],
                 inline: Callable[[LexborNode], set[str]]) -> list[LexborNode]:
    """The elements of ``tree`` that the rules ``found`` hide, in document order.

    ``inline``: the properties (of "display", "visibility") a node's own
    ``style=`` sets; the sheets' say on those does not count for it.
    """
    if not any(rule.hides for rule in found):
        return []
    probe = LexborHTMLParser("<p>")
    valid: dict[str, bool] = {}
    usable = []
    for rule in found:
        ok = valid.get(rule.selector)
        if ok is None:
            ok = valid[rule.selector] = _valid(rule.selector, probe)
        if ok:
            usable.append(rule)
    hiding = [r for r in usable if r.hides]
    if not hiding:
        return []
    candidates = css_once(tree, ", ".join(dict.fromkeys(r.selector for r in hiding)))
    if not candidates:
        return []
    props = {r.prop for r in hiding}
    weakest = {p: min(r.rank for r in hiding if r.prop == p) for p in props}
    # Rules that could show a candidate again: for a property some rule hides, and
    # ranked above the weakest rule that hides it.
    showing = ", ".join(dict.fromkeys(
        r.selector for r in usable if not r.hides and r.prop in weakest
        and r.rank > weakest[r.prop]))
    checks = [0]
    out = []
    for node in candidates:
        own = inline(node)
        if (own or (showing and _matches(node, showing))) and \
                not _hidden_exactly(node, usable, own, checks):
            continue
        out.append(node)
    return out


def _matches(node: LexborNode, selector: str) -> bool:
    """Whether ``node`` itself matches (``css_first`` walks its subtree, itself first)."""
    first = node.css_first(selector)
    return first is not None and first.mem_id == node.mem_id


def _hidden_exactly(node: LexborNode, found: list[Rule], own: set[str],
                    checks: list[int]) -> bool:
    """The cascade for one element, rule by rule, strongest first."""
    for prop in ("display", "visibility"):
        if prop in own:
            continue
        for rule in sorted((r for r in found if r.prop == prop), key=lambda r: r.rank,
                           reverse=True):
            checks[0] += 1
            if checks[0] > MAX_EXACT_CHECKS:
                return False
            if _matches(node, rule.selector):
                if rule.hides:
                    return True
                break
    return False
