"""A cookie jar (RFC 6265) over the standard library's ``http.cookiejar``.

The storage, path matching, Secure only over https, Max-Age and Expires (a
past date deletes) are the stdlib's, and so is its refusal of Domain
attributes like ``co.uk`` (a short list, not the Public Suffix List:
``github.io`` gets through). Added or replaced:

* the domain rules, as two pure functions: which domain a Set-Cookie may
  claim (``_cookie_domain``, RFC 6265 sections 5.2.3 and 5.3 steps 4 to 6)
  and which hosts a stored domain matches (``_domain_matches``, section
  5.1.3). The stdlib treats an IP address as a name, so 127.0.0.1 could
  widen a cookie to every address ending in ``.0.1``; it accepts a one-label
  Domain like ``local`` from ``localhost`` (then sent to every dotless host);
  it deletes a cookie for any domain before its policy looks at the Domain.
  Here, as in curl: an IP address matches only itself, a Domain of one label
  only the host of that name, and a refused cookie deletes nothing;
* host-only cookies (no Domain attribute) kept to their exact host, as RFC
  6265 section 5.3 step 6 requires; the stdlib default would also send them
  to every subdomain;
* our own reader and writer for the Netscape file format that curl's
  ``--cookie-jar`` writes. MozillaCookieJar refuses files it did not write:
  it demands the magic first line, asserts that the subdomain flag agrees
  with a leading dot, and drops curl's session cookies (expiry 0) as expired.

http.cookiejar speaks urllib's Request and response objects; the two small
adapters below give it just the part of that interface it reads.
"""

from __future__ import annotations

import _thread
import contextlib
import functools
import os
import stat
import sys
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
        values = self._headers.get_all(name)
        if not values:
            return default
        if name.lower() == "set-cookie":
            return [_last_attributes_win(value) for value in values]
        return values


def _last_attributes_win(set_cookie: str) -> str:
    """A Set-Cookie value with each attribute given once, its last value:
    RFC 6265 section 5.3 steps 4 and 7 to 11 take the last Domain, Path,
    Expires, Max-Age; http.cookiejar takes the first."""
    name_value, _, rest = set_cookie.partition(";")
    if ";" not in rest:
        return set_cookie  # no attributes, or one: nothing can repeat
    last: dict[str, str] = {}
    for attribute in rest.split(";"):
        key = attribute.partition("=")[0].strip().lower()
        if key:
            last.pop(key, None)  # re-inserted: the last one's place and value
            last[key] = attribute
    return ";".join([name_value, *last.values()])


def _is_ip(host: str) -> bool:
    """Whether ``host`` (no brackets) is an IP address, to which no suffix rule applies.

    IPv6 has a colon; IPv4 is any host whose last label is a number, the
    WHATWG URL standard's "ends in a number" test (``127.1`` and ``0x7f.1``
    are addresses too, and no real top-level domain is numeric).
    """
    if ":" in host:
        return True
    last = host[:-1] if host.endswith(".") else host
    last = last.rpartition(".")[2]
    if last[:2] in ("0x", "0X"):
        last = last[2:]
        return last.isascii() and all(c in "0123456789abcdefABCDEF" for c in last)
    return last.isascii() and last.isdigit()


def _cookie_domain(host: str, attribute: str | None) -> str | None:
    """The domain a cookie from ``host`` keeps, given its Domain attribute (None: absent).

    Returns ``host`` itself for a host-only cookie, ``.domain`` for a cookie
    that also covers subdomains, None for a cookie to ignore. RFC 6265:

    * 5.2.3: an empty attribute is ignored; a leading dot is dropped. ``.``
      alone is refused, as curl refuses it.
    * 5.1.3: the suffix rule is for host names only: an IP address host may
      name only itself, and then the cookie is host-only (curl writes
      ``127.0.0.1 FALSE``).
    * 5.3 step 5: without the Public Suffix List, a one-label domain stands
      in for a public suffix: refused unless it is the host itself, which
      makes the cookie host-only.
    * 5.3 step 6: otherwise the host must domain-match the attribute. The
      stdlib policy still refuses ``co.uk`` and its like afterwards.
    """
    if not attribute:
        return host
    domain = attribute.lower()
    domain = domain[1:] if domain.startswith(".") else domain
    if not domain:
        return None
    if domain == host:
        return host if _is_ip(host) or "." not in host else "." + domain
    if _is_ip(host) or _is_ip(domain) or "." not in domain:
        return None
    return "." + domain if host.endswith("." + domain) else None


def _domain_matches(host: str, domain: str) -> bool:
    """Whether a cookie stored for ``domain`` goes to ``host`` (RFC 6265 section 5.4 step 1).

    ``domain`` is as the jar stores it: a host-only cookie's host, or a
    leading dot for "and subdomains", which by section 5.1.3 never reaches
    past an IP address, nor below a one-label domain (curl's rule for what
    it reads from a file; ``.com`` matches only a host called ``com``).
    """
    if not domain.startswith("."):
        return domain == _stored_domain(host)
    base = domain[1:]
    if host == base:
        return True
    if "." not in base or _is_ip(base) or _is_ip(host):
        return False
    return host.endswith(domain)


def _request_host(request: urllib.request.Request) -> str:
    # Our _Request's lower-cased host, brackets and port removed.
    return request.origin_req_host


def _set_domain(cookie: http.cookiejar.Cookie, domain: str) -> None:
    wide = domain.startswith(".")
    cookie.domain = _stored_domain(domain)
    cookie.domain_specified = cookie.domain_initial_dot = wide


@functools.cache
def _stdlib_classes() -> tuple[
    type[http.cookiejar.CookieJar], type[http.cookiejar.DefaultCookiePolicy]
]:
    """http.cookiejar's jar and policy with the domain rules above in place of theirs.

    Made on first use, so that importing this module does not import
    http.cookiejar.
    """
    import http.cookiejar

    class Policy(http.cookiejar.DefaultCookiePolicy):
        def domain_return_ok(self, domain: str, request: urllib.request.Request) -> bool:
            return _domain_matches(_request_host(request), domain)

        def return_ok_domain(
            self, cookie: http.cookiejar.Cookie, request: urllib.request.Request
        ) -> bool:
            return _domain_matches(_request_host(request), cookie.domain)

    class Jar(http.cookiejar.CookieJar):
        # make_cookies deletes a cookie that arrives expired at once, for the
        # domain it claims, before any policy has judged that domain: the
        # deletions wait here until _cookie_domain has.
        _deferred: list[tuple[str, str, str]] | None = None

        def __init__(self, policy: Policy) -> None:
            super().__init__(policy)
            self.policy = policy

        def clear(
            self, domain: str | None = None, path: str | None = None, name: str | None = None
        ) -> None:
            if self._deferred is not None and domain and path and name:
                self._deferred.append((domain, path, name))
            else:
                super().clear(domain, path, name)

        def make_cookies(
            self, response: HTTPResponse, request: urllib.request.Request
        ) -> list[http.cookiejar.Cookie]:
            deletions: list[tuple[str, str, str]] = []
            self._deferred = deletions
            try:
                made = super().make_cookies(response, request)
            finally:
                self._deferred = None
            host = _request_host(request)
            kept = []
            for cookie in made:
                # The stdlib puts a dot before the Domain attribute unless it
                # had one: "Domain=" and "Domain=." both become ".".
                attribute = None
                if cookie.domain_specified:
                    attribute = cookie.domain if cookie.domain_initial_dot else cookie.domain[1:]
                domain = _cookie_domain(host, attribute)
                if domain is not None:
                    _set_domain(cookie, domain)
                    kept.append(cookie)
            for claimed, path, name in deletions:
                # Without a Domain the stdlib used the host: no leading dot.
                if claimed == ".":
                    continue  # "Domain=." is refused; "Domain=" deletes nothing either
                domain = _cookie_domain(host, claimed if claimed.startswith(".") else None)
                if domain is None:
                    continue
                probe = _make_cookie(name, "", domain, path)
                if self.policy.set_ok_domain(probe, request):
                    with contextlib.suppress(KeyError):
                        super().clear(probe.domain, path, name)
            return kept

    return Jar, Policy


def _new_stdlib_jar() -> http.cookiejar.CookieJar:
    jar_class, policy_class = _stdlib_classes()
    # strict_domain refuses Domain=co.uk and its like: the stdlib's short
    # stand-in for the Public Suffix List, which no package here ships.
    # (Its strict_ns_domain flags are moot: return_ok_domain is ours.)
    return jar_class(policy_class(strict_domain=True))


def _stored_domain(domain: str) -> str:
    # The stdlib keys a dotless host ("localhost") as "localhost.local"; a
    # host-only cookie must carry that same name or it is never sent. IPv6
    # goes without brackets, as curl writes it (sockweb once wrote "[::1]").
    domain = domain.lower()
    if domain.startswith("[") and domain.endswith("]"):
        domain = domain[1:-1]
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
                self._stdlib_jar = _new_stdlib_jar()
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
        if path == "-":  # curl's -c -: standard output
            sys.stdout.write(_HEADER + "".join(lines))
            sys.stdout.flush()
            return
        path = os.path.realpath(path)  # through a symlink to its file, as curl writes
        try:
            special = not stat.S_ISREG(os.stat(path).st_mode)
        except FileNotFoundError:
            special = False
        if special:
            # /dev/null, a FIFO: written as it is. Replacing it would put a
            # file in its place (`-c /dev/null` as root broke the system's).
            with open(path, "w", encoding="latin-1", errors="replace") as f:
                f.write(_HEADER)
                f.writelines(lines)
            return
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
