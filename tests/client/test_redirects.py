"""Redirect decisions (RFC 9110 section 15.4, Fetch "HTTP-redirect fetch"): pure tables."""

from __future__ import annotations

import pytest

from sockweb.client.redirects import (
    MAX_REDIRECTS,
    REDIRECT_STATUSES,
    RedirectError,
    TooManyRedirects,
    origin,
    plan_redirect,
    redirect_headers,
    redirect_method,
    redirect_url,
    should_keep_body,
)
from sockweb.http.errors import SockwebError
from sockweb.http.headers import Headers

METHOD_TABLE = [
    # RFC 9110 15.4.2 / 15.4.3: POST becomes GET as every user agent does.
    ("POST", 301, "GET"),
    ("POST", 302, "GET"),
    ("GET", 301, "GET"),
    ("HEAD", 302, "HEAD"),
    ("PUT", 301, "PUT"),
    ("DELETE", 302, "DELETE"),
    # RFC 9110 15.4.4: 303 means "GET the answer elsewhere", HEAD excepted.
    ("POST", 303, "GET"),
    ("PUT", 303, "GET"),
    ("DELETE", 303, "GET"),
    ("GET", 303, "GET"),
    ("HEAD", 303, "HEAD"),
    # RFC 9110 15.4.8 / 15.4.9: 307 and 308 never change the method.
    ("POST", 307, "POST"),
    ("POST", 308, "POST"),
    ("PATCH", 307, "PATCH"),
    ("HEAD", 308, "HEAD"),
    # Methods are case-sensitive (RFC 9110 9.1): "post" is not POST.
    ("post", 302, "post"),
    # Not redirects to follow: nothing changes.
    ("POST", 300, "POST"),
    ("POST", 304, "POST"),
]


def test_statuses() -> None:
    assert frozenset({301, 302, 303, 307, 308}) == REDIRECT_STATUSES
    assert MAX_REDIRECTS == 20


@pytest.mark.parametrize(("method", "status", "expected"), METHOD_TABLE)
def test_method_rfc9110_section_15_4(method: str, status: int, expected: str) -> None:
    assert redirect_method(method, status) == expected


@pytest.mark.parametrize(("method", "status", "expected"), METHOD_TABLE)
def test_body_kept_only_when_method_kept_fetch(method: str, status: int, expected: str) -> None:
    keep = should_keep_body(method, status)
    assert keep == (status in REDIRECT_STATUSES and expected == method)


URL_TABLE = [
    ("http://a.example/b/c?q=1", "/x", "http://a.example/x"),
    ("http://a.example/b/c?q=1", "x", "http://a.example/b/x"),
    ("http://a.example/b/c?q=1", "../x?y=2", "http://a.example/x?y=2"),
    ("http://a.example/b/c", "?page=2", "http://a.example/b/c?page=2"),
    ("http://a.example/b/c", "//cdn.example/x", "http://cdn.example/x"),
    ("https://a.example/b", "//cdn.example/x", "https://cdn.example/x"),
    ("http://a.example/", "https://b.example:8443/p", "https://b.example:8443/p"),
    ("https://a.example/", "http://a.example/down", "http://a.example/down"),
    ("http://a.example/", "  /trimmed \t", "http://a.example/trimmed"),
    ("http://a.example/", "HTTPS://B.example/", "https://B.example/"),
]


@pytest.mark.parametrize(("base", "location", "expected"), URL_TABLE)
def test_relative_location_rfc9110_section_10_2_2(base: str, location: str, expected: str) -> None:
    assert redirect_url(base, location) == expected


def test_fragment_inherited_rfc9110_section_10_2_2() -> None:
    assert redirect_url("http://a.example/p#sec", "/q") == "http://a.example/q#sec"
    assert redirect_url("http://a.example/p#sec", "/q#own") == "http://a.example/q#own"
    assert redirect_url("http://a.example/p", "/q") == "http://a.example/q"
    # An explicit empty fragment is the server's choice: no inheritance.
    assert redirect_url("http://a.example/p#sec", "/q#") == "http://a.example/q"


def test_non_ascii_location_percent_encoded() -> None:
    # Headers decode as latin-1: "é" sent as UTF-8 arrives as two chars.
    raw = "/caf\xc3\xa9 menu"
    assert redirect_url("http://a.example/", raw) == "http://a.example/caf%C3%A9%20menu"
    assert redirect_url("http://a.example/", "/\u2603") == "http://a.example/%E2%98%83"
    assert redirect_url("http://a.example/", "/already%20done") == "http://a.example/already%20done"


@pytest.mark.parametrize(
    "location",
    [
        "ftp://files.example/x",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "data:text/html,hi",
        "mailto:a@example.com",
        "http://a.example:99999/",
        "http://",
        "//",
        "https:///path",
        "http://[::1",  # urllib's ValueError once escaped as a traceback
    ],
)
def test_unfollowable_location_raises(location: str) -> None:
    with pytest.raises(RedirectError):
        redirect_url("http://a.example/", location)


def test_error_tree() -> None:
    assert issubclass(RedirectError, SockwebError)
    assert issubclass(TooManyRedirects, SockwebError)
    assert str(TooManyRedirects("more than 20 redirects")) == "more than 20 redirects"


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("http://a.example/x", "http://a.example:80/y", True),
        ("https://a.example/", "https://A.EXAMPLE:443/", True),
        ("http://a.example/", "https://a.example/", False),
        ("http://a.example/", "http://a.example:8080/", False),
        ("http://a.example/", "http://b.a.example/", False),
        ("http://[::1]:8000/", "http://[::1]:8000/z", True),
    ],
)
def test_origin_rfc6454(a: str, b: str, same: bool) -> None:
    assert (origin(a) == origin(b)) is same


def request_headers() -> Headers:
    return Headers(
        [
            (b"Host", b"a.example"),
            (b"Authorization", b"Basic dTpw"),
            (b"Proxy-Authorization", b"Basic cDpw"),
            (b"Cookie", b"sid=1"),
            (b"Content-Type", b"application/json"),
            (b"Content-Length", b"2"),
            (b"Content-Encoding", b"gzip"),
            (b"Transfer-Encoding", b"chunked"),
            (b"Accept", b"*/*"),
            (b"X-Custom", b"kept"),
        ]
    )


def names(headers: Headers) -> set[str]:
    return {name.lower() for name in headers}


def test_same_origin_keeps_credentials_and_own_host_rfc9110_section_15_4() -> None:
    """A Host of the caller's own (a virtual host tried before its name
    resolves) stays with the origin it was meant for, as curl keeps it."""
    original = request_headers()
    out = redirect_headers(original, "http://a.example/x", "http://a.example:80/y", False)
    assert names(out) == names(original)
    assert out.get("authorization") == "Basic dTpw"
    assert out is not original  # a copy: the caller's headers are untouched


@pytest.mark.parametrize(
    "new_url",
    ["http://b.example/", "https://a.example/", "http://a.example:8080/", "http://www.a.example/"],
)
def test_cross_origin_drops_credentials_rfc9110_section_15_4(new_url: str) -> None:
    out = redirect_headers(request_headers(), "http://a.example/", new_url, False)
    assert not names(out) & {"authorization", "proxy-authorization", "cookie", "host"}
    assert out.get("content-type") == "application/json"
    assert out.get("x-custom") == "kept"


def test_method_change_drops_body_fields_fetch() -> None:
    out = redirect_headers(request_headers(), "http://a.example/", "http://a.example/", True)
    assert names(out) == {"host", "authorization", "proxy-authorization", "cookie", "accept",
                          "x-custom"}


def test_order_and_duplicates_kept() -> None:
    headers = Headers([(b"X-A", b"1"), (b"Accept", b"a"), (b"X-A", b"2")])
    out = redirect_headers(headers, "http://a.example/", "http://a.example/", True)
    assert out.raw == [(b"X-A", b"1"), (b"Accept", b"a"), (b"X-A", b"2")]


def test_plan_redirect_post_303_to_other_origin() -> None:
    plan = plan_redirect("POST", "https://a.example/form#top", request_headers(), 303, "/done")
    assert plan.method == "GET"
    assert plan.url == "https://a.example/done#top"
    assert not plan.keep_body
    assert "content-length" not in plan.headers
    assert plan.headers.get("cookie") == "sid=1"  # same origin: kept

    plan = plan_redirect("PUT", "http://a.example/", request_headers(), 307, "http://b.example/")
    assert (plan.method, plan.url, plan.keep_body) == ("PUT", "http://b.example/", True)
    assert "authorization" not in plan.headers
    assert plan.headers.get("content-length") == "2"


def test_plan_redirect_refuses_what_is_not_a_redirect() -> None:
    with pytest.raises(RedirectError):
        plan_redirect("GET", "http://a.example/", Headers(), 304, "/x")
    with pytest.raises(RedirectError):
        plan_redirect("GET", "http://a.example/", Headers(), 302, None)
