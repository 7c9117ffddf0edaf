"""What the tests' hand-made servers share: reading a request head off a socket."""

from __future__ import annotations

import socket


def read_head(conn: socket.socket, size: int = 65536) -> bytes:
    """Bytes from ``conn`` until the blank line that ends a head (and whatever
    came with it), or until the peer closes."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(size)
        if not chunk:
            break
        data += chunk
    return data
