"""The Host field's value (RFC 9112 section 3.2): uri-host [ ":" port ].

"A server MUST respond with a 400 (Bad Request) status code to any HTTP/1.1
request message that lacks a Host header field and to any request message
that contains more than one Host header field line or a Host header field
with an invalid field value." The syntax is RFC 3986's (sections 3.2.2 and
3.2.3): a reg-name of unreserved characters, sub-delims and pct-encoded
octets, an IPv4 address, or an IP-literal in brackets; a port of digits.
Checked as a function, as bytes into the parser, and over a real socket.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sockweb.http.events import RequestHead
from sockweb.http.hosts import valid_host_field
from sockweb.http.parser import RequestParser
from tests.conftest import ServerProcess, raw_exchange, split_responses

VALID = [
    b"",                       # empty: what a client sends for a target without authority
    b"a",
    b"example.com",
    b"example.com:8080",
    b"example.com:",           # port = *DIGIT: may be empty
    b"EXAMPLE.com",
    b"127.0.0.1",
    b"127.0.0.1:8080",
    b"[::1]",
    b"[::1]:8080",
    b"[2001:db8::7]",
    b"[::ffff:192.0.2.1]",
    b"[v1.fe80::a+en1]",       # IPvFuture
    b"a..b",                   # fits reg-name (nginx refuses it; the RFC does not)
    b"xn--bcher-kva.example",
    b"a_b~c-d",
    b"a!$&'()*+,;=b",          # sub-delims
    b"caf%C3%A9.example",      # pct-encoded
]

INVALID = [
    b"a b",
    b"a/b",
    b'x"<y',
    b"a>b",
    b"a\\b",
    b"user@host",              # userinfo is not part of Host
    b"host:port",
    b"host:80:80",
    b"host:-1",
    b"a%zz",
    b"a%2",
    b"caf\xc3\xa9.example",    # raw non-ASCII: only pct-encoded or punycode
    b"[::1",
    b"::1",
    b"[::1]x",
    b"[::1]]",
    b"[zz::1]",
    b"[fe80::1%25eth0]",       # a zone identifier is RFC 6874's, not RFC 3986's
    b"[127.0.0.1]",
    b"[v1]",
    b"a?b",
    b"a#b",
    b"{a}",
    b"a|b",
]


@pytest.mark.parametrize("value", VALID)
def test_valid_host_values_rfc9112_3_2(value: bytes) -> None:
    assert valid_host_field(value)


@pytest.mark.parametrize("value", INVALID)
def test_invalid_host_values_rfc9112_3_2(value: bytes) -> None:
    assert not valid_host_field(value)


# -- as bytes into the parser --------------------------------------------------

def _request(host: bytes, extra: bytes = b"") -> bytes:
    return b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n" + extra + b"\r\n"


def _statuses(parser: RequestParser, data: bytes) -> list[object]:
    out: list[object] = []
    for event in parser.feed(data):
        if isinstance(event, RequestHead):
            out.append("head")
        elif hasattr(event, "status"):
            out.append(event.status)
    return out


@pytest.mark.parametrize("extra", [b"", b"Connection: close\r\n", b"Content-Length: 0\r\n"])
@pytest.mark.parametrize("value", INVALID)
def test_parser_refuses_an_invalid_host_with_400_rfc9112_3_2(value: bytes, extra: bytes) -> None:
    # Each path of the parser: the usual head, Connection the only framing
    # field, and the general checks.
    assert _statuses(RequestParser(), _request(value, extra)) == [400]


@pytest.mark.parametrize("value", VALID)
def test_parser_accepts_a_valid_host_rfc9112_3_2(value: bytes) -> None:
    assert _statuses(RequestParser(), _request(value)) == ["head"]


def test_parser_refuses_an_invalid_host_split_byte_by_byte_rfc9112_3_2() -> None:
    parser = RequestParser()
    events: list[object] = []
    for byte in _request(b"a b"):
        events.extend(_statuses(parser, bytes([byte])))
    assert events == [400]


def test_a_kept_connection_checks_each_new_host_rfc9112_3_2() -> None:
    # The last valid Host is remembered per connection: a different one
    # after it is checked again, an invalid one refused.
    parser = RequestParser()
    assert _statuses(parser, _request(b"a") * 3) == ["head"] * 3
    assert _statuses(parser, _request(b"b:80")) == ["head"]
    assert _statuses(parser, _request(b"a/b")) == [400]


def test_an_invalid_host_among_two_is_refused_in_http10_rfc9112_3_2() -> None:
    data = b"GET / HTTP/1.0\r\nHost: a\r\nHost: a b\r\n\r\n"
    assert _statuses(RequestParser(), data) == [400]


def test_http10_without_host_is_still_accepted_rfc9112_3_2() -> None:
    assert _statuses(RequestParser(), b"GET / HTTP/1.0\r\n\r\n") == ["head"]


# -- over a real socket --------------------------------------------------------

@pytest.fixture(scope="module")
def hello() -> Iterator[ServerProcess]:
    server = ServerProcess(["--hello", "--timeout-keep-alive", "10"])
    yield server
    server.stop()


@pytest.mark.parametrize("value", [b"a b", b"a/b", b'x"<y', b"[::1"])
def test_server_answers_an_invalid_host_with_400_and_closes_rfc9112_3_2(
        hello: ServerProcess, value: bytes) -> None:
    # Kept alive (no Connection: close): the 400 must end the connection.
    data = raw_exchange(hello.port, _request(value), timeout=3)
    responses = split_responses(data)
    assert [status for status, _, _ in responses] == [400]
    assert responses[0][1].get("connection") == "close"


@pytest.mark.parametrize("value", [b"a..b", b"", b"[::1]:8080"])
def test_server_accepts_a_valid_host_rfc9112_3_2(hello: ServerProcess, value: bytes) -> None:
    data = raw_exchange(hello.port, _request(value, b"Connection: close\r\n"), timeout=3)
    assert [status for status, _, _ in split_responses(data)] == [200]
