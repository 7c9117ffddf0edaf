"""URL parsing and serialisation: WHATWG URL Standard rules, RFC 3986 section 5.4."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sockweb.http.errors import SockwebError
from sockweb.http.urls import URL, InvalidURL, encode_query, parse_query, plain_relative_path

RFC_BASE = "http://a/b/c/d;p?q"

# (input, base, expected href or None when parsing must fail). Written from
# the standard's rules and RFC 3986 section 5.4, not copied from WPT.
CASES: list[tuple[str, str | None, str | None]] = [
    # scheme and host case, default ports
    ("HTTP://EXAMPLE.COM", None, "http://example.com/"),
    ("hTtPs://Example.Com/Path", None, "https://example.com/Path"),
    ("http://example.com:80/", None, "http://example.com/"),
    ("https://example.com:443/", None, "https://example.com/"),
    ("http://example.com:443/", None, "http://example.com:443/"),
    ("https://example.com:80/", None, "https://example.com:80/"),
    ("http://example.com:0080/", None, "http://example.com/"),
    ("http://example.com:/", None, "http://example.com/"),
    ("http://example.com:8080", None, "http://example.com:8080/"),
    # slashes: any number, either direction, after a special scheme
    ("http:example.com/x", None, "http://example.com/x"),
    ("http:/example.com/x", None, "http://example.com/x"),
    ("http:///example.com/x", None, "http://example.com/x"),
    ("http:\\\\example.com\\a\\b", None, "http://example.com/a/b"),
    ("http://example.com\\a/b\\c", None, "http://example.com/a/b/c"),
    # stripping and removal (WHATWG basic URL parser, first steps)
    ("  http://example.com/ \x00", None, "http://example.com/"),
    ("\x1f http://example.com/a\tb\nc\rd", None, "http://example.com/abcd"),
    ("ht\ttp://exa\nmple.com/", None, "http://example.com/"),
    # IDNA
    ("http://bücher.example/", None, "http://xn--bcher-kva.example/"),
    ("http://BÜCHER.example/", None, "http://xn--bcher-kva.example/"),
    ("http://ÉXAMPLE.com/", None, "http://xn--xample-9ua.com/"),
    ("http://xn--bcher-kva.example/", None, "http://xn--bcher-kva.example/"),
    ("http://XN--BCHER-KVA.example/", None, "http://xn--bcher-kva.example/"),
    (
        "http://\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0e\uff43\uff4f\uff4d/",
        None,
        "http://example.com/",
    ),  # full-width
    ("http://例え.テスト/", None, "http://xn--r8jz45g.xn--zckzah/"),
    ("http://b%C3%BCcher.example/", None, "http://xn--bcher-kva.example/"),
    ("http://ex%41mple.com/", None, "http://example.com/"),
    ("http://xn--a.example/", None, None),
    ("http://xn--ls8h-/", None, None),
    ("http://xn--abc-/", None, None),
    ("http://xn--ls8h/", None, "http://xn--ls8h/"),
    ("http://xn--fa-hia.de/", None, "http://xn--fa-hia.de/"),
    # IPv6
    ("http://[::1]:8080/", None, "http://[::1]:8080/"),
    ("http://[0:0::1]/", None, "http://[::1]/"),
    ("http://[2001:DB8:0:0:0:0:0:1]/", None, "http://[2001:db8::1]/"),
    ("http://[1:0:0:2:0:0:0:3]/", None, "http://[1:0:0:2::3]/"),
    ("http://[1:0:2:3:4:5:6:7]/", None, "http://[1:0:2:3:4:5:6:7]/"),
    ("http://[::ffff:192.0.2.1]/", None, "http://[::ffff:c000:201]/"),
    ("http://[::1]:80/", None, "http://[::1]/"),
    ("http://[::1", None, None),
    ("http://[::1]x/", None, None),
    ("http://[::1::2]/", None, None),
    ("http://[fe80::1%25eth0]/", None, None),
    ("http://[]/", None, None),
    ("http://::1/", None, None),
    # IPv4, in every form the standard reads
    ("http://192.0.2.1/", None, "http://192.0.2.1/"),
    ("http://192.0.2.1./", None, "http://192.0.2.1/"),
    ("http://0x7f.1/", None, "http://127.0.0.1/"),
    ("http://0177.0.0.1/", None, "http://127.0.0.1/"),
    ("http://2130706433/", None, "http://127.0.0.1/"),
    ("http://127.1/", None, "http://127.0.0.1/"),
    ("http://\uff11\uff12\uff17.0.0.1/", None, "http://127.0.0.1/"),  # full-width
    ("http://256.0.0.1/", None, None),
    ("http://1.2.3.4.5/", None, None),
    ("http://4294967296/", None, None),
    ("http://1.2.3.09/", None, None),
    ("http://example.09/", None, None),
    ("http://1..2/", None, None),
    ("http://1.2.3.x/", None, "http://1.2.3.x/"),
    # userinfo
    ("http://user:pass@example.com/", None, "http://user:pass@example.com/"),
    ("http://us%65r:p%40ss@example.com/", None, "http://user:p%40ss@example.com/"),
    ("http://a@b@example.com/", None, "http://a%40b@example.com/"),
    ("http://user:pa:ss@example.com/", None, "http://user:pa%3Ass@example.com/"),
    ("http://:secret@example.com/", None, "http://:secret@example.com/"),
    ("http://@example.com/", None, "http://example.com/"),
    ("http://user:@example.com/", None, "http://user@example.com/"),
    ("http://us er:pä@example.com/", None, "http://us%20er:p%C3%A4@example.com/"),
    ("http://user@/", None, None),
    # percent-encoding of path, query, fragment
    ("http://h/a b", None, "http://h/a%20b"),
    ("http://h/é", None, "http://h/%C3%A9"),
    ("http://h/%zz/%41", None, "http://h/%zz/%41"),
    ('http://h/<>"`{}^|[]', None, "http://h/%3C%3E%22%60%7B%7D%5E|[]"),
    ("http://h/?a b'é\"<>`{}", None, "http://h/?a%20b%27%C3%A9%22%3C%3E`{}"),
    ("http://h/?q#f g<>`'\"é", None, "http://h/?q#f%20g%3C%3E%60'%22%C3%A9"),
    ("http://h/?#", None, "http://h/?#"),
    ("http://h/#a#b?c", None, "http://h/#a#b?c"),
    # dot segments, encoded ones too
    ("http://h/a/./b/../c", None, "http://h/a/c"),
    ("http://h/a/%2e/b/%2E%2e/c", None, "http://h/a/c"),
    ("http://h/a/.%2e", None, "http://h/"),
    ("http://h/a/b/..", None, "http://h/a/"),
    ("http://h/a/b/.", None, "http://h/a/b/"),
    ("http://h/../../x", None, "http://h/x"),
    ("http://h/a/..%2f", None, "http://h/a/..%2f"),
    ("http://h/%252e/", None, "http://h/%252e/"),
    ("http://h/a/.b/..c", None, "http://h/a/.b/..c"),
    # RFC 3986 section 5.4.1 normal examples (g:h: a scheme we do not speak)
    ("g:h", RFC_BASE, None),
    ("g", RFC_BASE, "http://a/b/c/g"),
    ("./g", RFC_BASE, "http://a/b/c/g"),
    ("g/", RFC_BASE, "http://a/b/c/g/"),
    ("/g", RFC_BASE, "http://a/g"),
    ("//g", RFC_BASE, "http://g/"),
    ("?y", RFC_BASE, "http://a/b/c/d;p?y"),
    ("g?y", RFC_BASE, "http://a/b/c/g?y"),
    ("#s", RFC_BASE, "http://a/b/c/d;p?q#s"),
    ("g#s", RFC_BASE, "http://a/b/c/g#s"),
    ("g?y#s", RFC_BASE, "http://a/b/c/g?y#s"),
    (";x", RFC_BASE, "http://a/b/c/;x"),
    ("g;x", RFC_BASE, "http://a/b/c/g;x"),
    ("g;x?y#s", RFC_BASE, "http://a/b/c/g;x?y#s"),
    ("", RFC_BASE, "http://a/b/c/d;p?q"),
    (".", RFC_BASE, "http://a/b/c/"),
    ("./", RFC_BASE, "http://a/b/c/"),
    ("..", RFC_BASE, "http://a/b/"),
    ("../", RFC_BASE, "http://a/b/"),
    ("../g", RFC_BASE, "http://a/b/g"),
    ("../..", RFC_BASE, "http://a/"),
    ("../../", RFC_BASE, "http://a/"),
    ("../../g", RFC_BASE, "http://a/g"),
    # RFC 3986 section 5.4.2 abnormal examples
    ("../../../g", RFC_BASE, "http://a/g"),
    ("../../../../g", RFC_BASE, "http://a/g"),
    ("/./g", RFC_BASE, "http://a/g"),
    ("/../g", RFC_BASE, "http://a/g"),
    ("g.", RFC_BASE, "http://a/b/c/g."),
    (".g", RFC_BASE, "http://a/b/c/.g"),
    ("g..", RFC_BASE, "http://a/b/c/g.."),
    ("..g", RFC_BASE, "http://a/b/c/..g"),
    ("./../g", RFC_BASE, "http://a/b/g"),
    ("./g/.", RFC_BASE, "http://a/b/c/g/"),
    ("g/./h", RFC_BASE, "http://a/b/c/g/h"),
    ("g/../h", RFC_BASE, "http://a/b/c/h"),
    ("g;x=1/./y", RFC_BASE, "http://a/b/c/g;x=1/y"),
    ("g;x=1/../y", RFC_BASE, "http://a/b/c/y"),
    ("g?y/./x", RFC_BASE, "http://a/b/c/g?y/./x"),
    ("g?y/../x", RFC_BASE, "http://a/b/c/g?y/../x"),
    ("g#s/./x", RFC_BASE, "http://a/b/c/g#s/./x"),
    ("g#s/../x", RFC_BASE, "http://a/b/c/g#s/../x"),
    # "http:g": the RFC's strict parser says "http:g"; browsers (and we) resolve it
    ("http:g", RFC_BASE, "http://a/b/c/g"),
    ("http:/g", RFC_BASE, "http://a/g"),
    ("https:g", RFC_BASE, "https://g/"),
    # more relative forms
    ("\\g", RFC_BASE, "http://a/g"),
    ("\\\\g\\h", RFC_BASE, "http://g/h"),
    ("//user@g:8080/x?y", RFC_BASE, "http://user@g:8080/x?y"),
    ("https://other/", RFC_BASE, "https://other/"),
    ("#", RFC_BASE, "http://a/b/c/d;p?q#"),
    ("?", RFC_BASE, "http://a/b/c/d;p?"),
    ("x y", RFC_BASE, "http://a/b/c/x%20y"),
    ("", "http://a/b#frag", "http://a/b"),
    ("x", "http://u:p@a:81/", "http://u:p@a:81/x"),
    # invalid ports
    ("http://example.com:99999/", None, None),
    ("http://example.com:65536/", None, None),
    ("http://example.com:65535/", None, "http://example.com:65535/"),
    ("http://example.com:8o/", None, None),
    ("http://example.com:-1/", None, None),
    ("http://example.com:+80/", None, None),
    ("http://example.com: 80/", None, None),
    ("http://example.com:8:8/", None, None),
    ("http://example.com:٨٠/", None, None),
    # forbidden host code points, empty hosts
    ("http://exa mple.com/", None, None),
    ("http://exa%20mple.com/", None, None),
    ("http://a<b/", None, None),
    ("http://a>b/", None, None),
    ("http://a^b/", None, None),
    ("http://a|b/", None, None),
    ("http://a[b/", None, None),
    ("http://a%25b/", None, None),
    ("http://%zz/", None, None),
    ("http://a%2Fb/", None, None),
    ("http://a%3Ab/", None, None),
    ("http://a%00b/", None, None),
    ("http:///", None, None),
    ("http://", None, None),
    ("http:", None, None),
    ("http://:80/", None, None),
    ("http://?x", None, None),
    # schemes
    ("ftp://example.com/", None, None),
    ("mailto:someone@example.com", None, None),
    ("javascript:alert(1)", RFC_BASE, None),
    ("example.com/x", None, None),
    ("", None, None),
    # file
    ("file:///etc/passwd", None, "file:///etc/passwd"),
    ("FILE:///a/../b", None, "file:///b"),
    ("file://localhost/x", None, "file:///x"),
    ("file://server/share/x", None, "file://server/share/x"),
    ("file:/x", None, "file:///x"),
    ("file:x", None, "file:///x"),
    ("file://host:80/", None, None),
    ("y", "file:///a/b", "file:///a/y"),
]


@pytest.mark.parametrize(("text", "base", "expected"), CASES)
def test_whatwg_style_cases(text: str, base: str | None, expected: str | None) -> None:
    base_url = URL.parse(base) if base is not None else None
    if expected is None:
        with pytest.raises(InvalidURL):
            URL.parse(text, base_url)
        return
    url = URL.parse(text, base_url)
    assert str(url) == expected
    assert str(URL.parse(expected)) == expected


def test_fields() -> None:
    url = URL.parse("HTTPS://us%65r:p%40ss@[::1]:8443/a%20b?x=1#frag")
    assert url == URL("https", "user", "p@ss", "::1", 8443, "/a%20b", "x=1", "frag")
    assert url.userinfo == ("user", "p@ss")
    assert URL.parse("http://h").userinfo is None
    assert URL.parse("http://h").query is None
    assert URL.parse("http://h?").query == ""


@pytest.mark.parametrize(
    ("message", "text"),
    [
        ("URL has no host", "http://:80/"),
        ("invalid port '99999'", "http://h:99999/"),
        ("unsupported scheme 'ftp'", "ftp://h/"),
        ("invalid IPv6 address", "http://[::1/"),
        ("invalid IPv4 address", "http://1.2.3.256/"),
        ("forbidden character '<'", "http://a<b/"),
        ("has no scheme", "example.com"),
    ],
)
def test_error_messages_name_the_fault(message: str, text: str) -> None:
    with pytest.raises(InvalidURL, match=message.replace("[", r"\[")) as info:
        URL.parse(text)
    assert isinstance(info.value, SockwebError)


# -- the targets and headers a client sends ---------------------------------------


@pytest.mark.parametrize(
    ("text", "host_header", "target", "absolute"),
    [
        ("http://example.com/a?b#c", "example.com", "/a?b", "http://example.com/a?b"),
        ("http://example.com:8080#c", "example.com:8080", "/", "http://example.com:8080/"),
        ("https://u:p@example.com:443/?", "example.com", "/?", "https://example.com/?"),
        ("http://[::1]:8000/x", "[::1]:8000", "/x", "http://[::1]:8000/x"),
        ("http://[::1]/x", "[::1]", "/x", "http://[::1]/x"),
        ("http://bücher.example/", "xn--bcher-kva.example", "/", "http://xn--bcher-kva.example/"),
    ],
)
def test_request_targets(text: str, host_header: str, target: str, absolute: str) -> None:
    url = URL.parse(text)
    assert url.netloc_for_host_header == host_header
    assert url.request_target == target
    assert url.absolute_target == absolute


def test_ports_and_origin() -> None:
    assert URL.parse("http://h/").effective_port == 80
    assert URL.parse("https://h/").effective_port == 443
    assert URL.parse("https://h:8443/").origin == ("https", "h", 8443)
    assert URL.parse("http://h:80/").origin == URL.parse("http://H/x").origin
    assert URL.parse("http://[::1]/").is_ipv6
    assert not URL.parse("http://127.0.0.1/").is_ipv6


# -- default_scheme: curl's and HTTPie's habit ----------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("example.com/x", "http://example.com/x"),
        ("localhost:8000", "http://localhost:8000/"),
        ("localhost:8000/path?q", "http://localhost:8000/path?q"),
        ("example.com:80", "http://example.com/"),
        ("user:pw@host/", "http://user:pw@host/"),
        ("[::1]:8080", "http://[::1]:8080/"),
        ("127.0.0.1", "http://127.0.0.1/"),
        ("bücher.example", "http://xn--bcher-kva.example/"),
        ("https://example.com", "https://example.com/"),
        ("HTTP://example.com", "http://example.com/"),
    ],
)
def test_default_scheme(text: str, expected: str) -> None:
    assert str(URL.parse(text, default_scheme="http")) == expected


def test_default_scheme_keeps_errors() -> None:
    with pytest.raises(InvalidURL, match="unsupported scheme 'ftp'"):
        URL.parse("ftp://example.com/", default_scheme="http")
    with pytest.raises(InvalidURL, match="invalid port"):
        URL.parse("localhost:99999", default_scheme="http")
    # A base wins: the text is a relative reference then.
    base = URL.parse("http://a/b/")
    assert str(URL.parse("c", base, default_scheme="https")) == "http://a/b/c"


# -- derived URLs -----------------------------------------------------------------


def test_join_is_parse_with_base() -> None:
    base = URL.parse(RFC_BASE)
    assert base.join("../g") == URL.parse("../g", base)
    assert str(base.join("//other:8080")) == "http://other:8080/"


def test_with_path_and_query() -> None:
    url = URL.parse("http://h/a?q#f")
    assert str(url.with_path("/x y/./z")) == "http://h/x%20y/z?q#f"
    assert str(url.with_path("rel")) == "http://h/rel?q#f"
    assert str(url.with_path("a?b")) == "http://h/a%3Fb?q#f"
    assert str(url.with_query("a b#c")) == "http://h/a?a%20b%23c#f"
    assert str(url.with_query([("k", "v w"), ("é", "&")])) == "http://h/a?k=v+w&%C3%A9=%26#f"
    assert str(url.with_query(None)) == "http://h/a#f"


def test_replace_normalises() -> None:
    url = URL.parse("http://h:443/x")
    assert str(url.replace(scheme="HTTPS")) == "https://h/x"
    assert str(url.replace(host="BÜCHER.example")) == "http://xn--bcher-kva.example:443/x"
    assert str(url.replace(host="::1", port=80)) == "http://[::1]/x"
    assert str(url.replace(fragment="a b")) == "http://h:443/x#a%20b"
    assert url.replace(fragment="f").replace(fragment=None).fragment is None
    assert str(url.replace(username="a@b", password="p:w")) == "http://a%40b:p%3Aw@h:443/x"
    with pytest.raises(InvalidURL, match="invalid port"):
        url.replace(port=70000)
    with pytest.raises(InvalidURL, match="no host"):
        url.replace(host="")
    with pytest.raises(InvalidURL, match="unsupported scheme"):
        url.replace(scheme="gopher")
    with pytest.raises(InvalidURL):
        url.replace(host="a/b")


def test_copy_without_userinfo_and_repr_hides_password() -> None:
    url = URL.parse("http://user:hunter2@h/")
    assert str(url.copy_without_userinfo()) == "http://h/"
    assert "hunter2" not in repr(url)
    assert repr(url) == "URL('http://user:***@h/')"


def test_urls_are_values() -> None:
    assert URL.parse("HTTP://H:80/a/../b") == URL.parse("http://h/b")
    assert len({URL.parse("http://h/"), URL.parse("http://H")}) == 1


# -- application/x-www-form-urlencoded ----------------------------------------------


def test_encode_query() -> None:
    assert encode_query([("a b", "c&d=e")]) == "a+b=c%26d%3De"
    assert encode_query([("k", "é~!*'()-._+")]) == "k=%C3%A9%7E%21*%27%28%29-._%2B"
    assert encode_query([("", ""), ("x", "")]) == "=&x="
    assert encode_query([]) == ""


def test_parse_query() -> None:
    assert parse_query("a+b=c%26d%3De&&x&y=%zz&z=%C3%A9&w=%FF") == [
        ("a b", "c&d=e"),
        ("x", ""),
        ("y", "%zz"),
        ("z", "é"),
        ("w", "\ufffd"),
    ]
    assert parse_query("a=1=2") == [("a", "1=2")]
    assert parse_query("") == []


@given(st.lists(st.tuples(st.text(), st.text())))
def test_query_round_trip(pairs: list[tuple[str, str]]) -> None:
    assert parse_query(encode_query(pairs)) == pairs


# -- properties -------------------------------------------------------------------

_label = st.from_regex(r"[a-zA-Z0-9]([a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?", fullmatch=True)
_hosts = st.one_of(
    st.lists(_label, min_size=1, max_size=4).map(".".join),
    st.sampled_from(["bücher.example", "ÉXAMPLE.com", "例え.テスト", "xn--bcher-kva.example"]),
    st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t))),
    st.integers(0, 2**32 - 1).map(str),
    st.sampled_from(["[::1]", "[0:0::1]", "[2001:db8::8:800:200c:417a]", "[::ffff:1.2.3.4]"]),
)
_part = st.text(st.characters(codec="utf-8"), max_size=20)
_urls = st.builds(
    lambda scheme, userinfo, host, port, path, query, fragment: (
        f"{scheme}://{userinfo}{host}{port}/{path}{query}{fragment}"
    ),
    st.sampled_from(["http", "https", "HTTP"]),
    st.one_of(st.just(""), st.builds(lambda u, p: f"{u}:{p}@", _part, _part)),
    _hosts,
    st.one_of(st.just(""), st.integers(0, 65535).map(lambda p: f":{p}")),
    _part,
    st.one_of(st.just(""), _part.map(lambda q: "?" + q)),
    st.one_of(st.just(""), _part.map(lambda f: "#" + f)),
)


def _parse_or_none(text: str, base: URL | None = None) -> URL | None:
    try:
        return URL.parse(text, base)
    except InvalidURL:
        return None


@given(_urls)
def test_serialisation_is_idempotent(text: str) -> None:
    url = _parse_or_none(text)
    if url is not None:
        again = URL.parse(str(url))
        assert again == url
        assert str(again) == str(url)


def _check_any_text(text: str) -> None:
    url = _parse_or_none(text)
    if url is not None:
        assert str(URL.parse(str(url))) == str(url)
    for base in (URL.parse(RFC_BASE), URL.parse("file:///a/b")):
        joined = _parse_or_none(text, base)
        if joined is not None:
            assert str(URL.parse(str(joined))) == str(joined)
    try:
        url = URL.parse(text, default_scheme="https")
    except InvalidURL:
        return
    assert str(URL.parse(str(url))) == str(url)


@given(st.text())
def test_parse_raises_only_invalid_url(text: str) -> None:
    _check_any_text(text)


@given(st.text(alphabet="htpsfile:/\\[]@%.?#0123456789abcdefx-: \tè", max_size=30))
def test_parse_raises_only_invalid_url_on_url_like_text(text: str) -> None:
    _check_any_text(text)


# -- the plain relative path short cut -------------------------------------------------------

_BASES = ["file:///usr/share/doc/python3-doc/html/contents.html", "http://h.test/a/b/c.html?q#f",
          "https://h.test", "http://h.test/dir/", "http://u:p@h.test:8080/x/y", "file:///"]


@pytest.mark.parametrize(("reference", "plain"), [
    ("library/os.html", True), ("a", True), ("a/", True), (".hidden/x", True), ("a..b", True),
    ("a;b=c@d", True), ("-~_!$&'()*+,", True),
    ("./a", False), ("a/./b", False), ("a/..", False), ("..", False), ("%2e%2e/x", False),
    ("/abs", False), ("//host/x", False), ("a:b", False), ("a\\b", False), ("a?q", False),
    ("a#f", False), ("a b", False), (" a", False), ("a\tb", False), ("é", False), ("", False),
])
def test_which_references_are_plain_relative_paths(reference: str, plain: bool) -> None:
    assert plain_relative_path(reference) is plain


@given(st.text(alphabet="ab./%2e:?#\\ @;|[]~\t", min_size=1, max_size=10),
       st.sampled_from(_BASES))
def test_a_plain_relative_path_joins_as_the_parser_joins_it(reference: str, base: str) -> None:
    """WHATWG URL basic parser, path relative state: the short cut gives its result."""
    url = URL.parse(base)
    if plain_relative_path(reference):
        assert url.directory() + reference == str(url.join(reference))


@pytest.mark.parametrize("base", _BASES)
def test_directory_is_the_join_of_an_empty_last_segment(base: str) -> None:
    url = URL.parse(base)
    assert url.directory() + "x" == str(url.join("x"))
