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
* the cascade is importance, then specificity, then order (CSS Cascade 4
  section 6): an ``!important`` declaration beats every normal one; a
  ``style=`` attribute beats the sheets' normal declarations and loses to
  their ``!important`` ones, unless it is ``!important`` itself;
* the ``hidden`` attribute is the user-agent sheet's ``[hidden] { display:
  none }`` (HTML section 15.3.1), which any author ``display`` overrides
  (``.tab[hidden] { display: block }``, ``style="display: block"``); not so
  ``hidden=until-found``, whose content stays hidden (``content-visibility``);
* ``visibility: hidden`` is inherited and a descendant can be made
  ``visible`` again (CSS 2.1 section 11.2): then the hidden element is not
  hidden whole; what of it lies outside its visible descendants is, its
  element children one by one, and its own text nodes, which layout reads no
  mark for, are taken out of the tree.

Finding what is hidden costs one walk of the tree for all the hiding rules
together (on a page of 88,000 nodes, about 0.3 ms a selector); then each
element found is checked, alone, against the rules that could show it again
(a later or more specific ``display: block``), and only if one does, rule by
rule in cascade order. :func:`cascade` also judges the elements that dom.py
hides by their own attributes (``hidden``, ``style=``), which a sheet can show.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

from ..http.urls import URL, InvalidURL
from .dom import local_from_web, resolve_url
from .lexbor import TEXT, LexborHTMLParser, LexborNode, SelectolaxError, css_once

__all__ = ["Fetch", "Inline", "Rule", "cascade", "hidden_nodes", "media_applies", "own_style",
           "rules"]

# What a sheet's URL gives: its text, or None (missing, too large, not CSS).
Fetch = Callable[[str], "str | None"]
# What an element's own style= sets of display and visibility: {property: (value, important)}.
Inline = Callable[[LexborNode], "dict[str, tuple[str, bool]]"]

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
_IMPORTANT = re.compile(r"!\s*important\s*$")
_PROPS = ("display", "visibility")
_INVISIBLE = frozenset({"hidden", "collapse"})
_VISIBLE = frozenset({"visible", "initial"})  # inherit, unset, revert: the parent's
# Past MAX_EXACT_CHECKS, the value that wins is not known (see each use).
_UNKNOWN = "?"


class Rule:
    """One selector of a rule that sets ``display`` or ``visibility``."""

    __slots__ = ("selector", "rank", "prop", "value", "hides")

    def __init__(self, selector: str, rank: tuple[int, int, int, int, int], prop: str,
                 value: str) -> None:
        self.selector = selector
        self.rank = rank  # (important, ids, classes, types, order): who wins the cascade
        self.prop = prop  # "display" or "visibility"
        self.value = value  # as written, lower case, without its !important
        self.hides = value == "none" if prop == "display" else value in _INVISIBLE

    @property
    def important(self) -> bool:
        return self.rank[0] == 1

    def __repr__(self) -> str:
        return f"Rule({self.selector!r}, {self.rank}, {self.prop}: {self.value})"


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
    found = _declarations(lowered)
    if not found:
        return
    for selector in _split_selectors(prelude):
        if not selector or _UNMATCHABLE.search(selector):
            continue
        ids, classes, types = _specificity(selector)
        for prop, (value, important) in found.items():
            out.append(Rule(selector, (int(important), ids, classes, types, len(out)), prop,
                            value))


def _declarations(lowered: str) -> dict[str, tuple[str, bool]]:
    """The display and visibility of a declaration block (lower case): {property:
    (value, important)}. Of two in one block, the later wins unless only the
    earlier is ``!important``."""
    found: dict[str, tuple[str, bool]] = {}
    for declaration in lowered.split(";"):
        name, colon, value = declaration.partition(":")
        name = name.strip()
        if not colon or name not in _PROPS:
            continue
        value, important = _IMPORTANT.subn("", value.strip())
        value = value.strip()
        if not value:
            continue
        before = found.get(name)
        if before is None or important or not before[1]:
            found[name] = (value, important > 0)
    return found


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


def own_style(node: LexborNode) -> dict[str, tuple[str, bool]]:
    """Of display and visibility, what an element's own style= attribute sets:
    {property: (value, important)}."""
    style = node.attributes.get("style")
    if not style:
        return {}
    lowered = style.lower()
    if "display" not in lowered and "visibility" not in lowered:
        return {}
    return _declarations(lowered)


def _valid(selector: str, probe: LexborHTMLParser) -> bool:
    try:
        probe.css_first(selector)
    except SelectolaxError:
        return False
    return True


def hidden_nodes(tree: LexborHTMLParser, found: list[Rule],
                 inline: Inline = own_style) -> list[LexborNode]:
    """The elements of ``tree`` that the rules ``found`` hide, each once: the first
    list of :func:`cascade`."""
    return cascade(tree, found, inline)[0]


def cascade(tree: LexborHTMLParser, found: list[Rule], inline: Inline = own_style,
            marked: Sequence[LexborNode] = ()) -> tuple[list[LexborNode], list[LexborNode]]:
    """(hidden, shown): the elements of ``tree`` to leave out, each once, and those of
    ``marked`` to show after all.

    ``marked``: the elements that their own attributes hide (dom.py: the
    ``hidden`` attribute, ``style="display: none"`` or ``visibility: hidden``);
    the sheets may show them again (``.tab[hidden] { display: block }``, an
    ``!important`` over a style=). ``inline``: what a node's own ``style=``
    sets (:func:`own_style`).

    An element hidden by ``visibility`` alone that has descendants made
    ``visible`` again is not in ``hidden`` (and is in ``shown`` if marked);
    its other element children are, down to those descendants, and its text
    nodes on the way are removed from ``tree``.
    """
    hidden: list[LexborNode] = []
    shown: list[LexborNode] = []
    usable = _usable(found)
    judge = _Cascade(usable, inline)
    invisible: list[LexborNode] = []  # hidden, maybe by visibility: a descendant may show
    hiding = [r for r in usable if r.hides]
    if hiding:
        candidates = css_once(tree, ", ".join(dict.fromkeys(r.selector for r in hiding)))
        props = {r.prop for r in hiding}
        weakest = {p: min(r.rank for r in hiding if r.prop == p) for p in props}
        # Rules that could show a candidate again: for a property some rule hides, and
        # ranked above the weakest rule that hides it.
        showing = ", ".join(dict.fromkeys(
            r.selector for r in usable if not r.hides and r.prop in weakest
            and r.rank > weakest[r.prop]))
        by_visibility = "visibility" in props
        for node in candidates:
            own = inline(node)
            if not own and not (showing and _matches(node, showing)):
                why: str | None = "visibility" if by_visibility else "display"
            else:
                why = judge.why(node, own)
            if why == "display" or why == "visibility":
                hidden.append(node)
                if why == "visibility":
                    invisible.append(node)  # (or display: none: _Cascade.free sees)
    if marked:
        anything = ", ".join(dict.fromkeys(r.selector for r in usable))
        for node in marked:
            why = judge.why(node, inline(node), bool(anything) and _matches(node, anything))
            if why is None:
                shown.append(node)
            elif why == "visibility":
                invisible.append(node)
    if invisible:
        freed = judge.free(invisible, hidden)
        if freed:  # (two of them may share pieces)
            hidden = list({node.mem_id: node for node in hidden
                           if node.mem_id not in freed}.values())
            shown.extend(node for node in marked if node.mem_id in freed)
    return hidden, shown


def _usable(found: list[Rule]) -> list[Rule]:
    """The rules whose selectors Lexbor can parse."""
    probe = LexborHTMLParser("<p>")
    valid: dict[str, bool] = {}
    usable = []
    for rule in found:
        ok = valid.get(rule.selector)
        if ok is None:
            ok = valid[rule.selector] = _valid(rule.selector, probe)
        if ok:
            usable.append(rule)
    return usable


def _matches(node: LexborNode, selector: str) -> bool:
    """Whether ``node`` itself matches (``css_first`` walks its subtree, itself first)."""
    first = node.css_first(selector)
    return first is not None and first.mem_id == node.mem_id


def _has_element_child(node: LexborNode) -> bool:
    child = node.child
    while child is not None:
        if child.is_element_node:
            return True
        child = child.next
    return False


class _Cascade:
    """The cascade for one element at a time, rule by rule, strongest first; at most
    MAX_EXACT_CHECKS selector matches for a page."""

    __slots__ = ("ranked", "inline", "checks", "usable")

    def __init__(self, usable: list[Rule], inline: Inline) -> None:
        self.usable = usable
        self.ranked = {prop: sorted((r for r in usable if r.prop == prop),
                                    key=lambda r: r.rank, reverse=True) for prop in _PROPS}
        self.inline = inline
        self.checks = 0

    def value(self, node: LexborNode, prop: str, own: dict[str, tuple[str, bool]],
              rules: bool = True) -> str | None:
        """The value of ``prop`` that wins for ``node`` (None: no author sets it;
        _UNKNOWN: past MAX_EXACT_CHECKS). ``own``: its style=; ``rules``: False when
        no rule can match it."""
        mine = own.get(prop)
        if mine is not None and mine[1]:
            return mine[0]  # style="...!important" beats everything
        for rule in self.ranked[prop] if rules else ():
            if mine is not None and not rule.important:
                return mine[0]  # style= beats every normal declaration
            self.checks += 1
            if self.checks > MAX_EXACT_CHECKS:
                return _UNKNOWN
            if _matches(node, rule.selector):
                return rule.value
        return None if mine is None else mine[0]

    def why(self, node: LexborNode, own: dict[str, tuple[str, bool]],
            rules: bool = True) -> str | None:
        """Why ``node`` is hidden: "display" (its subtree is gone), "visibility" (a
        descendant can show again), None if it is not; or _UNKNOWN."""
        attrs = node.attributes
        ua_hidden = "hidden" in attrs  # [hidden] { display: none }, the UA sheet's
        if ua_hidden and (attrs["hidden"] or "").lower() == "until-found":
            return "display"  # content-visibility: hidden, which no display shows
        display = self.value(node, "display", own, rules)
        if display == _UNKNOWN:
            return _UNKNOWN
        # (revert-layer: Chromium's answer, as its innerText gives it)
        if display == "none" or (ua_hidden and display in (None, "revert-layer")):
            return "display"
        visibility = self.value(node, "visibility", own, rules)
        if visibility == _UNKNOWN:
            return _UNKNOWN
        return "visibility" if visibility in _INVISIBLE else None

    def free(self, invisible: list[LexborNode], hidden: list[LexborNode]) -> set[int]:
        """The elements of ``invisible`` with a descendant made visible again: for
        each, its pieces outside those descendants are added to ``hidden`` and its
        text nodes on the way to them removed from the tree. Their mem_ids."""
        rescuers = [r.selector for r in self.usable
                    if r.prop == "visibility" and r.value in _VISIBLE]
        query = ", ".join(dict.fromkeys([*rescuers, "[style*=visib i]"]))
        freed: set[int] = set()
        texts: list[LexborNode] = []
        seen: set[int] = set()
        for top in invisible:
            if top.mem_id in seen or not _has_element_child(top):
                continue
            seen.add(top.mem_id)
            matched = {node.mem_id: node for node in top.css(query)}
            matched.pop(top.mem_id, None)
            visible = [node for node in matched.values()
                       if self.value(node, "visibility", self.inline(node)) in _VISIBLE]
            if not visible or self.why(top, self.inline(top)) != "visibility":
                continue
            freed.add(top.mem_id)
            _pieces(top, visible, hidden, texts)
        for text in texts:
            text.decompose()
        return freed


def _pieces(top: LexborNode, visible: list[LexborNode], hidden: list[LexborNode],
            texts: list[LexborNode]) -> None:
    """What of ``top`` lies outside ``visible`` (its descendants, in document order):
    the element children of ``top`` and of the elements down to each visible one, to
    ``hidden``; their text children, to ``texts``."""
    shown = {node.mem_id for node in visible}
    path = {top.mem_id: top}
    kept = set(shown)
    for node in visible:
        way: list[LexborNode] = []
        up = node.parent
        while up is not None and up.mem_id != top.mem_id and up.mem_id not in shown:
            way.append(up)
            up = up.parent
        if up is None or up.mem_id in shown:
            continue  # inside another visible one, which shows it whole
        for element in way:
            path[element.mem_id] = element
            kept.add(element.mem_id)
    for element in path.values():
        child = element.child
        while child is not None:
            if child.mem_id not in kept:
                if child.tag_id == TEXT:
                    texts.append(child)
                elif child.is_element_node:
                    hidden.append(child)
            child = child.next
