"""The pool's bookkeeping (RFC 9112 section 9.3), driven by a fake clock.

The connections are real ``Connection`` objects over ``socket.socketpair()``:
the far end plays the server, so "the server closed while we were idle" and
"that response said Connection: close" are the real thing, not flags set by
hand. Time is the pool's ``clock`` parameter, moved by the test.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from sockweb.client.connection import Connection
from sockweb.client.pool import Pool

A = ("http", "a.test", 80, None)
B = ("http", "b.test", 80, None)
C = ("https", "a.test", 443, None)
D = ("http", "a.test", 8080, None)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Wires:
    """Connections with their far ends; everything is closed at the end of the test."""

    def __init__(self) -> None:
        self.peers: dict[int, socket.socket] = {}
        self.conns: list[Connection] = []

    def new(self, key: tuple[object, ...]) -> Connection:
        ours, theirs = socket.socketpair()
        theirs.settimeout(2)
        conn = Connection(ours, key, read_timeout=2)
        self.peers[id(conn)] = theirs
        self.conns.append(conn)
        return conn

    def peer(self, conn: Connection) -> socket.socket:
        return self.peers[id(conn)]

    def exchange(self, conn: Connection, response: bytes, method: bytes = b"GET",
                 read_body: bool = True, close_after: bool = False) -> bytes:
        """One real request and response over the pair; returns the body read."""
        peer = self.peer(conn)
        conn.send_request(method, b"/", [(b"Host", b"a.test")])
        assert peer.recv(65536).startswith(method + b" / HTTP/1.1\r\n")
        peer.sendall(response)
        if close_after:
            peer.shutdown(socket.SHUT_WR)
        conn.read_head()
        if not read_body:
            return b""
        return b"".join(conn.iter_body())

    def close(self) -> None:
        for conn in self.conns:
            conn.close()
        for peer in self.peers.values():
            peer.close()


@pytest.fixture
def wires() -> Iterator[Wires]:
    w = Wires()
    yield w
    w.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


# -- reuse -----------------------------------------------------------------------


def test_empty_pool_has_nothing(clock: Clock) -> None:
    pool = Pool(clock=clock)
    assert pool.acquire(A) is None
    assert pool.idle_count() == 0
    assert pool.idle_count(A) == 0


def test_released_connection_comes_back_for_its_origin_only(clock: Clock, wires: Wires) -> None:
    pool = Pool(clock=clock)
    conn = wires.new(A)
    assert wires.exchange(conn, OK) == b"ok"
    pool.release(conn)
    assert pool.idle_count() == 1
    assert pool.idle_count(A) == 1
    # Another host, scheme or port is another origin (RFC 6454).
    for other in (B, C, D):
        assert pool.acquire(other) is None
    assert pool.acquire(A) is conn
    assert pool.idle_count() == 0
    assert not conn.closed
    # And it works for a second exchange.
    assert wires.exchange(conn, OK) == b"ok"


def test_most_recently_used_comes_back_first(clock: Clock, wires: Wires) -> None:
    pool = Pool(clock=clock)
    first, second = wires.new(A), wires.new(A)
    pool.release(first)
    clock.now += 1
    pool.release(second)
    assert pool.acquire(A) is second
    assert pool.acquire(A) is first
    assert pool.acquire(A) is None


# -- caps ------------------------------------------------------------------------


def test_per_origin_cap_closes_the_oldest(clock: Clock, wires: Wires) -> None:
    pool = Pool(per_origin=2, total=100, clock=clock)
    conns = [wires.new(A) for _ in range(3)]
    for conn in conns:
        pool.release(conn)
        clock.now += 1
    assert pool.idle_count(A) == 2
    assert pool.idle_count() == 2
    assert conns[0].closed
    assert not conns[1].closed
    assert not conns[2].closed
    assert pool.acquire(A) is conns[2]
    assert pool.acquire(A) is conns[1]
    assert pool.acquire(A) is None


def test_per_origin_cap_leaves_other_origins_alone(clock: Clock, wires: Wires) -> None:
    pool = Pool(per_origin=1, total=100, clock=clock)
    a, b, a2 = wires.new(A), wires.new(B), wires.new(A)
    pool.release(a)
    pool.release(b)
    pool.release(a2)
    assert a.closed
    assert not b.closed
    assert pool.idle_count(A) == 1
    assert pool.idle_count(B) == 1
    assert pool.idle_count() == 2


def test_total_cap_closes_the_oldest(clock: Clock, wires: Wires) -> None:
    pool = Pool(per_origin=10, total=3, clock=clock)
    conns = [wires.new(key) for key in (A, B, C, D)]
    for conn in conns:
        pool.release(conn)
        clock.now += 1
    assert pool.idle_count() == 3
    assert conns[0].closed
    assert pool.idle_count(A) == 0
    assert [pool.idle_count(k) for k in (B, C, D)] == [1, 1, 1]
    assert not any(c.closed for c in conns[1:])


def test_total_cap_closes_the_connection_idle_longest_across_origins(
    clock: Clock, wires: Wires
) -> None:
    """"The oldest goes first" (pool.py): the one idle longest, not merely one of the
    origin that was pooled first."""
    pool = Pool(per_origin=2, total=3, clock=clock)
    a1, b1, a2, a3, c1 = (wires.new(k) for k in (A, B, A, A, C))
    for conn in (a1, b1, a2, a3):  # idle since t, t+1, t+2, t+3
        pool.release(conn)
        clock.now += 1
    assert a1.closed  # the per-origin cap of 2
    assert pool.idle_count() == 3  # b1 (t+1), a2 (t+2), a3 (t+3)
    pool.release(c1)  # one too many: b1 has been idle longest
    assert pool.idle_count() == 3
    assert b1.closed
    assert not a2.closed
    assert pool.idle_count(A) == 2


# -- time and staleness ------------------------------------------------------------


def test_idle_timeout(clock: Clock, wires: Wires) -> None:
    pool = Pool(idle_timeout=4.0, clock=clock)
    kept, dropped = wires.new(A), wires.new(B)
    pool.release(kept)
    pool.release(dropped)
    clock.now += 4.0
    assert pool.acquire(A) is kept  # exactly at the timeout: still fine
    clock.now += 0.5
    assert pool.acquire(B) is None  # 4.5 s idle: the server has likely closed it
    assert dropped.closed
    assert pool.idle_count() == 0


def test_idle_timeout_counts_from_the_last_release(clock: Clock, wires: Wires) -> None:
    pool = Pool(idle_timeout=4.0, clock=clock)
    conn = wires.new(A)
    pool.release(conn)
    clock.now += 3
    assert pool.acquire(A) is conn
    pool.release(conn)
    clock.now += 3  # 6 s since first pooled, 3 s since last
    assert pool.acquire(A) is conn


def test_expired_connection_is_skipped_for_a_fresher_one(clock: Clock, wires: Wires) -> None:
    pool = Pool(idle_timeout=4.0, clock=clock)
    old, fresh = wires.new(A), wires.new(A)
    pool.release(old)
    clock.now += 10
    pool.release(fresh)
    clock.now += 1
    assert pool.acquire(A) is fresh
    assert pool.acquire(A) is None
    assert old.closed


def test_peer_closed_while_idle_is_not_reused_rfc9112_9_3_1(clock: Clock, wires: Wires) -> None:
    """RFC 9112 section 9.3.1: a server may close an idle connection at any time."""
    pool = Pool(clock=clock)
    conn = wires.new(A)
    assert wires.exchange(conn, OK) == b"ok"
    pool.release(conn)
    wires.peer(conn).close()
    assert pool.acquire(A) is None
    assert conn.closed
    assert pool.idle_count() == 0


def test_peer_sent_bytes_while_idle_is_not_reused(clock: Clock, wires: Wires) -> None:
    """Unrequested bytes (a 408, or a stray response) would be taken as the next response."""
    pool = Pool(clock=clock)
    conn = wires.new(A)
    assert wires.exchange(conn, OK) == b"ok"
    pool.release(conn)
    wires.peer(conn).sendall(b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n")
    assert pool.acquire(A) is None
    assert conn.closed


def test_stale_connection_is_skipped_for_a_live_one(clock: Clock, wires: Wires) -> None:
    pool = Pool(clock=clock)
    live, dead = wires.new(A), wires.new(A)
    pool.release(live)
    pool.release(dead)
    wires.peer(dead).close()
    assert pool.acquire(A) is live
    assert dead.closed


# -- what may go back --------------------------------------------------------------


NOT_REUSABLE = {
    "connection_close_rfc9112_9_6": (
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", False),
    "http10_without_keep_alive_rfc9112_9_3": (
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", False),
    "close_delimited_body_rfc9112_6_3_8": (b"HTTP/1.1 200 OK\r\n\r\nuntil close", True),
}


@pytest.mark.parametrize("name", list(NOT_REUSABLE))
def test_release_of_a_non_reusable_connection_closes_it(
    name: str, clock: Clock, wires: Wires
) -> None:
    response, close_after = NOT_REUSABLE[name]
    pool = Pool(clock=clock)
    conn = wires.new(A)
    wires.exchange(conn, response, close_after=close_after)
    assert not conn.reusable
    pool.release(conn)
    assert conn.closed
    assert pool.idle_count() == 0
    assert pool.acquire(A) is None


def test_release_in_the_middle_of_a_body_closes_it(clock: Clock, wires: Wires) -> None:
    """An unread body would be read as the start of the next response."""
    pool = Pool(clock=clock)
    conn = wires.new(A)
    wires.exchange(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", read_body=False)
    assert not conn.reusable
    pool.release(conn)
    assert conn.closed
    assert pool.idle_count() == 0


def test_release_after_http10_keep_alive_keeps_it(clock: Clock, wires: Wires) -> None:
    pool = Pool(clock=clock)
    conn = wires.new(A)
    wires.exchange(conn, b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n"
                         b"\r\nok")
    pool.release(conn)
    assert pool.acquire(A) is conn


def test_release_after_head_and_304_keeps_it(clock: Clock, wires: Wires) -> None:
    """RFC 9110 sections 9.3.2 and 15.4.5: no body follows, whatever the length says."""
    pool = Pool(clock=clock)
    conn = wires.new(A)
    wires.exchange(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", method=b"HEAD")
    pool.release(conn)
    assert pool.acquire(A) is conn
    wires.exchange(conn, b"HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n")
    pool.release(conn)
    assert pool.acquire(A) is conn
    assert wires.exchange(conn, OK) == b"ok"


def test_release_of_a_closed_connection_does_not_pool_it(clock: Clock, wires: Wires) -> None:
    pool = Pool(clock=clock)
    conn = wires.new(A)
    conn.close()
    pool.release(conn)
    assert pool.idle_count() == 0


def test_close_closes_every_idle_connection(clock: Clock, wires: Wires) -> None:
    pool = Pool(clock=clock)
    conns = [wires.new(k) for k in (A, A, B, C)]
    for conn in conns:
        pool.release(conn)
    pool.close()
    assert all(c.closed for c in conns)
    assert pool.idle_count() == 0
    assert pool.acquire(A) is None
