"""Flow control: a client that sends without reading is slowed, not buffered without bound."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from tests.conftest import ServerProcess

REQUEST = b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_reading_pauses_while_responses_are_not_taken(start_server, site: Path) -> None:  # type: ignore[no-untyped-def]
    """Pipelined requests from a client that never reads: the server stops reading.

    If it did not, it would parse every request and queue every response in
    memory; instead the client's own send buffer fills and send() would block.
    """
    server: ServerProcess = start_server(str(site))
    rss_before = _rss_kib(server.proc.pid)
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.setblocking(False)
    batch = REQUEST * 1000
    sent = 0
    limit = 64 * 1024 * 1024  # far more than any socket buffers can hold
    blocked_since = None
    deadline = time.monotonic() + 20
    while sent < limit and time.monotonic() < deadline:
        try:
            sent += sock.send(batch)
            blocked_since = None
        except BlockingIOError:
            blocked_since = blocked_since or time.monotonic()
            if time.monotonic() - blocked_since > 1.0:
                break  # the server has stopped taking our bytes
            time.sleep(0.01)
    assert blocked_since is not None, f"server kept reading: {sent} bytes taken"
    assert sent < limit
    # What the server holds is bounded by its buffers, not by what we sent.
    assert _rss_kib(server.proc.pid) - rss_before < 64 * 1024
    sock.close()
    # And it still answers others.
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as other:
        other.sendall(b"GET /hello.txt HTTP/1.0\r\n\r\n")
        assert other.recv(100).startswith(b"HTTP/1.1 200 OK")


def test_pipelined_responses_come_back_complete_and_in_order(start_server, site: Path) -> None:  # type: ignore[no-untyped-def]
    """RFC 9112 section 9.3.2: responses to pipelined requests in request order."""
    server: ServerProcess = start_server(str(site))
    paths = [b"/hello.txt", b"/big.bin", b"/docs/notes.md", b"/missing", b"/big.bin"] * 20
    payload = b"".join(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % p for p in paths)
    payload += b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(payload)
        chunks = []
        while chunk := sock.recv(1 << 20):
            chunks.append(chunk)
    data = b"".join(chunks)
    big = (site / "big.bin").read_bytes()
    expected = {b"/hello.txt": b"hello, world\n", b"/big.bin": big,
                b"/docs/notes.md": b"# notes\n"}
    for path in [*paths, b"/hello.txt"]:
        head, _, data = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        body, data = data[:length], data[length:]
        if path == b"/missing":
            assert status == 404
        else:
            assert status == 200 and body == expected[path], path
    assert data == b""
