"""A browsing session: history, the current page, the client that keeps the cookies.

It knows no terminal: the UI (ui.py) asks it to open, follow, go back,
reload, find, submit and save, and shows what it holds. Every navigation
ends on a :class:`Document`, an error page included: a DNS failure, a
refused connection, a timeout, a TLS failure, a missing file or a bug in the
renderer becomes a page that says so, never an exception out of here. The
UI runs these calls off its event loop, one at a time.

History is the browsers' list with a cursor: opening a page drops what was
forward of the cursor; back and forward move it without fetching again (a
document keeps its scroll position and form state, as browsers' back does).
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import unquote

from ..client import errors
from ..client.api import Client
from ..client.decoding import BodyTooLarge, decode_text
from ..client.redirects import TooManyRedirects
from ..http.errors import ProtocolError, SockwebError
from ..http.urls import URL, InvalidURL
from . import forms, layout, load
from .dom import local_from_web, text_without_controls
from .model import Line, Page, Span

TIMEOUT = (10.0, 30.0)  # connect, read: a reader waits about as long as a browser's spinner


@dataclass
class Document:
    """One page in the history: what was fetched, how it renders, where the reader is."""

    url: str
    status: int  # 0 when nothing answered (an error page of our own)
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    content_type: str
    elapsed: float
    page: Page
    request: forms.Submission  # what reload sends again
    error: str | None = None
    top: int = 0  # first line on screen; kept so back returns to it
    focus: int | None = None  # the highlighted link or field (the UI's index)
    defaults: list[tuple[str, bool, list[bool]]] = field(default_factory=list)
    # The page's style sheets as fetched (css.py reads what they hide); kept so
    # that laying the page out again for a new width fetches nothing.
    styles: load.Stylesheets | None = field(default=None, repr=False, compare=False)

    @property
    def title(self) -> str:
        return self.page.title or self.url


@dataclass(frozen=True, slots=True)
class Match:
    line: int
    start: int
    end: int


def resolve(text: str, base: str | None = None) -> str:
    """What the reader typed at "open URL" as an absolute URL.

    A scheme is taken as given; ``#frag`` is on the current page; an existing
    path, or one that starts like a path, is a local file; anything else is a
    host, with http assumed as curl does (``localhost:8000/x``).
    """
    if text.strip().startswith("#") and base:
        return str(URL.parse(text.strip(), URL.parse(base)))
    return load.to_url(text)


class Session:
    """Raises only for a caller's mistake (a link or control number the page lacks)."""

    def __init__(self, width: int = 80, client: Client | None = None, *, verify: bool = True,
                 cacert: str | None = None) -> None:
        self.width = width
        self.client = client or Client(headers={"Accept": load.ACCEPT}, timeout=TIMEOUT,
                                       verify=verify, cacert=cacert)
        self.history: list[Document] = []
        self.index = -1
        self.matches: list[Match] = []
        self.match_index = -1
        self.query = ""

    # -- where we are -----------------------------------------------------------
    @property
    def current(self) -> Document | None:
        return self.history[self.index] if self.index >= 0 else None

    @property
    def can_go_back(self) -> bool:
        return self.index > 0

    @property
    def can_go_forward(self) -> bool:
        return self.index < len(self.history) - 1

    # -- navigating -------------------------------------------------------------
    def open(self, text: str) -> Document:
        """Open what the reader typed: a URL, a bare path, a host."""
        base = self.current.url if self.current else None
        try:
            url = resolve(text, base)
        except InvalidURL as exc:
            return self._push(error_document(text, "Not a URL", str(exc), self.width))
        return self.navigate(forms.Submission("GET", url))

    def follow(self, number: int) -> Document:
        """Follow link ``number`` of the current page."""
        doc = self.current
        if doc is None or not 0 < number <= len(doc.page.links):
            raise IndexError(f"no link {number}")
        url = doc.page.links[number - 1].url
        return self._refused(url) or self.navigate(forms.Submission("GET", url))

    def _refused(self, url: str) -> Document | None:
        """A page from the web may not open a file of this machine, by a link, a form or
        a refresh (browsers say "Not allowed to load local resource"): only the reader
        can, by typing its address. None when ``url`` may be opened."""
        doc = self.current
        if doc is None or not local_from_web(doc.url, url):
            return None
        return self._push(error_document(
            url, "Not allowed to open a local file",
            f"{doc.url} is a page from the web, and {url} a file of this machine: a page "
            "cannot open one. Press o and type the address to open it yourself.", self.width))

    def navigate(self, request: forms.Submission) -> Document:
        doc = self.current
        if (doc is not None and request.method == "GET" and "#" in request.url
                and doc.url.partition("#")[0] == request.url.partition("#")[0]):
            # An in-page link: no fetch, the same page (and form state) at a new place.
            fragment = request.url.partition("#")[2]
            top = doc.page.anchors.get(fragment, doc.page.anchors.get(unquote(fragment), 0))
            return self._push(replace(doc, url=request.url, top=top, focus=None))
        return self._push(self._fetch(request))

    def back(self) -> Document | None:
        if not self.can_go_back:
            return None
        self.index -= 1
        return self._show(self.history[self.index])

    def forward(self) -> Document | None:
        if not self.can_go_forward:
            return None
        self.index += 1
        return self._show(self.history[self.index])

    def reload(self) -> Document | None:
        """Fetch the current page again; a form's POST is sent again (r is the asking)."""
        doc = self.current
        if doc is None:
            return None
        fresh = self._fetch(doc.request)
        fresh.top = min(doc.top, max(len(fresh.page.lines) - 1, 0))
        self.history[self.index] = fresh
        self._clear_find()
        return fresh

    def refresh(self, url: str) -> Document:
        """Follow the page's ``<meta http-equiv=refresh>``: a GET of ``url`` that takes the
        page's place in the history, as the HTML Standard's refresh does ("replace")."""
        refused = self._refused(url)
        if refused is not None:
            return refused
        doc = self._fetch(forms.Submission("GET", url))
        if self.current is None:
            return self._push(doc)
        self.history[self.index] = doc
        self._clear_find()
        return doc

    def resize(self, width: int) -> None:
        """Lay the current page out again for a new terminal width."""
        self.width = width
        if self.current is not None:
            self._show(self.current)

    # -- forms ------------------------------------------------------------------
    def submit(self, control_number: int | None = None,
               form_index: int | None = None) -> Document | None:
        """Submit a form: by the button ``control_number``, or by pressing Enter in a field
        (an implicit submission, forms.implicit_submission: it clicks the form's default
        button; None when the form cannot be submitted so)."""
        doc = self.current
        if doc is None:
            raise LookupError("no page")
        page = doc.page
        submitter = forms.control(page, control_number) if control_number else None
        if submitter is not None and submitter.kind not in forms.SUBMIT_KINDS:
            form_index, submitter = submitter.form, None
        elif submitter is not None:
            form_index = submitter.form
        if form_index is None:
            raise LookupError("that control belongs to no form")
        form = page.forms[form_index]
        if submitter is None:
            allowed, submitter = forms.implicit_submission(page, form)
            if not allowed:
                return None
        try:
            request = forms.submission(page, form, submitter)
        except forms.FormError as exc:
            return self._push(error_document(form.action, "Cannot submit the form",
                                                  str(exc), self.width))
        return self._refused(request.url) or self.navigate(request)

    def reset_form(self, form_index: int) -> None:
        doc = self.current
        if doc is not None:
            forms.reset(doc.page, doc.page.forms[form_index], doc.defaults)

    # -- find in page -----------------------------------------------------------
    def find(self, query: str, from_line: int = 0, page: Page | None = None) -> Match | None:
        """All matches of ``query`` in ``page`` (the current one unless the source or
        headers are shown); the first at or after ``from_line``, wrapping.

        Case is ignored unless the query has a capital, vim's smartcase.
        """
        self.query = query
        doc = self.current
        if page is None and doc is not None:
            page = doc.page
        self.matches = _find(page, query) if page is not None and query else []
        self.match_index = -1
        if not self.matches:
            return None
        after = [i for i, m in enumerate(self.matches) if m.line >= from_line]
        self.match_index = after[0] if after else 0
        return self.matches[self.match_index]

    def next_match(self, step: int = 1) -> Match | None:
        """The next match (``step`` -1: the previous), wrapping around the page."""
        if not self.matches:
            return None
        self.match_index = (self.match_index + step) % len(self.matches)
        return self.matches[self.match_index]

    # -- views and saving -------------------------------------------------------
    def source_page(self) -> Page:
        doc = self.current
        if doc is None:
            return Page("", width=self.width)
        page = layout.text_page(decode_text(doc.body, doc.content_type), doc.url, self.width)
        page.title = f"Source of {doc.url}"
        return page

    def headers_page(self) -> Page:
        doc = self.current
        if doc is None:
            return Page("", width=self.width)
        lines = [f"{doc.request.method} {doc.url}", f"Status: {doc.status} {doc.reason}".rstrip(),
                 f"Load time: {doc.elapsed * 1000:.0f} ms", ""]
        lines += [f"{name}: {value}" for name, value in doc.headers]
        if doc.error:
            lines += ["", f"Error: {doc.error}"]
        page = layout.text_page("\n".join(lines), doc.url, self.width)
        page.title = f"Headers of {doc.url}"
        return page

    def save(self, path: str | None = None) -> str:
        """Write the page's source, byte for byte; returns what happened, in words."""
        doc = self.current
        if doc is None:
            return "nothing to save"
        target = Path(os.path.expanduser(path or default_filename(doc.url)))
        if target.is_dir():
            target = target / default_filename(doc.url)
        try:
            target.write_bytes(doc.body)
        except OSError as exc:
            return f"cannot save {target}: {exc.strerror or exc}"
        return f"saved {len(doc.body)} bytes to {target}"

    def close(self) -> None:
        self.client.close()

    # -- the machinery ----------------------------------------------------------
    def _fetch(self, request: forms.Submission) -> Document:
        doc = fetch(self.client, request, self.width)
        doc.defaults = forms.snapshot(doc.page)
        fragment = doc.url.partition("#")[2] if doc.status else ""
        if fragment:
            doc.top = doc.page.anchors.get(fragment, doc.page.anchors.get(unquote(fragment), 0))
        return doc

    def _push(self, doc: Document) -> Document:
        del self.history[self.index + 1:]
        self.history.append(doc)
        self.index = len(self.history) - 1
        self._clear_find()
        return doc

    def _show(self, doc: Document) -> Document:
        self._clear_find()
        if doc.page.width != self.width:
            relayout(doc, self.width)
        return doc

    def _clear_find(self) -> None:
        self.matches, self.match_index = [], -1


def _find(page: Page, query: str) -> list[Match]:
    fold = query == query.lower()
    needle = query.lower() if fold else query
    found = []
    for number, line in enumerate(page.lines):
        text = line.text.lower() if fold else line.text
        start = text.find(needle)
        while start >= 0:
            found.append(Match(number, start, start + len(needle)))
            start = text.find(needle, start + len(needle))
    return found


def plain_page(url: str, lines: list[str], width: int, title: str = "") -> Page:
    """Lines as a page, cut to the width: the fallback when layout itself fails."""
    rows: list[Line] = []
    for text in lines:
        text = text_without_controls(text)
        while len(text) > width > 0:
            rows.append(Line([Span(text[:width])]))
            text = text[width:]
        rows.append(Line([Span(text)]))
    return Page(url, title, rows, width=width)


def default_filename(url: str) -> str:
    try:
        name = URL.parse(url).path.rstrip("/").rpartition("/")[2]
    except InvalidURL:
        name = ""
    return name or "index.html"


# -- fetching and rendering --------------------------------------------------------

# What each failure is called on its error page, most specific first.
FAILURES: list[tuple[type[BaseException], str]] = [
    (errors.NameResolutionError, "Host not found"),
    (errors.ConnectTimeout, "Connection timed out"),
    (errors.Timeout, "Timed out"),
    (errors.ConnectError, "Connection failed"),
    (errors.CertificateError, "Certificate not trusted"),
    (errors.TLSError, "Secure connection failed"),
    (errors.ProxyError, "Proxy failed"),
    (TooManyRedirects, "Too many redirects"),
    (InvalidURL, "Not a URL"),
    (ProtocolError, "Malformed response"),
    (BodyTooLarge, "Page too large"),
    (load.FileError, "Cannot read the file"),
    (errors.TransportError, "Connection lost"),
    (SockwebError, "Cannot open the page"),
]


def fetch(client: Client, request: forms.Submission, width: int) -> Document:
    """Fetch and render ``request``; any failure becomes an error page."""
    try:
        got = load.load(request.url, client=client, method=request.method,
                        body=request.body, content_type=request.content_type)
    except Exception as exc:
        title = next((t for kind, t in FAILURES if isinstance(exc, kind)), "Unexpected error")
        if title == "Unexpected error":  # a bug of ours: say what, so it can be reported
            detail = f"{type(exc).__name__}: {exc}"
        else:
            detail = str(exc) or type(exc).__name__
        return error_document(request.url, title, detail, width, request)
    doc = Document(got.url, got.status, got.reason, got.headers, got.body, got.content_type,
                   got.elapsed, Page(got.url), request, styles=load.Stylesheets(client))
    relayout(doc, width)
    return doc


def relayout(doc: Document, width: int) -> None:
    """Render the document's body for ``width``, keeping what the reader typed."""
    old = doc.page
    doc.page = render(doc, width)
    if old.controls and len(old.controls) == len(doc.page.controls):
        doc.page.controls = old.controls  # same document, so the same controls in order


def render(doc: Document, width: int) -> Page:
    """HTML and text through layout; anything else a note that it can be saved."""
    kind = doc.content_type.split(";")[0].strip().lower()
    try:
        if not doc.body and doc.status >= 400:
            return _message(doc.url, f"{doc.status} {doc.reason}".strip(),
                            "The server sent no page with this status.", width)
        if not (not kind or "html" in kind or kind.startswith("text/")
                or kind.endswith(("json", "xml", "javascript"))):
            return _message(doc.url, kind, f"{len(doc.body)} bytes that are not text: "
                            "press s to save them.", width)
        return layout.render(doc.body, doc.url, width, content_type=doc.content_type or None,
                             fetch=doc.styles)
    except Exception as exc:
        # The renderer failed on this page (a bug): show its text rather than nothing.
        lines = [f"[sockweb could not render this page: {type(exc).__name__}: {exc}]", ""]
        return plain_page(doc.url, lines + decode_text(doc.body, kind).splitlines(), width)


def _message(url: str, heading: str, detail: str, width: int) -> Page:
    markup = f"<title>{html.escape(heading)}</title><h1>{html.escape(heading)}</h1>" \
        f"<p>{html.escape(detail)}</p>"
    try:
        return layout.render(markup.encode(), url, width)
    except Exception:
        return plain_page(url, [heading, "", detail], width)


def error_document(url: str, heading: str, detail: str, width: int,
                   request: forms.Submission | None = None) -> Document:
    """A page of our own that says what went wrong, with the URL as a link to retry."""
    escaped = html.escape(url)
    markup = (f"<title>{html.escape(heading)}</title><h1>{html.escape(heading)}</h1>"
              f"<p>{html.escape(detail)}</p><p>URL: <a href=\"{escaped}\">{escaped}</a></p>"
              "<p>Press r to try again, h to go back, o to open another URL.</p>")
    doc = Document(url, 0, "", [], markup.encode(), "text/html; charset=utf-8", 0.0, Page(url),
                   request or forms.Submission("GET", url), error=f"{heading}: {detail}")
    doc.page = render(doc, width)
    return doc
