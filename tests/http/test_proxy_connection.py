"""Proxy-Connection is not Connection (RFC 9110 section 7.6.1).

RFC 9110 defines no Proxy-Connection field; a server ignores it, as nginx
does, and decides persistence by Connection alone (RFC 9112 section 9.3).
llhttp reads it as Connection and, after "Proxy-Connection: close", would
refuse the next request as data after the close, while the answer had said
the connection persists: the next request must be answered as any other.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sockweb.http.errors import RemoteProtocolError
from sockweb.http.events import EndOfMessage, RequestHead
from sockweb.http.parser import RequestParser
from tests.conftest import ServerProcess, raw_exchange, split_responses

PROXY_CLOSE = b"GET /a.txt HTTP/1.1\r\nHost: x\r\nProxy-Connection: close\r\n\r\n"
PLAIN = b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n"
CLOSE = b"GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


def _kinds(events: list[object]) -> list[object]:
    out: list[object] = []
    for event in events:
        if isinstance(event, RequestHead):
            out.append(("head", event.keep_alive))
        elif isinstance(event, EndOfMessage):
            out.append("end")
        elif isinstance(event, RemoteProtocolError):
            out.append(event.status)
    return out


def _feed(data: bytes, bytewise: bool = False) -> list[object]:
    parser = RequestParser()
    pieces = [data[i:i + 1] for i in range(len(data))] if bytewise else [data]
    events: list[object] = []
    for piece in pieces:
        events.extend(parser.feed(piece))
    return _kinds(events)


@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])
@pytest.mark.parametrize("first", [
    PROXY_CLOSE,
    # Connection is the only framing field here: the parser's other path.
    b"GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: x-foo\r\nProxy-Connection: close\r\n\r\n",
    # A body: the general path.
    b"POST /a.txt HTTP/1.1\r\nHost: x\r\nProxy-Connection: close\r\nContent-Length: 2\r\n\r\nab",
], ids=["alone", "beside Connection", "with a body"])
def test_request_after_proxy_connection_close_is_parsed_rfc9110_7_6_1(
        first: bytes, bytewise: bool) -> None:
    events = _feed(first + PLAIN + CLOSE, bytewise)
    assert [e for e in events if e != "end"] == [("head", True), ("head", True), ("head", False)]


def test_no_request_is_parsed_after_a_real_close_rfc9112_9_6() -> None:
    # Going on after Proxy-Connection must not make llhttp go on after a real close.
    events = _feed(PROXY_CLOSE + CLOSE + PLAIN)
    assert events[:4] == [("head", True), "end", ("head", False), "end"]
    assert ("head", True) not in events[4:]


def test_http10_proxy_connection_keep_alive_does_not_keep_rfc9112_9_3() -> None:
    data = b"GET / HTTP/1.0\r\nProxy-Connection: keep-alive\r\n\r\n"
    assert _feed(data) == [("head", False), "end"]


# -- over a real socket --------------------------------------------------------

@pytest.fixture(scope="module")
def static(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root: Path = tmp_path_factory.mktemp("proxy_connection")
    (root / "a.txt").write_text("hello\n")
    server = ServerProcess([str(root), "--timeout-keep-alive", "10"])
    yield server
    server.stop()


def test_server_answers_the_request_after_proxy_connection_close_rfc9110_7_6_1(
        static: ServerProcess) -> None:
    data = raw_exchange(static.port, PROXY_CLOSE + PLAIN + CLOSE, timeout=3)
    responses = split_responses(data)
    assert [status for status, _, _ in responses] == [200, 200, 200]
    assert [body for _, _, body in responses] == [b"hello\n"] * 3
    # The first two answers say the connection persists, and it does.
    assert [headers.get("connection") for _, headers, _ in responses] == [None, None, "close"]


TRAILER = (b"POST /a.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"1\r\na\r\n0\r\n%b: close\r\n\r\n")


@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])
@pytest.mark.parametrize("field", [b"Connection", b"Proxy-Connection"])
def test_connection_in_a_trailer_does_not_end_the_connection_rfc9110_6_5_1(
        field: bytes, bytewise: bool) -> None:
    """A trailer field is no connection field: llhttp read it as one, and the
    request after it was refused as data after the close (found in review)."""
    events = _feed(TRAILER % field + PLAIN + CLOSE, bytewise)
    assert [e for e in events if e != "end"] == [("head", True), ("head", True), ("head", False)]


def test_a_trailer_does_not_keep_what_the_head_closed_rfc9112_9_6() -> None:
    closing = TRAILER.replace(b"Host: x\r\n", b"Host: x\r\nConnection: close\r\n") % b"X-T"
    events = _feed(closing + PLAIN)
    assert events[:2] == [("head", False), "end"]
    assert ("head", True) not in events[2:]
