"""Inline content, for layout's builder: text, white space, styles, links, images.

White space follows CSS ``white-space``: in ``normal`` and ``nowrap`` runs of
spaces, tabs and newlines collapse to one space (U+00A0 is not white space and
stays), none at the start of a line, none before a line's end; in ``pre``,
``pre-wrap`` and ``pre-line`` they are kept (``pre-line`` keeps only the
newlines). Text goes into *runs*, (text, style) pairs; consecutive text in one
style is one run.

A link is its ``[n]`` then its text, one run in the link's style; the number
is given when the ``<a href>`` opens and written before the first thing it
shows (after a leading space, not before it); a link that shows nothing is no
link. Its URL is made absolute against the document's base: the part before
"#" once per page, the fragment appended as it is when it needs no encoding,
which is most of the work on an index page of 17,000 links.

``<sup>`` and ``<sub>`` show marks around them, ``2^10`` and ``x[i]``, as in
lynx and w3m.

An image is ``[alt]``; ``alt=""`` is decoration and shows nothing; without
alt an image shows nothing, unless it is all its link has, when its file
name stands for it.
"""

from __future__ import annotations

from ..http.urls import plain_relative_path
from . import dom
from .builder_base import BuilderBase
from .dom import LexborNode, collapse
from .flow import PLAIN, St
from .lexbor import TEXT as _TEXT
from .model import BOLD, CODE, ITALIC, LINK, UNDERLINE, Link

__all__ = ["INLINE_STYLE", "InlineMixin"]

# Superscripts and subscripts show marks around them, as lynx and w3m have it
# (2^10, x[i]), in the text and on the screen alike: flattened, 2<sup>10</sup>
# would read 210. Their handler is around(), not styled(): the --dump shortcuts
# for <code> and for a link's lone text (layout's lone_text) then pass them by
# without a test of their own.
AROUND = {"sup": ("^", ""), "sub": ("[", "]")}
# The elements layout hands to styled() (its table of handlers is keyed by this).
INLINE_STYLE = {
    "b": BOLD, "strong": BOLD, "i": ITALIC, "em": ITALIC, "cite": ITALIC, "dfn": ITALIC,
    "var": ITALIC, "u": UNDERLINE, "ins": UNDERLINE, "code": CODE, "kbd": CODE, "samp": CODE,
    "tt": CODE,
}
_SPACE = " \t\n\r\f"
_COLLAPSING = frozenset({"normal", "nowrap"})
# Text in one style joins the run before it while that run is shorter than
# this; past it a new run of the same style starts, and layout's flush joins
# them all at once (split_runs). Joining each piece as it came copied a
# paragraph of 200,000 <span>s once per span, quadratic (8.6 s; lynx: 0.07).
RUN_JOIN = 512


def _plain_fragment(fragment: str) -> bool:
    """Printable ASCII without any of the WHATWG fragment percent-encode set (space
    " < > `): a fragment that is appended to its URL as it is."""
    return (fragment.isascii() and fragment.isprintable() and " " not in fragment
            and '"' not in fragment and "<" not in fragment and ">" not in fragment
            and "`" not in fragment)


class InlineMixin(BuilderBase):
    """The inline half of layout's builder; the state is the builder's (layout.py)."""

    sp: bool  # the flow so far ends in a collapsible space (or is empty)
    breaks: bool  # the runs hold "\n"
    ws: str  # CSS white-space
    keep: bool  # white space is kept (pre, pre-wrap, pre-line)
    link_pending: int | None  # a link whose [n] is not out yet
    link_text: list[str] | None
    link_image: str
    _styles: dict[tuple[frozenset[str], str], frozenset[str]]
    _urls: dict[str, str]
    _linked: dict[frozenset[str], frozenset[str]]  # styles -> styles with LINK

    def text(self, t: str) -> None:
        if self.keep:
            self._kept_text(t)
            return
        body = " ".join(t.split()) if t.isascii() else collapse(t).replace("\xad", "")
        if not body:
            if t and not self.sp:
                self._emit(" ", self.st)
                self.sp = True
            return
        if self.link_text is not None:
            self.link_text.append(body)
        if t[0] in _SPACE and not self.sp:
            if self.link_pending is not None:
                self._emit(" ", self.runs[-1][1] if self.runs else PLAIN)
            else:
                body = " " + body
        if self.link_pending is not None:
            self._link_marker()
        if t[-1] in _SPACE:
            body += " "
            self.sp = True
        else:
            self.sp = False
        st = self.st
        runs = self.runs
        if runs and runs[-1][1] is st:
            if len(runs[-1][0]) < RUN_JOIN:
                runs[-1] = (runs[-1][0] + body, st)
            else:
                runs.append((body, st))
                self.split_runs = True
        else:
            runs.append((body, st))

    def _kept_text(self, t: str) -> None:
        t = t.replace("\r\n", "\n").replace("\r", "\n")
        if self.ws == "pre-line":
            t = "\n".join(" ".join(line.split()) for line in t.split("\n"))
        if not t:
            return
        if self.link_text is not None:
            self.link_text.append(t)
        if self.link_pending is not None:
            self._link_marker()
        self.breaks = self.breaks or "\n" in t
        self.sp = False
        self._emit(t, self.st)

    def atom(self, t: str, st: St) -> None:
        """Text that is not the document's own: [alt], a field."""
        if self.link_text is not None:
            self.link_text.append(t)
        if self.link_pending is not None:
            self._link_marker()
        self._emit(t, st)
        self.sp = False

    def _emit(self, t: str, st: St) -> None:
        runs = self.runs
        if runs and runs[-1][1] is st:
            if len(runs[-1][0]) < RUN_JOIN:
                runs[-1] = (runs[-1][0] + t, st)
            else:
                runs.append((t, st))
                self.split_runs = True
        else:
            runs.append((t, st))

    def _link_marker(self) -> None:
        # The marker takes the link's own style: "[12]text" is one span, one
        # target for the reader (and 17,000 fewer spans on genindex-all.html).
        self._emit(f"[{self.link_pending}]", self.st)
        self.link_pending = None

    def with_style(self, style: str) -> St:
        styles, link, control = self.st
        merged = self._styles.get((styles, style))
        if merged is None:
            merged = self._styles[(styles, style)] = styles | {style}
        return (merged, link, control)

    def styled(self, node: LexborNode) -> None:
        if self.line_width is not None:
            self.walk(node)  # text only: no style shows (<code> in 9,000 links of contents.html)
            return
        old = self.st
        self.st = self.with_style(INLINE_STYLE[node.tag or "b"])
        self.walk(node)
        self.st = old

    def around(self, node: LexborNode) -> None:
        """<sup>, <sub>: their content between marks (see AROUND)."""
        marks = AROUND[node.tag or "sup"]
        self.atom(marks[0], self.st)
        self.walk(node)
        if marks[1]:
            self.atom(marks[1], self.st)

    def nobr(self, node: LexborNode) -> None:
        old = self.ws
        if old == "normal":
            self.set_ws("nowrap")
        self.walk(node)
        self.set_ws(old)

    def br(self, node: LexborNode) -> None:
        runs = self.runs
        if runs and self.sp and not self.keep:
            text, st = runs[-1]
            runs[-1] = (text.rstrip(" "), st)
        self._emit("\n", runs[-1][1] if runs else PLAIN)
        self.breaks = True
        self.sp = True

    def resolve(self, href: str) -> str:
        """An href made absolute; the part before "#" is joined once per page."""
        head, hash_, fragment = href.partition("#")
        joined = self._urls.get(head)
        if joined is None:
            base = self.document.base
            if base is not None and plain_relative_path(head):
                directory = self._urls.get("#dir")  # no head has "#": a key of its own
                if directory is None:
                    directory = self._urls["#dir"] = base.directory()
                joined = directory + head
            else:
                joined = dom.resolve_url(base, head).partition("#")[0]
            self._urls[head] = joined
        if not hash_:
            return joined
        if _plain_fragment(fragment):
            return f"{joined}#{fragment}"
        return dom.resolve_url(self.document.base, href)

    def anchor(self, node: LexborNode) -> None:
        try:
            href = node.attrs["href"]  # the quickest way to one attribute (not a dict of all)
        except KeyError:
            href = None
        if href is None:  # no href, or one without a value
            self.walk(node)
            return
        links = self.page.links
        number = len(links) + 1
        child = node.child
        if (child is not None and child.tag_id != _TEXT and self.line_width is not None
                and child.next is None):
            # Text only: <a href><code><span>words</span></code></a> (9,000 of
            # the 14,000 links of contents.html) shows what <a href>words</a> does.
            # (A <sup> on the way, a footnote's <a href><sup>1</sup></a>, is no
            # plain wrapper to lone_text: the link takes the general way, its mark kept.)
            child = self.lone_text(child)
        if (child is not None and child.tag_id == _TEXT and child.next is None
                and not self.keep and self.link_text is None):
            # The common link, <a href>words</a>, without the general machinery.
            t = child.text_content or ""
            body = " ".join(t.split()) if t.isascii() else collapse(t).replace("\xad", "")
            if body:
                # resolve(), inlined for the common case: a base seen before, a plain fragment.
                head, hash_, fragment = href.partition("#")
                joined = self._urls.get(head)
                if joined is not None and hash_ and _plain_fragment(fragment):
                    url = f"{joined}#{fragment}"
                else:
                    url = self.resolve(href)
                links.append(Link(number, url, body))
                st = self.st
                if not self.sp and t[0] in _SPACE:
                    self._emit(" ", st)
                if self.line_width is None:
                    linked = self._linked.get(st[0])
                    if linked is None:
                        linked = self._linked[st[0]] = st[0] | {LINK}
                    st = (linked, number, st[2])
                # else text only, where no style shows (see layout's flush): the
                # run need not be the link's own.
                if t[-1] in _SPACE:
                    self.runs.append((f"[{number}]{body} ", st))
                    self.sp = True
                else:
                    self.runs.append((f"[{number}]{body}", st))
                    self.sp = False
                return
        st = self.st
        linked = self._linked.get(st[0])
        if linked is None:
            linked = self._linked[st[0]] = st[0] | {LINK}
        link = Link(number, self.resolve(href), "")
        links.append(link)
        saved = self.st, self.link_pending, self.link_text, self.link_image
        self.st = (linked, number, st[2])
        self.link_pending, self.link_text, self.link_image = number, [], ""
        self.walk(node)
        if self.link_pending == number and self.link_image:
            self.atom(f"[{self.link_image}]", self.st)
        if self.link_pending == number and links[-1] is link:
            links.pop()  # nothing of it is shown: not a link the reader can see
        texts = self.link_text
        link.text = texts[0] if texts and len(texts) == 1 else collapse(" ".join(texts or ()))
        self.st, self.link_pending, self.link_text, self.link_image = saved

    def image(self, node: LexborNode) -> None:
        attrs = node.attributes
        if "alt" in attrs:
            alt = collapse(attrs["alt"] or "")
            if alt:
                self.atom(f"[{alt}]", self.st)
        elif self.link_pending is not None:
            src = (attrs.get("src") or "").partition("?")[0].rstrip("/")
            self.link_image = src.rpartition("/")[2] or "image"

    def frame(self, node: LexborNode) -> None:
        """<iframe>, <frame>: a link to what it would show."""
        attrs = node.attributes
        src = attrs.get("src")
        if not src:
            return
        number = len(self.page.links) + 1
        name = collapse(attrs.get("title") or attrs.get("name") or "")
        self.page.links.append(Link(number, self.resolve(src), name or node.tag or ""))
        shown = f"[{number}][{node.tag}: {name}]" if name else f"[{number}][{node.tag}]"
        self.atom(shown, (frozenset({LINK}), number, None))

    def quote(self, node: LexborNode) -> None:
        self.atom('"', self.st)
        self.walk(node)
        self.atom('"', self.st)

    def set_ws(self, ws: str) -> None:
        self.ws = ws
        self.keep = ws not in _COLLAPSING
