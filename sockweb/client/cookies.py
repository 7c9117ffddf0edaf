"""A cookie jar (RFC 6265) over the standard library's ``http.cookiejar``.

The storage and the matching rules are the stdlib's: domain and path
matching, Secure only over https, Max-Age and Expires (a past date deletes),
and its refusal of Domain attributes like ``com`` or ``co.uk`` (a short list,
not the Public Suffix List: ``github.io`` gets through). Two things are
added:

* a policy that keeps host-only cookies (no Domain attribute) to their exact
  host, as RFC 6265 section 5.3 step 6 requires; the stdlib default would
  also send them to every subdomain;
* our own reader and writer for the Netscape file format that curl's
  ``--cookie-jar`` writes. MozillaCookieJar refuses files it did not write:
  it demands the magic first line, asserts that the subdomain flag agrees
  with a leading dot, and drops curl's session cookies (expiry 0) as expired.

http.cookiejar speaks urllib's Request and response objects; the two small
adapters below give it just the part of that interface it reads.
"""

from __future__ import annotations

import _thread
import os
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, cast

from ..http.headers import Headers

if TYPE_CHECKING:
    import http.cookiejar
    import urllib.request
    from http.client import HTTPResponse

    from ..http.urls import URL

# http.cookiejar (and with it urllib.request, http.client and email) is
# imported when the first cookie arrives or is asked for by a non-empty jar:
# a client that never sees a cookie never pays the 20 ms it takes to import.

_SET_COOKIE = frozenset({b"set-cookie", b"set-cookie2"})
_HTTPONLY_PREFIX = "#HttpOnly_"  # how curl marks an HttpOnly cookie in a file
_HEADER = (
    "# Netscape HTTP Cookie File\n"
    "# Written by sockweb in the format curl and wget read and write.\n"
    "\n"
)


class _Request:
    """The part of urllib.request.Request that http.cookiejar reads."""

    def __init__(self, url: str, headers: Headers | None = None) -> None:
        import urllib.parse

        parts = urllib.parse.urlsplit(url)
        self._url = url
        self._headers = headers if headers is not None else Headers()
        self.type = parts.scheme.lower()
        self.host = parts.netloc.rpartition("@")[2]  # host[:port], as urllib keeps it
        self.origin_req_host = (parts.hostname or "").lower()
        # RFC 2965's third-party notion; the default policy ignores it for
        # RFC 6265 cookies, and every request here is one the user asked for.
        self.unverifiable = False
        self.cookie: str | None = None

    def get_full_url(self) -> str:
        return self._url

    def get_host(self) -> str:
        return self.host

    def get_type(self) -> str:
        return self.type

    def is_unverifiable(self) -> bool:
        return self.unverifiable

    def has_header(self, name: str) -> bool:
        return name in self._headers

    def get_header(self, name: str, default: str | None = None) -> str | None:
        return self._headers.get(name, default)

    def add_unredirected_header(self, name: str, value: str) -> None:
        if name.lower() == "cookie":
            self.cookie = value


class _Response:
    """The part of an http.client response that http.cookiejar reads."""

    def __init__(self, headers: Headers) -> None:
        self._headers = headers

    def info(self) -> _Response:
        return self

    def get_all(self, name: str, default: list[str]) -> list[str]:
        return self._headers.get_all(name) or default


def _policy() -> http.cookiejar.DefaultCookiePolicy:
    import http.cookiejar

    return http.cookiejar.DefaultCookiePolicy(
        # strict_domain refuses Domain=co.uk and its like: the stdlib's short
        # stand-in for the Public Suffix List, which no package here ships.
        strict_domain=True,
        strict_ns_domain=http.cookiejar.DefaultCookiePolicy.DomainStrictNonDomain,
    )


def _stored_domain(domain: str) -> str:
    # The stdlib keys a dotless host ("localhost") as "localhost.local"; a
    # host-only cookie must carry that same name or it is never sent.
    domain = domain.lower()
    if not domain.startswith(".") and "." not in domain:
        return domain + ".local"
    return domain


def _shown_domain(domain: str) -> str:
    # The inverse of _stored_domain, so files and listings name the real host.
    stem = domain[: -len(".local")]
    if domain.endswith(".local") and stem and "." not in stem:
        return stem
    return domain


def _is_http_only(cookie: http.cookiejar.Cookie) -> bool:
    # Unknown attributes are kept in _rest in the server's own spelling, and
    # Cookie.has_nonstandard_attr() is case-sensitive: "httponly" would slip by.
    rest: dict[str, object] = getattr(cookie, "_rest", {})
    return any(key.lower() == "httponly" for key in rest)


def _make_cookie(
    name: str,
    value: str | None,
    domain: str,
    path: str,
    *,
    secure: bool = False,
    expires: int | None = None,
    http_only: bool = False,
) -> http.cookiejar.Cookie:
    import http.cookiejar

    # A leading dot is the Netscape way to say "this domain and its subdomains".
    domain_wide = domain.startswith(".")
    return http.cookiejar.Cookie(
        version=0,
        name=name,
        value=value,
        port=None,
        port_specified=False,
        domain=_stored_domain(domain),
        domain_specified=domain_wide,
        domain_initial_dot=domain_wide,
        path=path,
        path_specified=True,
        secure=secure,
        expires=expires,
        discard=expires is None,
        comment=None,
        comment_url=None,
        rest={"HttpOnly": ""} if http_only else {},
    )


def _parse_line(line: str, now: float) -> http.cookiejar.Cookie | None:
    """One line of a Netscape cookie file, or None for a comment or a bad line."""
    line = line.rstrip("\r\n")
    http_only = line.startswith(_HTTPONLY_PREFIX)
    if http_only:
        line = line[len(_HTTPONLY_PREFIX) :]
    elif not line.strip() or line.lstrip().startswith("#"):
        return None
    fields = line.split("\t")
    if len(fields) == 6:  # an empty value whose trailing tab an editor ate
        fields.append("")
    if len(fields) != 7:
        return None  # curl skips what it cannot read, and so do we
    domain, subdomains, path, secure, expires_field, name, value = fields
    try:
        expires = int(expires_field or 0)
    except ValueError:
        return None
    if expires and expires < now:
        return None
    if subdomains.upper() == "TRUE" and not domain.startswith("."):
        domain = "." + domain
    if not name:  # Netscape files write a valueless cookie as ("", name)
        name, value_or_none = value, None
    else:
        value_or_none = value
    return _make_cookie(
        name,
        value_or_none,
        domain,
        path or "/",
        secure=secure.upper() == "TRUE",
        expires=expires or None,  # curl writes 0 for a session cookie
        http_only=http_only,
    )


def _format_line(cookie: http.cookiejar.Cookie) -> str:
    domain = _shown_domain(cookie.domain)
    name, value = cookie.name, cookie.value
    if value is None:
        name, value = "", name
    fields = [
        (_HTTPONLY_PREFIX if _is_http_only(cookie) else "") + domain,
        "TRUE" if domain.startswith(".") else "FALSE",
        cookie.path,
        "TRUE" if cookie.secure else "FALSE",
        str(int(cookie.expires)) if cookie.expires is not None else "0",
        name,
        value,
    ]
    return "\t".join(fields) + "\n"


class CookieJar:
    """Cookies kept across requests; safe to share between threads."""

    def __init__(self) -> None:
        self._stdlib_jar: http.cookiejar.CookieJar | None = None
        # The stdlib locks each call but iterates unlocked; one lock of our
        # own also makes load, save and listing see a consistent jar.
        self._lock = _thread.RLock()  # what threading.RLock is, without importing threading

    @property
    def _jar(self) -> http.cookiejar.CookieJar:
        with self._lock:
            if self._stdlib_jar is None:
                import http.cookiejar

                self._stdlib_jar = http.cookiejar.CookieJar(_policy())
            return self._stdlib_jar

    def __bool__(self) -> bool:
        """Whether the jar holds a cookie (cheaper than len(): one is enough)."""
        with self._lock:
            jar = self._stdlib_jar
            return jar is not None and next(iter(jar), None) is not None

    def extract(
        self,
        url: str | URL,
        request_headers: Headers,
        response_status: int,
        response_headers: Headers,
    ) -> None:
        """Store the Set-Cookie fields of the response to a request for ``url``.

        Every status counts, redirects included (RFC 6265 section 3); the
        status is taken so that the caller need not know that.
        """
        if not response_headers.has_any(_SET_COOKIE):
            return
        request = _Request(str(url), request_headers)
        response = _Response(response_headers)
        with self._lock:
            self._jar.extract_cookies(
                cast("HTTPResponse", response), cast("urllib.request.Request", request)
            )

    def header_for(self, url: str | URL, method: str = "GET") -> str | None:
        """The Cookie field value to send with a request for ``url``, or None.

        ``method`` is accepted for SameSite, which http.cookiejar does not
        implement: with no notion of the site a request comes from, every
        request here is treated as same-site, as curl does.
        """
        if not self:
            return None
        request = _Request(str(url))
        with self._lock:
            self._jar.add_cookie_header(cast("urllib.request.Request", request))
        return request.cookie

    def set(self, name: str, value: str, domain: str, path: str = "/") -> None:
        """Add a cookie by hand; ``domain`` with a leading dot also covers subdomains."""
        with self._lock:
            self._jar.set_cookie(_make_cookie(name, value, domain, path))

    def clear(self) -> None:
        with self._lock:
            if self._stdlib_jar is not None:
                self._stdlib_jar.clear()

    def _cookies(self) -> list[http.cookiejar.Cookie]:
        with self._lock:
            return [] if self._stdlib_jar is None else list(self._stdlib_jar)

    def __len__(self) -> int:
        return len(self._cookies())

    def __iter__(self) -> Iterator[tuple[str, str, str, str]]:
        """(name, value, domain, path) of each cookie; a valueless one has value ""."""
        for c in self._cookies():
            yield c.name, c.value or "", _shown_domain(c.domain), c.path

    def __repr__(self) -> str:
        return f"<CookieJar of {len(self)} cookies>"

    def save(self, path: str) -> None:
        """Write every unexpired cookie, session ones too, as curl's ``-c`` does."""
        now = int(time.time())
        lines = [_format_line(c) for c in self._cookies() if not c.is_expired(now)]
        # Cookies are credentials: owner-only, and replaced whole so a reader
        # never sees half a file.
        tmp = f"{path}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="latin-1", errors="replace") as f:
                f.write(_HEADER)
                f.writelines(lines)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def load(self, path: str, *, missing_ok: bool = False) -> None:
        """Add the cookies of a Netscape-format file (curl's, wget's, ours).

        Files are read and written as latin-1, the way header values are
        decoded, so a cookie's bytes reach the file and come back unchanged.
        """
        try:
            with open(path, encoding="latin-1") as f:
                lines = f.readlines()
        except FileNotFoundError:
            if missing_ok:
                return
            raise
        now = time.time()
        cookies = [c for c in (_parse_line(line, now) for line in lines) if c is not None]
        if not cookies:
            return
        with self._lock:
            for cookie in cookies:
                self._jar.set_cookie(cookie)
