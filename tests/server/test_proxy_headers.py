"""proxy_headers.forwarded_client: one table row per rule (the module docstring's 1-5)."""

from __future__ import annotations

import pytest

from sockweb.http.headers import Headers
from sockweb.server.proxy_headers import (
    ForwardedClient,
    TrustedProxies,
    forwarded_client,
    parse_forwarded,
    parse_node,
)

LOCAL = "127.0.0.1"
PROXIES = "127.0.0.1, 10.0.0.0/8, 2001:db8:ffff::/48"

# (trusted, peer, scheme, headers) -> (host, port, scheme)
CASES: dict[str, tuple[str, tuple[str | None, int | None], str, list[tuple[str, str]],
                       tuple[str | None, int | None, str]]] = {
    # -- rule 1: only a trusted peer is believed
    "no headers": (PROXIES, (LOCAL, 5000), "http", [], (LOCAL, 5000, "http")),
    "untrusted peer ignored": (PROXIES, ("203.0.113.9", 5000), "http",
                               [("X-Forwarded-For", "1.2.3.4"), ("X-Forwarded-Proto", "https")],
                               ("203.0.113.9", 5000, "http")),
    "untrusted peer, Forwarded ignored": (PROXIES, ("203.0.113.9", 5000), "https",
                                          [("Forwarded", "for=1.2.3.4;proto=http")],
                                          ("203.0.113.9", 5000, "https")),
    "star trusts everyone": ("*", ("203.0.113.9", 5000), "http",
                             [("X-Forwarded-For", "1.2.3.4")], ("1.2.3.4", 0, "http")),
    "unix peer untrusted by default": (PROXIES, (None, None), "http",
                                       [("X-Forwarded-For", "1.2.3.4")], (None, None, "http")),
    "unix: trusts unix peers": ("unix:", (None, None), "http",
                                [("X-Forwarded-For", "1.2.3.4")], ("1.2.3.4", 0, "http")),
    "ipv4-mapped peer": ("127.0.0.1", ("::ffff:127.0.0.1", 1), "http",
                         [("X-Forwarded-For", "1.2.3.4")], ("1.2.3.4", 0, "http")),
    # -- rule 2: the rightmost untrusted hop
    "one hop": (PROXIES, (LOCAL, 1), "http", [("X-Forwarded-For", "198.51.100.7")],
                ("198.51.100.7", 0, "http")),
    "client's own claim on the left is ignored": (
        PROXIES, (LOCAL, 1), "http", [("X-Forwarded-For", "6.6.6.6, 198.51.100.7")],
        ("198.51.100.7", 0, "http")),
    "trusted hops skipped": (
        PROXIES, (LOCAL, 1), "http", [("X-Forwarded-For", "198.51.100.7, 10.1.2.3, 10.9.9.9")],
        ("198.51.100.7", 0, "http")),
    "untrusted proxy in the chain stops the walk": (
        PROXIES, (LOCAL, 1), "http", [("X-Forwarded-For", "198.51.100.7, 192.0.2.1, 10.0.0.1")],
        ("192.0.2.1", 0, "http")),
    "all trusted: the leftmost": (PROXIES, (LOCAL, 1), "http",
                                  [("X-Forwarded-For", "10.0.0.5, 10.0.0.6")],
                                  ("10.0.0.5", 0, "http")),
    "header repeated: one list": (
        PROXIES, (LOCAL, 1), "http",
        [("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-For", "198.51.100.7, 10.0.0.1")],
        ("198.51.100.7", 0, "http")),
    "ipv6 hop, and with brackets and port": (
        PROXIES, (LOCAL, 1), "http", [("X-Forwarded-For", "[2001:DB8::1]:4711, 2001:db8:ffff::2")],
        ("2001:db8::1", 4711, "http")),
    "ipv4 hop with a port": (PROXIES, (LOCAL, 1), "http", [("X-Forwarded-For", "1.2.3.4:80")],
                             ("1.2.3.4", 80, "http")),
    # -- X-Forwarded-Proto
    "proto alone": (PROXIES, (LOCAL, 1), "http", [("X-Forwarded-Proto", "https")],
                    (LOCAL, 1, "https")),
    "proto upper case": (PROXIES, (LOCAL, 1), "http",
                         [("X-Forwarded-For", "1.2.3.4"), ("X-Forwarded-Proto", "HTTPS")],
                         ("1.2.3.4", 0, "https")),
    "proto wss is https": (PROXIES, (LOCAL, 1), "http", [("X-Forwarded-Proto", "wss")],
                           (LOCAL, 1, "https")),
    "proto nonsense ignored": (PROXIES, (LOCAL, 1), "https", [("X-Forwarded-Proto", "gopher")],
                               (LOCAL, 1, "https")),
    "proto per hop, aligned": (
        PROXIES, (LOCAL, 1), "http",
        [("X-Forwarded-For", "1.2.3.4, 10.0.0.1"), ("X-Forwarded-Proto", "https, http")],
        ("1.2.3.4", 0, "https")),
    "proto overwritten by the proxy: the rightmost": (
        PROXIES, (LOCAL, 1), "http",
        [("X-Forwarded-For", "6.6.6.6, 1.2.3.4"), ("X-Forwarded-Proto", "https")],
        ("1.2.3.4", 0, "https")),
    # -- Forwarded (RFC 7239)
    "forwarded for and proto": (PROXIES, (LOCAL, 1), "http",
                                [("Forwarded", "for=192.0.2.60;proto=https;by=203.0.113.43")],
                                ("192.0.2.60", 0, "https")),
    "forwarded quoted ipv6 with port": (PROXIES, (LOCAL, 1), "http",
                                        [("Forwarded", 'For="[2001:db8:cafe::17]:4711"')],
                                        ("2001:db8:cafe::17", 4711, "http")),
    "forwarded rightmost untrusted element": (
        PROXIES, (LOCAL, 1), "http",
        [("Forwarded", "for=6.6.6.6;proto=http, for=192.0.2.43;proto=https, for=10.0.0.1")],
        ("192.0.2.43", 0, "https")),
    "forwarded obfuscated kept as is": (PROXIES, (LOCAL, 1), "http",
                                        [("Forwarded", "for=_hidden, for=10.0.0.1")],
                                        ("_hidden", 0, "http")),
    "forwarded obfuscated port": (PROXIES, (LOCAL, 1), "http",
                                  [("Forwarded", 'for="_gazonk:_p1"')], ("_gazonk", 0, "http")),
    "forwarded unknown kept": (PROXIES, (LOCAL, 1), "http", [("Forwarded", "for=unknown")],
                               ("unknown", 0, "http")),
    "forwarded comma inside quotes": (PROXIES, (LOCAL, 1), "http",
                                      [("Forwarded", 'for="1.2.3.4";host="a,b", for=10.0.0.1')],
                                      ("1.2.3.4", 0, "http")),
    "forwarded proto only": (PROXIES, (LOCAL, 1), "http", [("Forwarded", "proto=https")],
                             (LOCAL, 1, "https")),
    "forwarded two fields": (PROXIES, (LOCAL, 1), "http",
                             [("Forwarded", "for=1.2.3.4"), ("Forwarded", "for=10.0.0.1")],
                             ("1.2.3.4", 0, "http")),
    # -- rule 3: both kinds present
    "both agree": (PROXIES, (LOCAL, 1), "http",
                   [("Forwarded", "for=1.2.3.4;proto=https"), ("X-Forwarded-For", "1.2.3.4")],
                   ("1.2.3.4", 0, "https")),
    "both disagree: unknown, never the peer": (
        PROXIES, (LOCAL, 1), "http",
        [("Forwarded", "for=6.6.6.6"), ("X-Forwarded-For", "1.2.3.4")], ("unknown", 0, "http")),
    # -- rule 4: garbage never becomes the peer's address
    "garbage hop is unknown": (PROXIES, (LOCAL, 1), "http",
                               [("X-Forwarded-For", "<script>")], ("unknown", 0, "http")),
    "garbage left of the client is never looked at": (
        PROXIES, (LOCAL, 1), "http", [("X-Forwarded-For", "not an ip, 1.2.3.4")],
        ("1.2.3.4", 0, "http")),
    "malformed Forwarded is unknown": (PROXIES, (LOCAL, 1), "http",
                                       [("Forwarded", 'for="1.2.3.4')], ("unknown", 0, "http")),
    "Forwarded parameter twice is malformed": (
        PROXIES, (LOCAL, 1), "http", [("Forwarded", "for=1.2.3.4;for=5.6.7.8")],
        ("unknown", 0, "http")),
    "unquoted ipv6 in Forwarded is unknown": (
        PROXIES, (LOCAL, 1), "http", [("Forwarded", "for=[2001:db8::1]:80x")],
        ("unknown", 0, "http")),
    "empty X-Forwarded-For": (PROXIES, (LOCAL, 1), "http", [("X-Forwarded-For", "")],
                              ("unknown", 0, "http")),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_forwarded_client(case: tuple[str, tuple[str | None, int | None], str,
                                      list[tuple[str, str]],
                                      tuple[str | None, int | None, str]]) -> None:
    trusted, (peer_host, peer_port), scheme, fields, expected = case
    headers = Headers([(n.encode(), v.encode("latin-1")) for n, v in fields])
    got = forwarded_client(peer_host, peer_port, scheme, headers, TrustedProxies(trusted))
    assert got == ForwardedClient(*expected)


@pytest.mark.parametrize(("text", "node"), [
    ("192.0.2.1", ("192.0.2.1", 0)),
    ("192.0.2.1:8080", ("192.0.2.1", 8080)),
    ("[::1]", ("::1", 0)),
    ("[::1]:443", ("::1", 443)),
    ("::1", ("::1", 0)),
    ("unknown", ("unknown", 0)),
    ("_abc-1.x", ("_abc-1.x", 0)),
    ("1.2.3.4:99999", None),
    ("1.2.3.4:", ("1.2.3.4", 0)),
    ("[1.2.3.4]", None),
    ("[::1", None),
    ("example.com", None),
    ("", None),
])
def test_parse_node(text: str, node: tuple[str, int] | None) -> None:
    assert parse_node(text) == node


def test_parse_forwarded_elements() -> None:
    assert parse_forwarded(['for=a;proto=https, for="b\\"c";by=x', "host=h"]) == [
        {"for": "a", "proto": "https"}, {"for": 'b"c', "by": "x"}, {"host": "h"}]
    assert parse_forwarded(["for"]) is None
    assert parse_forwarded([" , ,for=a"]) == [{"for": "a"}]


@pytest.mark.parametrize("spec", ["localhost", "10.0.0.0/33", "1.2.3.4.5", "unix"])
def test_trusted_list_refuses_what_is_not_an_address(spec: str) -> None:
    with pytest.raises(ValueError, match="--forwarded-allow-ips"):
        TrustedProxies(spec)


def test_trusted_list() -> None:
    trusted = TrustedProxies(" 127.0.0.1 ,10.0.0.0/8,, ::1")
    assert trusted.trusts("10.255.0.1") and trusted.trusts("::1") and trusted.trusts(LOCAL)
    assert not trusted.trusts("11.0.0.1") and not trusted.trusts("unknown")
    assert not trusted.trusts(None) and not trusted.trusts("::2")


def test_bad_allow_list_is_one_line_exit_2() -> None:
    from tests.server.test_sockets import run_cli

    out = run_cli("--hello", "--port", "0", "--proxy-headers", "--forwarded-allow-ips", "lan")
    assert out.returncode == 2
    assert out.stderr.strip() == ("sockweb: --forwarded-allow-ips: 'lan' is not an IP address, "
                                  "a network, 'unix:' or '*'")
