"""Slow and stuck clients must not hold up the others.

One event loop serves every connection, so a client that dribbles its head
or never reads its response must cost the server a buffer, not its attention.
The numbers here are liveness bounds ("answered within N seconds"), generous
next to the milliseconds a local request takes.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import ServerProcess, split_responses

Start = Callable[..., ServerProcess]

SLOW_CLIENTS = 200
SLOW_SECONDS = 5  # each slow client sends one byte a second for this long
ANSWER_WITHIN = 2.0
PARTIAL_HEAD = b"GET /hello.txt HTTP/1.1\r\nHost: slow\r\n"  # never finished
HELLO = b"GET /hello.txt HTTP/1.1\r\nHost: normal\r\n\r\n"


def request_on(sock: socket.socket, data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send one request on ``sock`` and read exactly one Content-Length response."""
    sock.sendall(data)
    buf = b""
    deadline = time.monotonic() + ANSWER_WITHIN
    while b"\r\n\r\n" not in buf and time.monotonic() < deadline:
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
    head, sep, rest = buf.partition(b"\r\n\r\n")
    assert sep, f"no complete response head: {buf[:200]!r}"
    length = int(split_responses(head + b"\r\n\r\n")[0][1].get("content-length", "0"))
    while len(rest) < length and time.monotonic() < deadline:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    status, fields, _ = split_responses(head + b"\r\n\r\n" + rest[:length])[0]
    return status, fields, rest[:length]


def timed_hello(port: int) -> float:
    """A fresh connection, one GET /hello.txt; the seconds it took. Fails past the bound."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=ANSWER_WITHIN) as sock:
        status, _, body = request_on(sock, HELLO)
    elapsed = time.monotonic() - start
    assert (status, body) == (200, b"hello, world\n")
    assert elapsed < ANSWER_WITHIN, f"answered after {elapsed:.2f}s"
    return elapsed


def test_200_slow_heads_do_not_delay_a_normal_client(start_server: Start, site: Path) -> None:
    """RFC 9112 section 9.5 (slowloris): heads dribbled a byte a second by 200
    clients cost no one else time; the normal client is answered each time."""
    server = start_server(str(site))
    slow: list[socket.socket] = []
    stop = threading.Event()
    send_errors: list[BaseException] = []

    def dribble() -> None:
        # One thread for all the slow sockets: one byte to each, once a second.
        for step in range(SLOW_SECONDS):
            for sock in slow:
                try:
                    sock.send(PARTIAL_HEAD[step : step + 1])
                except OSError as exc:
                    send_errors.append(exc)
            if stop.wait(1.0):
                return

    try:
        for _ in range(SLOW_CLIENTS):
            slow.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
        dribbler = threading.Thread(target=dribble, daemon=True)
        dribbler.start()
        times = []
        # Normal requests spread over the dribbling, on fresh and on one kept connection.
        with socket.create_connection(("127.0.0.1", server.port), timeout=ANSWER_WITHIN) as kept:
            for _ in range(8):
                times.append(timed_hello(server.port))
                start = time.monotonic()
                status, _, body = request_on(kept, HELLO)
                assert (status, body) == (200, b"hello, world\n")
                assert time.monotonic() - start < ANSWER_WITHIN
                time.sleep(0.5)
        stop.set()
        dribbler.join(SLOW_SECONDS + 2)
        assert not dribbler.is_alive()
        # The slow clients were only slow, not refused: none was reset or answered 503.
        assert not send_errors, send_errors[:3]
        for sock in slow[:: SLOW_CLIENTS // 10]:
            sock.setblocking(False)
            try:
                early = sock.recv(4096)
            except BlockingIOError:
                early = None
            assert early is None, f"a slow client was answered early: {early[:100]!r}"
        assert server.proc.poll() is None
    finally:
        stop.set()
        for sock in slow:
            sock.close()
    # Once they are gone the server is as quick as before.
    timed_hello(server.port)
    assert not any("Traceback" in line for line in server.errors), server.errors


def test_client_that_never_reads_big_file_does_not_block_others(
    start_server: Start, site: Path
) -> None:
    """RFC 9112 sections 9.4, 9.5: a stalled connection blocks only itself."""
    server = start_server(str(site))
    big = (site / "big.bin").read_bytes()
    stuck = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stuck.settimeout(5)
        stuck.connect(("127.0.0.1", server.port))
        # Several pipelined 1 MiB requests: far more than the socket buffers hold.
        stuck.sendall(b"GET /big.bin HTTP/1.1\r\nHost: stuck\r\n\r\n" * 8)
        time.sleep(0.3)  # let the server fill the buffers and stall on this client
        for _ in range(5):
            timed_hello(server.port)
        # A whole big file (sendfile) for someone else, while the stuck one waits.
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as other:
            start = time.monotonic()
            status, _, body = request_on_big(other)
            assert status == 200
            assert body == big
            assert time.monotonic() - start < 10.0
        assert server.proc.poll() is None
        # The stuck client can still read its first response once it starts reading.
        stuck.settimeout(5)
        first = stuck.recv(65536)
        assert first.startswith(b"HTTP/1.1 200 OK\r\n")
    finally:
        stuck.close()
    timed_hello(server.port)
    assert not any("Traceback" in line for line in server.errors), server.errors


def request_on_big(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    sock.sendall(b"GET /big.bin HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n")
    chunks = []
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline:
        chunk = sock.recv(262144)
        if not chunk:
            break
        chunks.append(chunk)
    return split_responses(b"".join(chunks))[0]


def test_a_file_replaced_during_a_slow_download(start_server: Start, site: Path) -> None:
    """The large file's descriptor is kept open between requests (static.py's
    open-file cache): a download still reading the old file gets all of the old
    bytes, a request after the replacement gets the new ones, and nothing mixes."""
    # Larger than the socket buffers on both sides can hold, so the download
    # is still reading the file when it is replaced.
    old = bytes(range(256)) * (32 * 4096)  # 32 MiB
    (site / "big.bin").write_bytes(old)
    new = bytes(reversed(old))
    server = start_server(str(site))
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as warm:
        assert request_on_big(warm)[2] == old  # now kept open by the server
    slow = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.settimeout(10)
        slow.connect(("127.0.0.1", server.port))
        slow.sendall(b"GET /big.bin HTTP/1.1\r\nHost: slow\r\nConnection: close\r\n\r\n")
        first = slow.recv(4096)  # started, and stalled on our small buffer
        (site / "big.new").write_bytes(new)
        (site / "big.new").replace(site / "big.bin")
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as other:
            status, _, body = request_on_big(other)
        assert (status, body == new) == (200, True)
        chunks = [first]
        while chunk := slow.recv(262144):
            chunks.append(chunk)
    finally:
        slow.close()
    status, _, body = split_responses(b"".join(chunks))[0]
    assert (status, len(body), body == old) == (200, len(old), True)
    assert not any("Traceback" in line for line in server.errors), server.errors
