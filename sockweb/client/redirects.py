"""What to send next after a 3xx: pure functions, no I/O.

The rules are RFC 9110 section 15.4 as the Fetch Standard's "HTTP-redirect
fetch" applies them, which is also what curl -L does::

    status   method in          method out   body
    301/302  POST               GET          dropped
    301/302  anything else      same         kept
    303      GET or HEAD        same         kept
    303      anything else      GET          dropped
    307/308  anything           same         kept

Across origins the credentials stay behind (Authorization, Cookie,
Proxy-Authorization); when the method becomes GET the body and every field
that describes it go too. Host is always dropped: the connection layer
writes the one that matches the new URL.

The client's loop is then: ``plan_redirect`` per 3xx response, counting
them, and TooManyRedirects past ``MAX_REDIRECTS``.
"""

from __future__ import annotations

import re

from ..http.errors import SockwebError
from ..http.headers import Headers

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

# Fetch Standard 4.4 step 12 and Chrome and Firefox stop at 20; httpx too.
# curl allows 50 and requests 30, but a chain that a browser refuses is not a
# site that works, and 20 ends a loop sooner.
MAX_REDIRECTS = 20

_DEFAULT_PORTS = {"http": 80, "https": 443}

# Fields that describe a request body (Fetch's "request-body-header name" plus
# the framing fields): meaningless once the body is gone. Expect too, as a
# bodiless GET has nothing to continue with.
_BODY_FIELDS = (
    "content-type",
    "content-length",
    "content-encoding",
    "content-language",
    "content-location",
    "transfer-encoding",
    "expect",
)
# Credentials meant for one origin (RFC 9110 section 15.4, last paragraph).
_CREDENTIAL_FIELDS = ("authorization", "proxy-authorization", "cookie")

# What a URL may not hold as it is (RFC 3986 section 2): controls, space, and
# everything past ASCII, which servers do send raw (as UTF-8) in Location.
# (Patterns compiled on first use, through re's cache: the client imports this
# module for every request, and follows a redirect for few of them.)
_UNSAFE = r"[^\x21-\x7e]"
# A reference that names an authority: "//host..." with or without a scheme.
_AUTHORITY = r"(?:[A-Za-z][A-Za-z0-9+.-]*:)?//"


class RedirectError(SockwebError):
    """A redirect that cannot be followed: bad or non-HTTP Location."""

    exit_code = 1  # curl: "Unsupported protocol"


class MalformedRedirect(RedirectError):
    """A Location that is no URL at all: no host, a bad port, a broken IPv6 literal."""

    exit_code = 3  # curl: "The redirect target URL could not be parsed"


class TooManyRedirects(SockwebError):
    """More than the allowed number of redirects in one chain."""

    exit_code = 47  # curl: "Too many redirects"


def redirect_method(method: str, status: int) -> str:
    """The method of the redirected request (RFC 9110 15.4.2 to 15.4.9)."""
    if status == 303 and method != "HEAD":
        return "GET"
    # RFC 9110 allows either for 301/302; every browser and curl -L change a
    # POST to GET, and servers have been written for that ever since.
    if status in (301, 302) and method == "POST":
        return "GET"
    return method


def should_keep_body(method: str, status: int) -> bool:
    """Whether the request body goes along: only when the method is unchanged."""
    return status in REDIRECT_STATUSES and redirect_method(method, status) == method


def _percent_encode(location: str) -> str:
    # Headers decode as latin-1, so a char below 256 is one byte as it was
    # sent; anything wider came from a caller's str and is taken as UTF-8.
    def encode(match: re.Match[str]) -> str:
        char = match.group()
        raw = bytes([ord(char)]) if ord(char) < 256 else char.encode("utf-8")
        return "".join(f"%{byte:02X}" for byte in raw)

    return re.sub(_UNSAFE, encode, location)


def redirect_url(base_url: str, location: str) -> str:
    """The absolute URL a Location value points to, resolved against ``base_url``."""
    try:
        return _redirect_url(base_url, location)
    except ValueError as exc:  # urllib's own complaints: "Invalid IPv6 URL"...
        raise MalformedRedirect(f"redirect to a malformed URL: {location!r}") from exc


def _redirect_url(base_url: str, location: str) -> str:
    import urllib.parse

    target = _percent_encode(location.strip())
    scheme = urllib.parse.urlsplit(target).scheme.lower()
    if scheme and scheme not in _DEFAULT_PORTS:  # file:///etc/passwd: the scheme is what is wrong
        raise RedirectError(f"redirect to unsupported scheme {scheme!r}: {location!r}")
    # urljoin quietly reads "http://" or "//" as "here"; a browser refuses them.
    if re.match(_AUTHORITY, target) and not urllib.parse.urlsplit(target).hostname:
        raise MalformedRedirect(f"redirect to a URL without a host: {location!r}")
    resolved = urllib.parse.urljoin(base_url, target)
    parts = urllib.parse.urlsplit(resolved)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise RedirectError(f"redirect to unsupported scheme {scheme!r}: {location!r}")
    try:
        parts.port  # noqa: B018 - urllib checks the port only when asked
    except ValueError as exc:
        raise MalformedRedirect(f"redirect to a malformed URL: {location!r}") from exc
    if not parts.hostname:
        raise MalformedRedirect(f"redirect to a URL without a host: {location!r}")
    fragment = parts.fragment
    # RFC 9110 section 10.2.2: a Location without a fragment inherits ours.
    if not fragment and "#" not in target:
        fragment = urllib.parse.urlsplit(base_url).fragment
    # Schemes are case-insensitive (RFC 3986 section 3.1); the rest of the code
    # compares them as lower case.
    return urllib.parse.urlunsplit(parts._replace(scheme=scheme, fragment=fragment))


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port filled in (RFC 6454)."""
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme)


def redirect_headers(headers: Headers, old_url: str, new_url: str, method_changed: bool) -> Headers:
    """A copy of ``headers`` fit for the redirected request."""
    drop = set()
    if origin(old_url) != origin(new_url):
        # A Host of the caller's own names the first origin's virtual host
        # (curl keeps it to the same host), and credentials are its alone.
        drop.add(b"host")
        drop.update(name.encode() for name in _CREDENTIAL_FIELDS)
    if method_changed:
        drop.update(name.encode() for name in _BODY_FIELDS)
    return Headers([(n, v) for n, v in headers.raw if n.lower() not in drop])


class Redirect:
    """The next request of a chain: everything but the body, and whether to resend it."""

    __slots__ = ("method", "url", "headers", "keep_body")

    def __init__(self, method: str, url: str, headers: Headers, keep_body: bool) -> None:
        self.method = method
        self.url = url
        self.headers = headers
        self.keep_body = keep_body

    def __repr__(self) -> str:
        return (f"Redirect(method={self.method!r}, url={self.url!r}, "
                f"keep_body={self.keep_body!r})")


def plan_redirect(
    method: str, url: str, headers: Headers, status: int, location: str | None
) -> Redirect:
    """The request to send after a ``status`` response with this Location."""
    if status not in REDIRECT_STATUSES:
        raise RedirectError(f"{status} is not a redirect status to follow")
    if location is None:
        raise RedirectError(f"{status} response without a Location")
    new_method = redirect_method(method, status)
    new_url = redirect_url(url, location)
    changed = new_method != method
    new_headers = redirect_headers(headers, url, new_url, changed)
    return Redirect(new_method, new_url, new_headers, keep_body=not changed)
