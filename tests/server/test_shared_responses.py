"""Responses served again and again (the hello page, a ready static file) are
written from bytes kept for the second: every variant of a request must still
get its own framing (RFC 9112 sections 6 and 9, RFC 9110 section 9.3.2)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from sockweb.server.exchange import WireCache
from sockweb.server.hello import HELLO, HELLO_BODY
from sockweb.server.response import Response

from ..conftest import ServerProcess, raw_exchange, split_responses

HOST = b"Host: t\r\n"
# One connection, five requests: the same resource asked in every form whose
# bytes on the wire differ. The last one closes the connection.
VARIANTS = (
    b"GET %(p)s HTTP/1.1\r\n" + HOST + b"\r\n"
    b"HEAD %(p)s HTTP/1.1\r\n" + HOST + b"\r\n"
    b"GET %(p)s HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
    b"GET %(p)s HTTP/1.1\r\n" + HOST + b"\r\n"
    b"GET %(p)s HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n"
)


def check_variants(raw: bytes, body: bytes) -> None:
    # HEAD's response has a Content-Length but no body: cut it out by hand.
    first, _, rest = raw.partition(b"\r\n\r\n")
    assert rest.startswith(body)
    rest = rest[len(body):]
    head_of_head, sep, rest = rest.partition(b"\r\n\r\n")
    assert sep and head_of_head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Content-Length: %d\r\n" % len(body) in head_of_head + b"\r\n"
    responses = split_responses(first + b"\r\n\r\n" + body + rest)
    assert [status for status, _, _ in responses] == [200, 200, 200, 200]
    assert all(got == body for _, _, got in responses)
    plain, http10, again, closing = (headers for _, headers, _ in responses)
    assert "connection" not in plain and "connection" not in again
    assert http10["connection"] == "keep-alive"  # RFC 9112 section 9.3
    assert closing["connection"] == "close"


def test_hello_variants_on_one_connection(start_server: Callable[..., ServerProcess]) -> None:
    server = start_server("--hello", "--no-access-log")
    raw = raw_exchange(server.port, VARIANTS % {b"p": b"/"})
    check_variants(raw, HELLO_BODY)


def test_static_file_variants_on_one_connection(
    start_server: Callable[..., ServerProcess], site: Path
) -> None:
    server = start_server(str(site), "--no-access-log")
    # Warm-up: read, then served from the cache, then a ready response.
    for _ in range(3):
        raw_exchange(server.port, b"GET /hello.txt HTTP/1.1\r\n" + HOST +
                     b"Connection: close\r\n\r\n")
    raw = raw_exchange(server.port, VARIANTS % {b"p": b"/hello.txt"})
    check_variants(raw, b"hello, world\n")
    (site / "hello.txt").write_bytes(b"changed now!\n")
    raw = raw_exchange(server.port, VARIANTS % {b"p": b"/hello.txt"})
    check_variants(raw, b"changed now!\n")


def test_wire_cache_keeps_one_entry_per_variant() -> None:
    cache = WireCache()
    got = {
        (keep_alive, http_10, method): cache.get(HELLO, method, keep_alive, http_10)
        for keep_alive in (True, False)
        for http_10 in (True, False)
        for method in (b"GET", b"HEAD")
    }
    # A closing answer reads the same whichever the version: 6 distinct.
    assert len(set(got.values())) == 6
    assert got[(False, True, b"GET")] == got[(False, False, b"GET")]
    assert b"Connection: close\r\n" in got[(False, True, b"HEAD")]
    assert b"Connection: keep-alive\r\n" in got[(True, True, b"GET")]
    assert got[(True, False, b"GET")].endswith(b"\r\n\r\n" + HELLO_BODY)
    assert got[(True, False, b"HEAD")].endswith(b"\r\n\r\n")
    assert cache.get(HELLO, b"GET", True, False) is got[(True, False, b"GET")]


def test_wire_cache_never_mixes_up_two_responses() -> None:
    cache = WireCache()
    one = Response(200, [], b"one", shared=True)
    two = Response(200, [], b"two!", shared=True)
    assert cache.get(one, b"GET", True, False).endswith(b"one")
    assert cache.get(two, b"GET", True, False).endswith(b"two!")
    assert cache.get(one, b"GET", True, False).endswith(b"one")


@pytest.mark.parametrize("status", [204, 304])
def test_wire_cache_no_body_statuses_rfc9110_15_3_5(status: int) -> None:
    cache = WireCache()
    data = cache.get(Response(status, [], b"", shared=True), b"GET", True, False)
    assert data.endswith(b"\r\n\r\n")
    assert b"Content-Length" not in data


def test_close_after_complete_request_then_partial_one_still_delivers_rfc9112_9_6(
    start_server: Callable[..., ServerProcess],
) -> None:
    """RFC 9112 section 9.6: a server that closes while the client may still be
    sending half-closes first (lingering), so unread bytes cannot turn the close
    into a reset that destroys the response; with nothing left unread it may
    close at once."""
    import contextlib
    import socket

    server = start_server("--hello", "--no-access-log")
    for extra in (b"", b"GET /next HTTP/1.1\r\nHost: t\r\nX-Pad: " + b"p" * 2000):
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n" + extra)
            received = b""
            while True:
                if extra:  # keeps sending while the server closes
                    with contextlib.suppress(OSError):
                        sock.send(b"p" * 512)
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
        [(status, headers, body)] = split_responses(received)
        assert (status, body, headers["connection"]) == (200, HELLO_BODY, "close")


def test_app_head_cache_tells_every_difference_apart() -> None:
    from sockweb.server.exchange import HeadCache

    cache = HeadCache()
    plain = [(b"content-type", b"text/plain")]
    html = [(b"content-type", b"text/html")]
    first = cache.get(200, plain, b"GET", 5, True, False)
    assert cache.get(200, list(plain), b"GET", 5, True, False) is first
    variants = {
        cache.get(201, plain, b"GET", 5, True, False),
        cache.get(200, html, b"GET", 5, True, False),
        cache.get(200, plain, b"GET", 6, True, False),
        cache.get(200, plain, b"GET", 5, False, False),
        cache.get(200, plain, b"GET", 5, True, True),
        cache.get(200, plain, b"GET", None, True, False),
        first,
    }
    assert len(variants) == 7
    assert b"Content-Length: 6\r\n" in cache.get(200, plain, b"GET", 6, True, False)
    assert b"Connection: close\r\n" in cache.get(200, plain, b"GET", 5, False, False)


def _one_response(sock: object, head_only: bool = False) -> tuple[int, dict[str, str], bytes]:
    """Read exactly one Content-Length-framed response from ``sock``."""
    import socket as _socket

    assert isinstance(sock, _socket.socket)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "connection closed before a whole head"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    [(status, headers, _)] = split_responses(head + b"\r\n\r\n")
    length = 0 if head_only else int(headers["content-length"])
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed inside a body"
        body += chunk
    assert len(body) == length, "more bytes than one response"
    return status, headers, body


def test_one_request_per_read_on_an_idle_connection_rfc9112_9_3(
    start_server: Callable[..., ServerProcess], tmp_path: Path,
) -> None:
    """The usual keep-alive read (one whole request, nothing in flight) takes
    a shorter path; every variant must still be framed as RFC 9112 sections 6
    and 9.3 say, and an answer that is not a ready one (404, a query) must
    leave the connection as usable as the general path does."""
    import socket

    (tmp_path / "hello.txt").write_bytes(b"hello, world\n")
    server = start_server(str(tmp_path), "--no-access-log")
    steps = [
        (b"GET /hello.txt HTTP/1.1\r\n" + HOST + b"\r\n", 200, b"hello, world\n", None),
        (b"HEAD /hello.txt HTTP/1.1\r\n" + HOST + b"\r\n", 200, b"", None),
        (b"GET /missing.txt HTTP/1.1\r\n" + HOST + b"\r\n", 404, None, None),
        (b"GET /hello.txt?x=1 HTTP/1.1\r\n" + HOST + b"\r\n", 200, b"hello, world\n", None),
        (b"GET /hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 200,
         b"hello, world\n", "keep-alive"),
        (b"GET /hello.txt HTTP/1.1\r\n" + HOST + b"\r\n", 200, b"hello, world\n", None),
        (b"GET /hello.txt HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n", 200,
         b"hello, world\n", "close"),
    ]
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        for request, status, body, connection in steps:
            sock.sendall(request)
            got_status, headers, got_body = _one_response(sock, request.startswith(b"HEAD"))
            assert got_status == status, request
            if body is not None:
                assert got_body == body, request
            if request.startswith(b"HEAD"):
                assert headers["content-length"] == "13"
            assert headers.get("connection") == connection, request
        assert sock.recv(1) == b""  # closed after the last, as it said


def test_date_moves_on_while_a_connection_stays_rfc9110_6_6_1(
    start_server: Callable[..., ServerProcess],
) -> None:
    """RFC 9110 section 6.6.1: Date is when the message was made. The kept
    bytes of a ready answer are renewed when the second changes, also on a
    connection that stays open (the check goes by the event loop's clock)."""
    import email.utils
    import socket
    import time

    server = start_server("--hello", "--no-access-log")
    dates = []
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        for _ in range(3):
            before = int(time.time())
            sock.sendall(b"GET / HTTP/1.1\r\n" + HOST + b"\r\n")
            status, headers, body = _one_response(sock)
            after = int(time.time())
            assert (status, body) == (200, HELLO_BODY)
            date = email.utils.parsedate_to_datetime(headers["date"]).timestamp()
            assert before <= date <= after
            dates.append(date)
            time.sleep(0.6)
    assert dates[2] > dates[0]


@pytest.mark.parametrize("request_bytes", [
    b"GET / HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n",
    b"GET / HTTP/1.0\r\n\r\n",
    b"HEAD / HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n",
])
def test_date_moves_on_for_answers_that_close_rfc9110_6_6_1(
    start_server: Callable[..., ServerProcess], request_bytes: bytes,
) -> None:
    """The same rule for a ready answer that ends its connection (kept per
    second too, checked by the event loop's clock): each new connection's
    Date is the time it was answered."""
    import email.utils
    import socket
    import time

    server = start_server("--hello", "--no-access-log")
    dates = []
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            before = int(time.time())
            sock.sendall(request_bytes)
            status, headers, _ = _one_response(sock, request_bytes.startswith(b"HEAD"))
            after = int(time.time())
            assert status == 200 and headers["connection"] == "close"
            assert sock.recv(1) == b""
        date = email.utils.parsedate_to_datetime(headers["date"]).timestamp()
        assert before <= date <= after
        dates.append(date)
        time.sleep(0.6)
    assert dates[2] > dates[0]


def test_wire_cache_reads_the_clock_again_only_past_the_second() -> None:
    """Given the loop's time, the cache looks at the wall clock once a second:
    before the next wall-clock second the bytes are the very same object; past
    it the Date is read again."""
    import email.utils
    import time

    cache = WireCache()
    first = cache.get(HELLO, b"GET", True, False, now=100.0)
    check_at = cache._check_at
    assert 100.0 < check_at <= 101.0
    assert cache.get(HELLO, b"GET", True, False, now=check_at - 1e-6) is first
    later = cache.get(HELLO, b"GET", True, False, now=check_at + 5.0)
    assert cache._check_at > check_at + 5.0
    date = later.split(b"Date: ", 1)[1].split(b"\r\n", 1)[0].decode()
    assert abs(email.utils.parsedate_to_datetime(date).timestamp() - time.time()) < 2
