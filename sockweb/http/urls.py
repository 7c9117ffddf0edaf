"""URLs for an HTTP client: the WHATWG URL Standard for http, https and file.

``URL.parse`` follows the standard's parser for special schemes (RFC 3986
where it is silent), so that a Location header or a link in a page resolves
the way a browser resolves it, and ``str(url)`` is its serialisation:

* leading and trailing C0 controls and spaces are stripped, tabs and newlines
  inside are removed; ``\\`` counts as ``/``; ``http:x`` and ``http:///x``
  both mean ``http://x/`` (and ``http:x`` against an http base is relative);
* the path loses its dot segments (``%2e`` is a dot); path, query, fragment
  and userinfo are percent-encoded with the standard's sets, and escapes that
  are already there, valid or not, are left alone;
* hosts are lower-cased and IDNA-encoded, IPv4 in every form the standard
  accepts (``0x7f.1`` is ``127.0.0.1``) is rewritten dotted, IPv6 is
  validated and compressed; default ports are dropped.

Where this differs from the standard, on purpose:

* only http, https and file parse; any other scheme is refused;
* username and password are kept percent-decoded (an HTTP client wants them
  for Basic auth), so ``us%65r`` serialises back as ``user``; bytes that are
  not UTF-8 decode to U+FFFD;
* IDNA is Python's IDNA 2003 codec after lower-casing and NFKC, not UTS 46:
  ``ß`` becomes ``ss``, and some names IDNA 2008 accepts are refused;
* file URLs get no Windows drive-letter rules.

The parser and the URL type are here; hosts and ports are parsed in
hosts.py, paths in paths.py, and percent-encoding and form-urlencoding
live in percent.py. This module re-exports the public names of all three.
"""

from __future__ import annotations

from functools import lru_cache

from .errors import InvalidURL
from .hosts import DEFAULT_PORTS, _parse_host, _parse_port, _short, _split_port
from .paths import _path, plain_relative_path
from .percent import (
    _decode,
    _encode_fragment,
    _encode_optional,
    _encode_query,
    _encode_userinfo,
    _usv,
    encode_query,
    parse_query,
)

# typing costs every start ~3 ms to import; annotations need it only for mypy.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

# Importing this module is on the path of every `sockweb get`, so it costs
# next to nothing: no regex is compiled until a URL needs it (``re``'s own
# cache keeps the compiled patterns), and ipaddress, unicodedata, the IDNA
# codec (hosts.py) and urllib.parse (percent.py) load only for the URLs that
# need them (an IPv6 literal, a non-ASCII host, a percent-escape in userinfo
# or a query).

__all__ = ["DEFAULT_PORTS", "URL", "InvalidURL", "encode_query", "parse_query",
           "plain_relative_path"]

SCHEMES = frozenset({"http", "https", "file"})


# -- the parser ----------------------------------------------------------------

_C0_AND_SPACE = "".join(map(chr, range(0x21)))
_TAB_NEWLINE = {0x09: None, 0x0A: None, 0x0D: None}
def _scheme_end(text: str) -> int:
    """The index of the ":" ending a scheme ([A-Za-z][A-Za-z0-9+.-]*) at the start
    of ``text``, or -1 if it does not start with one."""
    colon = text.find(":")
    if colon < 1:
        return -1
    scheme = text[:colon]
    rest = scheme[1:].replace("+", "").replace("-", "").replace(".", "")
    if scheme.isascii() and scheme[0].isalpha() and (not rest or rest.isalnum()):
        return colon
    return -1
def _authority_end(text: str) -> int:
    """Where the authority ends: the first of / \\ ? #, or the end."""
    end = len(text)
    for mark in "/\\?#":
        found = text.find(mark, 0, end)
        if found >= 0:
            end = found
    return end


def _finish(
    scheme: str, user: str, pw: str, host: str, port: int | None, rest: str, segments: list[str]
) -> URL:
    rest, hash_, fragment = rest.partition("#")
    rest, mark, query = rest.partition("?")
    return URL(
        scheme,
        user,
        pw,
        host,
        port,
        _path(rest, segments),
        _encode_query(query) if mark else None,
        _encode_fragment(fragment) if hash_ else None,
    )


def _absolute(scheme: str, rest: str) -> URL:
    """``rest`` is what follows ``scheme:``."""
    if scheme == "file":
        if len(rest) >= 2 and rest[0] in "/\\" and rest[1] in "/\\":
            rest = rest[2:]
            cut = _authority_end(rest)
            host = _parse_host(rest[:cut], scheme) if cut else ""
            return _finish(scheme, "", "", host, None, rest[cut:], [])
        return _finish(scheme, "", "", "", None, rest, [])
    rest = rest.lstrip("/\\")  # http:x, http:/x, http:///x all name host x
    cut = _authority_end(rest)
    authority, rest = rest[:cut], rest[cut:]
    user = pw = ""
    at = authority.rfind("@")
    if at >= 0:
        username, _, password = authority[:at].partition(":")
        user, pw = _decode(username), _decode(password)
        authority = authority[at + 1 :]
    hostport, port_text = _split_port(authority)
    if not hostport:
        raise InvalidURL("URL has no host")
    host = _parse_host(hostport, scheme)
    port = _parse_port(port_text, scheme) if port_text else None
    return _finish(scheme, user, pw, host, port, rest, [])


def _relative(base: URL, ref: str) -> URL:
    """RFC 3986 section 5.2.2 as the standard's relative states do it."""
    b = base
    if ref == "":
        return URL(b.scheme, b.username, b.password, b.host, b.port, b.path, b.query, None)
    if ref[0] in "/\\":
        if ref[1:2] in ("/", "\\"):
            return _absolute(b.scheme, ref)
        return _finish(b.scheme, b.username, b.password, b.host, b.port, ref, [])
    if ref[0] == "?":
        return _finish(b.scheme, b.username, b.password, b.host, b.port, b.path + ref, [])
    if ref[0] == "#":
        fragment = _encode_fragment(ref[1:])
        return URL(b.scheme, b.username, b.password, b.host, b.port, b.path, b.query, fragment)
    segments = b.path[1:].split("/")
    segments.pop()  # merge: drop the base's last segment
    return _finish(b.scheme, b.username, b.password, b.host, b.port, ref, segments)


def _parse(text: str, base: URL | None, default_scheme: str | None) -> URL:
    text = _usv(text).strip(_C0_AND_SPACE).translate(_TAB_NEWLINE)
    colon = _scheme_end(text)
    scheme = text[:colon].lower() if colon > 0 else ""
    if (
        colon > 0
        and default_scheme is not None
        and base is None
        and scheme not in SCHEMES
        and not text[colon + 1 :].startswith("//")
    ):
        # "localhost:8000" and "user:pw@host" are host names, not schemes.
        colon = -1
    if colon < 0:
        if base is not None:
            return _relative(base, text)
        if default_scheme is None:
            raise InvalidURL(f"URL {_short(text)} has no scheme")
        return _parse(f"{default_scheme}://{text}", None, None)
    if scheme not in SCHEMES:
        raise InvalidURL(f"unsupported scheme {_short(scheme)}")
    rest = text[colon + 1 :]
    if base is not None and base.scheme == scheme and rest[:2].replace("\\", "/") != "//":
        return _relative(base, rest)  # "http:x" against an http base, as browsers do
    return _absolute(scheme, rest)


@lru_cache(maxsize=256)
def _parse_cached(text: str, default_scheme: str | None) -> URL:
    """``_parse`` without a base, remembered: a client asked for the same URL
    again and again parses it once. Safe because a URL is immutable."""
    return _parse(text, None, default_scheme)


# -- the value type ------------------------------------------------------------


class _Keep:
    """The default of ``replace``'s arguments: leave that field as it is."""

    __slots__ = ()


_KEEP = _Keep()
_FIELDS = ("scheme", "username", "password", "host", "port", "path", "query", "fragment")


class URL:
    """A parsed, normalised URL. Build one with ``URL.parse`` or ``replace``:
    the constructor trusts its arguments to be normalised already.

    A value: immutable, equal and hashed by its fields. (Written out rather
    than as a frozen dataclass, whose import costs a `sockweb get` 7 ms.)
    """

    __slots__ = _FIELDS
    __match_args__ = ("scheme", "username", "password", "host", "port", "path", "query",
                      "fragment")

    scheme: str
    username: str
    password: str
    host: str
    port: int | None
    path: str
    query: str | None
    fragment: str | None

    def __init__(
        self,
        scheme: str,
        username: str,
        password: str,
        host: str,
        port: int | None,
        path: str,
        query: str | None,
        fragment: str | None,
    ) -> None:
        init = object.__setattr__
        init(self, "scheme", scheme)
        init(self, "username", username)
        init(self, "password", password)
        init(self, "host", host)
        init(self, "port", port)
        init(self, "path", path)
        init(self, "query", query)
        init(self, "fragment", fragment)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"URL is immutable: use replace() to change {name!r}")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"URL is immutable: cannot delete {name!r}")

    def _values(self) -> tuple[str, str, str, str, int | None, str, str | None, str | None]:
        return (self.scheme, self.username, self.password, self.host, self.port, self.path,
                self.query, self.fragment)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not URL:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __reduce__(self) -> tuple[type[URL], tuple[object, ...]]:
        # pickle and copy: through the constructor, which __setattr__ leaves open.
        return (URL, self._values())

    @classmethod
    def parse(cls, text: str, base: URL | None = None, *, default_scheme: str | None = None) -> URL:
        """Parse ``text``, resolved against ``base`` if it is relative.

        With no base, ``default_scheme`` lets "example.com/x" and
        "localhost:8000" mean ``default_scheme://...`` as curl does.
        """
        if base is None:
            return _parse_cached(text, default_scheme)
        return _parse(text, base, default_scheme)

    # -- properties ---------------------------------------------------------------
    @property
    def effective_port(self) -> int:
        """The port to connect to (0 for file, which has none)."""
        return self.port if self.port is not None else DEFAULT_PORTS.get(self.scheme, 0)

    @property
    def origin(self) -> tuple[str, str, int]:
        return (self.scheme, self.host, self.effective_port)

    @property
    def is_ipv6(self) -> bool:
        return ":" in self.host

    @property
    def netloc_for_host_header(self) -> str:
        """RFC 9110 section 7.2: uri-host [":" port], the port only if not the default."""
        host = f"[{self.host}]" if self.is_ipv6 else self.host
        return host if self.port is None else f"{host}:{self.port}"

    @property
    def request_target(self) -> str:
        """RFC 9112 section 3.2.1 origin-form; the fragment is never sent."""
        return self.path if self.query is None else f"{self.path}?{self.query}"

    @property
    def absolute_target(self) -> str:
        """RFC 9112 section 3.2.2 absolute-form, for proxies: no userinfo, no fragment."""
        return f"{self.scheme}://{self.netloc_for_host_header}{self.request_target}"

    @property
    def userinfo(self) -> tuple[str, str] | None:
        if not self.username and not self.password:
            return None
        return (self.username, self.password)

    # -- derived URLs -------------------------------------------------------------
    def join(self, reference: str) -> URL:
        return _parse(reference, self, None)

    def directory(self) -> str:
        """This URL up to the last "/" of its path (no query, no fragment): what
        :func:`plain_relative_path` references are appended to."""
        cut = self.replace(path=self.path[:self.path.rfind("/") + 1], query=None, fragment=None)
        return cut._serialise(self.password)

    def with_path(self, path: str) -> URL:
        return self.replace(path=path)

    def with_query(self, query: str | list[tuple[str, str]] | None) -> URL:
        """A new query: text (encoded as needed), form pairs, or None for no "?"."""
        if isinstance(query, list):
            query = encode_query(query)
        return self.replace(query=query)

    def copy_without_userinfo(self) -> URL:
        if not self.username and not self.password:
            return self
        return self.replace(username="", password="")

    def replace(
        self,
        *,
        scheme: str | _Keep = _KEEP,
        username: str | _Keep = _KEEP,
        password: str | _Keep = _KEEP,
        host: str | _Keep = _KEEP,
        port: int | _Keep | None = _KEEP,
        path: str | _Keep = _KEEP,
        query: str | _Keep | None = _KEEP,
        fragment: str | _Keep | None = _KEEP,
    ) -> URL:
        """A copy with some fields changed, each normalised as ``parse`` would."""
        new_scheme = self.scheme if isinstance(scheme, _Keep) else scheme.lower()
        if new_scheme not in SCHEMES:
            raise InvalidURL(f"unsupported scheme {_short(new_scheme)}")
        new_host = self.host
        if not isinstance(host, _Keep):
            if ":" in host and not host.startswith("["):
                host = f"[{host}]"  # a bare IPv6 address is plainly meant as one
            new_host = _parse_host(_usv(host), new_scheme) if host else ""
        new_port = self.port if isinstance(port, _Keep) else port
        if new_port is not None:
            if isinstance(new_port, bool) or not 0 <= new_port <= 65535:
                raise InvalidURL(f"invalid port {new_port!r}")
            if DEFAULT_PORTS.get(new_scheme) == new_port:
                new_port = None
        url = URL(
            new_scheme,
            self.username if isinstance(username, _Keep) else _usv(username),
            self.password if isinstance(password, _Keep) else _usv(password),
            new_host,
            new_port,
            self.path if isinstance(path, _Keep) else _path(_usv(path), []),
            self.query if isinstance(query, _Keep) else _encode_optional(query, _encode_query),
            self.fragment if isinstance(fragment, _Keep)
            else _encode_optional(fragment, _encode_fragment),
        )
        if new_scheme == "file":
            if url.port is not None or url.userinfo is not None:
                raise InvalidURL("file URLs have no port or userinfo")
        elif not new_host:
            raise InvalidURL("URL has no host")
        return url

    # -- text ---------------------------------------------------------------------
    def _serialise(self, password: str) -> str:
        out = [self.scheme, "://"]
        if self.username or password:
            out.append(_encode_userinfo(self.username))
            if password:
                out += [":", _encode_userinfo(password)]
            out.append("@")
        out += [self.netloc_for_host_header, self.request_target]
        if self.fragment is not None:
            out += ["#", self.fragment]
        return "".join(out)

    def __str__(self) -> str:
        return self._serialise(self.password)

    def __repr__(self) -> str:
        # A repr ends up in logs and tracebacks; a password must not.
        return f"URL({self._serialise('***' if self.password else '')!r})"

