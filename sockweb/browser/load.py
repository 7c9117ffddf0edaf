"""Fetching what the browser shows: http and https through sockweb's client, files from disk.

:func:`load` turns a URL (or a bare path) into a :class:`Resource`: the final
URL after redirects, the status, the headers, the body's bytes (content
codings undone, charset not yet), its content type and how long it took.
Errors are sockweb's: the client's for the network (NameResolutionError,
ConnectError, TLSError...), :class:`FileError` for a file that cannot be
read, InvalidURL for text that is no URL. A 404 is not an error: its page
is a Resource like any other, as a browser shows it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping

from ..client.errors import TransportError
from ..http.urls import URL, InvalidURL

# typing costs every start ~3 ms to import; annotations need it only for mypy.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..client.api import Client

__all__ = ["ACCEPT", "FileError", "Resource", "Stylesheets", "load", "sniff", "to_url"]

# Pages, not APIs: ask for HTML first, as browsers do.
ACCEPT = "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.8"


# Style sheets (css.py reads them for what they hide). Bounded so that a page
# with a slow or huge sheet is shown soon anyway, without it: browsers wait
# for sheets, but a text browser loses little by not.
# A page read from a file is held whole, as an HTTP page is: the same cap as
# the client's on a response it holds in memory (client.api.MAX_CONTENT, not
# imported here: `browse --dump file.html` loads no client). /dev/zero would
# otherwise be read until memory runs out.
MAX_FILE_PAGE = 256 * 1024 * 1024
STYLESHEET_ACCEPT = "text/css,*/*;q=0.1"  # Chromium's and Firefox's Accept for a sheet
STYLESHEET_BYTES = 512 * 1024  # decoded; Bootstrap 5's whole sheet is 230 KB, unminified
STYLESHEET_COUNT = 8  # sheets per page, @imports included (a Sphinx page links 2, imports 3)
STYLESHEET_TIMEOUT = (2.0, 3.0)  # connect, read, per sheet
STYLESHEET_BUDGET = 5.0  # seconds for all of a page's sheets together


class FileError(TransportError):
    """A file:// URL or a path that cannot be read (missing, a permission, not a file)."""

    exit_code = 37  # curl: "Couldn't read a file:// file"


class Resource:
    """What was fetched (a plain class: the dataclasses import costs a dump 5 ms)."""

    __slots__ = ("url", "status", "reason", "headers", "body", "content_type", "elapsed")

    def __init__(self, url: str, status: int, reason: str, headers: list[tuple[str, str]],
                 body: bytes, content_type: str, elapsed: float) -> None:
        self.url = url  # where it was found, after redirects
        self.status = status  # 200 for a file that was read
        self.reason = reason
        self.headers = headers
        self.body = body
        self.content_type = content_type  # "" if nobody could tell
        self.elapsed = elapsed  # seconds

    def __repr__(self) -> str:
        return (f"Resource({self.url!r}, {self.status}, {self.content_type!r}, "
                f"{len(self.body)} bytes)")

    @property
    def is_html(self) -> bool:
        return "html" in self.content_type.lower()


# The last label of a name that is a file's, not a host's: no top-level domain
# is called so (.md is Moldova's, .py Paraguay's: not here).
_FILE_SUFFIXES = frozenset({"html", "htm", "xhtml", "shtml", "txt", "text", "css", "js",
                            "json", "xml", "svg", "php", "asp", "aspx", "jsp", "cgi"})


def to_url(text: str) -> str:
    """What was typed as a URL: a scheme is taken as given, a path is a file, else http.

    Only http:, https: and file: are fetched: ``mailto:a@b`` or
    ``javascript:...`` is refused as an unsupported scheme (not taken for a
    host and a port). Without a scheme, a name that is no existing file is a
    host only when it plausibly is one (:func:`_looks_like_host`), else the
    file it was more likely meant as, which then cannot be read, as lynx says.
    """
    text = text.strip()
    if not text:
        raise InvalidURL("no URL given")
    if text.lower().startswith(("http:", "https:", "file:")):
        return str(URL.parse(text))
    path = os.path.expanduser(text)
    if text.startswith(("/", "./", "../", "~")) or os.path.exists(path):
        return "file://" + _quote(os.path.realpath(path))
    scheme = _scheme_of(text)
    if scheme is not None:
        raise InvalidURL(f"unsupported scheme {scheme!r}")
    if _looks_like_host(text):
        return str(URL.parse(text, default_scheme="http"))
    return "file://" + _quote(os.path.realpath(path))


_SCHEME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-."


def _scheme_of(text: str) -> str | None:
    """The scheme ``text`` starts with, lowercased (``mailto:a@b``, ``data:,x``), or None:
    none in ``localhost:9000/x`` or ``example.com:8080``, a host and its port."""
    scheme, colon, rest = text.partition(":")
    if not colon or not ("a" <= scheme[:1].lower() <= "z") or scheme.strip(_SCHEME_CHARS):
        return None
    port = len(rest) - len(rest.lstrip("0123456789"))
    if (port or not rest) and rest[port:port + 1] in ("", "/", "?", "#"):
        return None
    return scheme.lower()


def _looks_like_host(text: str) -> bool:
    """Whether ``text`` (no file, no scheme) plausibly names a host, to be fetched over http.

    Its host is what comes before the first "/", "?" or "#". Taken for a host:
    one with a port (``localhost:9000/x``, ``box:8080``), ``localhost``, an
    IPv6 literal, or a dotted name whose last label is no file suffix
    (``example.com``, ``docs.python.org/3/``, ``127.0.0.1``). Not: ``nope.html``,
    ``dir/file.html``, ``foo``: a name without a dot could be a host of the local
    network, but a file mistyped or looked for in the wrong directory is the
    likelier, and lynx and w3m take all three for files too. Such a file then
    cannot be read, and the message names the path that was tried; for the
    host, ``http://foo/`` says so.
    """
    cut = [at for at in map(text.find, "/?#") if at >= 0]
    host = text[:min(cut)] if cut else text
    host = host.rpartition("@")[2]
    if host.startswith("["):
        return True
    _, colon, port = host.rpartition(":")
    if colon:
        return port.isascii() and port.isdigit()
    if host.lower() == "localhost":
        return True
    first, dot, last = host.rstrip(".").rpartition(".")
    return bool(dot and first) and last.lower() not in _FILE_SUFFIXES


def load(url: str, client: Client | None = None, *, method: str = "GET",
         body: bytes | None = None, content_type: str | None = None,
         headers: Mapping[str, str] | None = None, verify: bool = True,
         cacert: str | None = None) -> Resource:
    """Fetch ``url``, following redirects; a file:// URL or a path is read from disk."""
    started = time.monotonic()
    target = to_url(url)
    if target.startswith("file:"):
        return _load_file(URL.parse(target), started)
    from ..client.api import Client  # only now: `browse --dump file.html` needs no sockets

    own = client is None
    if client is None:
        client = Client(headers={"Accept": ACCEPT}, verify=verify, cacert=cacert)
    extra = dict(headers or {})
    if content_type and body is not None:
        extra["Content-Type"] = content_type
    try:
        response = client.request(method, target, content=body, headers=extra)
    finally:
        if own:
            client.close()
    data = response.content
    final = str(response.url)
    fragment = URL.parse(target).fragment
    if fragment is not None and "#" not in final:
        final += "#" + fragment  # a redirect keeps the fragment it did not replace
    ctype = response.headers.get("content-type") or sniff(data)
    return Resource(final, response.status, response.reason, response.headers.items(), data,
                    ctype, time.monotonic() - started)


def _load_file(url: URL, started: float, limit: int | None = None) -> Resource:
    if url.host not in ("", "localhost"):
        raise FileError(f"cannot read {url}: file URLs on another host are not supported")
    path = _unquote(url.path)
    try:
        if os.path.isdir(path):
            data = _listing(path)
            ctype = "text/html; charset=utf-8"
            if not url.path.endswith("/"):  # so its entries resolve inside it
                url = url.with_path(url.path + "/")
        else:
            limit = MAX_FILE_PAGE if limit is None else limit
            with open(path, "rb") as f:
                data = f.read(limit + 1)
            if len(data) > limit:
                from ..client.decoding import BodyTooLarge

                raise BodyTooLarge(f"{path} is larger than {limit} bytes: too large to show")
            ctype = _file_type(path, data)
    except OSError as exc:
        raise FileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    headers = [("Content-Type", ctype), ("Content-Length", str(len(data)))]
    return Resource(str(url), 200, "OK", headers, data, ctype, time.monotonic() - started)


# The types a browser meets most, without reading /etc/mime.types for them.
_TYPES = {".html": "text/html", ".htm": "text/html", ".xhtml": "application/xhtml+xml",
          ".txt": "text/plain", ".css": "text/css", ".js": "text/javascript",
          ".json": "application/json", ".xml": "text/xml", ".md": "text/markdown"}


def _file_type(path: str, data: bytes) -> str:
    known = _TYPES.get(os.path.splitext(path)[1].lower())
    if known is not None:
        return known
    import mimetypes

    guessed, encoding = mimetypes.guess_type(path)
    return guessed if guessed and not encoding else sniff(data)


# What urllib.parse.quote() leaves as it is ("/" its default safe): a path made
# only of these needs no quoting, and then urllib.parse (with ipaddress, 1-2 ms
# of every dump's start) is never imported.
_QUOTE_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~/"


def _quote(path: str) -> str:
    """A path as a URL's path: its bytes as the file system has them, percent-encoded.

    A name that is not UTF-8 (``f\\xe9.html`` from a Latin-1 system) comes from
    os.fsdecode with the bytes it could not decode as lone surrogates, which
    no codec encodes: os.fsencode gives its bytes back.
    """
    if not path.strip(_QUOTE_SAFE):  # nothing left: every character is safe
        return path
    from urllib.parse import quote

    return quote(os.fsencode(path))


def _unquote(path: str) -> str:
    """A file URL's path as a path: percent-decoded to bytes, then as the file system
    decodes names (``f%E9.html`` is the file whose name has the byte 0xE9)."""
    if "%" not in path:
        return path
    from urllib.parse import unquote_to_bytes

    return os.fsdecode(unquote_to_bytes(path))


def _shown(name: str) -> str:
    """A name to show: bytes that are not UTF-8 as U+FFFD."""
    return os.fsencode(name).decode("utf-8", "replace")


def _listing(path: str) -> bytes:
    """A directory as a page of links, as lynx shows one."""
    import html

    names = sorted(os.listdir(path), key=str.lower)
    title = html.escape(_shown(path))
    items = ['<li><a href="../">../</a>']
    for name in names:
        shown = name + "/" if os.path.isdir(os.path.join(path, name)) else name
        items.append(f'<li><a href="{_quote(shown)}">{html.escape(_shown(shown))}</a>')
    page = f"<title>Index of {title}</title><h1>Index of {title}</h1><ul>{''.join(items)}</ul>"
    return page.encode()


def sniff(data: bytes) -> str:
    """A content type for bytes that came without one (WHATWG MIME sniffing, cut down)."""
    head = data[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<p", b"<h1",
                        b"<div", b"<table", b"<a ", b"<title", b"<!--")):
        return "text/html"
    if b"\0" in data[:1024]:
        return "application/octet-stream"
    return "text/plain"


class Stylesheets:
    """Fetches a page's style sheets for css.py: ``sheets(url)`` is the sheet's text or
    None, never an exception (a failure only means the sheet is not applied).

    Files are read from disk; http(s) goes through ``client`` (the page's own,
    so its cookies and connections), or one made at the first need and closed
    by :meth:`close`. What was fetched is kept, so laying the page out again
    for a new width fetches nothing; past :data:`STYLESHEET_COUNT` sheets,
    :data:`STYLESHEET_BUDGET` seconds or a sheet of :data:`STYLESHEET_BYTES`,
    nothing more is fetched.
    """

    def __init__(self, client: Client | None = None, *, verify: bool = True,
                 cacert: str | None = None) -> None:
        self.client = client
        self._own = client is None
        self._verify = verify
        self._cacert = cacert
        self.fetched: dict[str, str | None] = {}
        self._spent = 0.0

    def __call__(self, url: str) -> str | None:
        if url in self.fetched:
            return self.fetched[url]
        if len(self.fetched) >= STYLESHEET_COUNT or self._spent >= STYLESHEET_BUDGET:
            return None
        started = time.monotonic()
        try:
            text = self._fetch(url.partition("#")[0])
        except Exception:  # a sheet that fails is a sheet not applied
            text = None
        self._spent += time.monotonic() - started
        self.fetched[url] = text
        return text

    def _fetch(self, url: str) -> str | None:
        if url.lower().startswith("file:"):
            parsed = URL.parse(url)
            if not os.path.isfile(_unquote(parsed.path)):
                return None  # a directory, a FIFO that would block, a device that never ends
            got = _load_file(parsed, time.monotonic(), STYLESHEET_BYTES)
            if "html" in got.content_type:
                return None
            return _css_text(got.body, None)
        if not url.lower().startswith(("http:", "https:")):
            return None
        if self.client is None:
            from ..client.api import Client

            self.client = Client(verify=self._verify, cacert=self._cacert)
        left = STYLESHEET_BUDGET - self._spent
        timeout = (min(STYLESHEET_TIMEOUT[0], left), min(STYLESHEET_TIMEOUT[1], left))
        with self.client.stream("GET", url, headers={"Accept": STYLESHEET_ACCEPT},
                                timeout=timeout) as response:
            ctype = response.headers.get("content-type") or ""
            if not 200 <= response.status < 300 or "html" in ctype.lower():
                return None
            parts: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > STYLESHEET_BYTES:
                    return None
                parts.append(chunk)
        return _css_text(b"".join(parts), ctype)

    def close(self) -> None:
        if self._own and self.client is not None:
            self.client.close()
            self.client = None


def _css_text(data: bytes, content_type: str | None) -> str:
    """A sheet's bytes as text: a BOM, then the charset its Content-Type gives, else UTF-8
    (CSS Syntax's order, without @charset, which is all but unused beside UTF-8)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", "replace")
    if data.startswith((b"\xfe\xff", b"\xff\xfe")):
        return data.decode("utf-16", "replace")
    from ..client.decoding import charset_from_content_type

    label = charset_from_content_type(content_type) if content_type else None
    try:
        return data.decode(label or "utf-8", "replace")
    except LookupError:
        return data.decode("utf-8", "replace")
