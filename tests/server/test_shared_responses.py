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
