"""A chunk whose declared size alone passes the body limit is a 413 at once.

RFC 9110 section 15.5.14 (413 Content Too Large): a server may refuse a
request whose content is larger than it will process. A Content-Length over
the limit is refused before any body byte; a chunk size (RFC 9112 section
7.1) over it must be too, as nginx does ("client intended to send too large
chunked body"), not after waiting for bytes that are never going to be read.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from sockweb.http.errors import RemoteProtocolError
from sockweb.http.events import Data, EndOfMessage, RequestHead
from sockweb.http.limits import Limits
from sockweb.http.parser import RequestParser
from tests.conftest import ServerProcess, split_responses

LIMIT = 1024
SMALL = Limits(max_body_size=LIMIT)
HEAD = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"


def _kinds(events: list[object]) -> list[object]:
    out: list[object] = []
    for event in events:
        if isinstance(event, RequestHead):
            out.append("head")
        elif isinstance(event, Data):
            if out and isinstance(out[-1], bytes):
                out[-1] += event.data
            else:
                out.append(event.data)
        elif isinstance(event, EndOfMessage):
            out.append("end")
        elif isinstance(event, RemoteProtocolError):
            out.append(event.status)
    return out


def _feed(pieces: list[bytes]) -> list[object]:
    parser = RequestParser(SMALL)
    events: list[object] = []
    for piece in pieces:
        events.extend(parser.feed(piece))
    return _kinds(events)


def _bytewise(data: bytes) -> list[bytes]:
    return [data[i:i + 1] for i in range(len(data))]


@pytest.mark.parametrize("size_line", [
    b"%x\r\n" % (LIMIT + 1),
    b"%X\r\n" % (LIMIT + 1),
    b"%x;name=value\r\n" % (LIMIT + 1),
    b"0000%x\r\n" % (LIMIT * 1000),
], ids=["hex", "upper-case hex", "with an extension", "leading zeros"])
@pytest.mark.parametrize("cut", ["whole", "head apart", "size line cut", "bytewise"])
def test_chunk_size_over_limit_is_413_before_its_data_rfc9112_7_1(
        size_line: bytes, cut: str) -> None:
    data = HEAD + size_line + b"hello"
    pieces = {
        "whole": [data],
        "head apart": [HEAD, size_line + b"hello"],
        "size line cut": [HEAD + size_line[:2], size_line[2:] + b"hel", b"lo"],
        "bytewise": _bytewise(data),
    }[cut]
    events = _feed(pieces)
    assert events[0] == "head"
    assert events[-1] == 413
    assert "end" not in events


def test_later_chunk_over_what_is_left_is_413_rfc9112_7_1() -> None:
    # 1000 bytes read; a second chunk of 25 passes 1024 before its data.
    data = HEAD + b"3e8\r\n" + b"x" * 1000 + b"\r\n19\r\nab"
    assert _feed([data])[-1] == 413


@pytest.mark.parametrize("pieces", [
    [HEAD + b"400\r\n" + b"x" * 10, b"x" * (LIMIT - 10) + b"\r\n0\r\n\r\n"],
    [HEAD + b"200\r\n", b"x" * 512 + b"\r\n200\r\n" + b"y" * 100, b"y" * 412 + b"\r\n0\r\n\r\n"],
    # Trailer fields after the last chunk, a read ending inside them.
    [HEAD + b"400\r\n" + b"x" * LIMIT + b"\r\n0\r\nfff", b"fffff: 1\r\n\r\n"],
    _bytewise(HEAD + b"400;ext=\"fffffff\"\r\n" + b"x" * LIMIT + b"\r\n0\r\n\r\n"),
], ids=["one chunk at the limit", "two chunks at the limit", "trailers", "bytewise"])
def test_chunks_up_to_the_limit_are_accepted_rfc9112_7_1(pieces: list[bytes]) -> None:
    events = _feed(pieces)
    assert events[0] == "head" and events[-1] == "end"
    assert isinstance(events[1], bytes) and len(events[1]) == LIMIT


def test_next_request_after_a_chunked_one_is_not_checked_as_chunks() -> None:
    data = (HEAD + b"5\r\nhello\r\n0\r\n\r\n"
            + b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab")
    events = _feed([data, b"cde"])
    assert events == ["head", b"hello", "end", "head", b"abcde", "end"]


# -- over a real socket --------------------------------------------------------

@pytest.fixture(scope="module")
def hello() -> Iterator[ServerProcess]:
    # Long timeouts: an answer within seconds is the limit, not a timeout.
    server = ServerProcess(["--hello", "--limit-body", str(LIMIT), "--timeout-io", "30",
                            "--timeout-headers", "30", "--timeout-keep-alive", "30"])
    yield server
    server.stop()


def _first_answer(port: int, data: bytes, timeout: float = 3.0) -> tuple[bytes, float]:
    """Send ``data``, keep the connection open, read until the server closes."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        received = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            received += chunk
    return received, time.monotonic() - started


@pytest.mark.parametrize("declared", [
    b"Content-Length: %d\r\n\r\n" % (LIMIT + 1),
    b"Transfer-Encoding: chunked\r\n\r\n%x\r\nhello" % (LIMIT + 1),
    b"Transfer-Encoding: chunked\r\n\r\n200000\r\nhello",
], ids=["content-length", "chunk one over", "chunk of 2 MiB"])
def test_server_refuses_a_declared_body_over_limit_at_once_rfc9110_15_5_14(
        hello: ServerProcess, declared: bytes) -> None:
    data, elapsed = _first_answer(hello.port, b"POST / HTTP/1.1\r\nHost: a\r\n" + declared)
    responses = split_responses(data)
    assert [status for status, _, _ in responses] == [413]
    assert responses[0][1].get("connection") == "close"
    assert elapsed < 2.5
