"""Helpers for the app-hosting tests: start an app, and read responses off a raw socket.

:class:`Wire` parses responses the way RFC 9112 section 6 frames them
(Content-Length, chunked, or the close) and says whether each body was
complete, so a test can tell a finished response from a cut-off one.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import ServerProcess

APPS = Path(__file__).parent / "apps"


def serve(start_server: Any, app: str, *args: str) -> ServerProcess:
    """``sockweb serve --app APP --app-dir tests/server/apps ARGS`` on an ephemeral port."""
    server: ServerProcess = start_server("--app", app, "--app-dir", str(APPS),
                                         "--no-access-log", *args)
    return server


def run_serve(*args: str, timeout: float = 15, env: dict[str, str] | None = None,
              ) -> subprocess.CompletedProcess[str]:
    """Run ``sockweb serve`` to its end (for servers that must refuse to start)."""
    return subprocess.run(
        [sys.executable, "-m", "sockweb", "serve", "--host", "127.0.0.1", "--port", "0",
         "--app-dir", str(APPS), *args],
        capture_output=True, text=True, timeout=timeout, env=env)


@dataclass
class Reply:
    status: int
    reason: str
    version: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    complete: bool = True
    chunks: list[bytes] = field(default_factory=list)
    framing: str = ""

    def header(self, name: str) -> str | None:
        values = self.all(name)
        assert len(values) <= 1, f"{name} repeated: {values}"
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        return [v for n, v in self.headers if n.lower() == name.lower()]


class Wire:
    """A client socket with a read buffer; every read has a deadline."""

    def __init__(self, port: int, timeout: float = 5.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.timeout = timeout
        self.buf = b""
        self.eof = False

    def __enter__(self) -> Wire:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()

    @property
    def local_port(self) -> int:
        return int(self.sock.getsockname()[1])

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> bool:
        if self.eof:
            return False
        try:
            data = self.sock.recv(65536)
        except (TimeoutError, ConnectionResetError):
            self.eof = True
            return False
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def read_until(self, marker: bytes) -> bytes | None:
        deadline = time.monotonic() + self.timeout
        while marker not in self.buf:
            if time.monotonic() > deadline or not self._fill():
                return None
        head, _, self.buf = self.buf.partition(marker)
        return head

    def read_exact(self, n: int) -> tuple[bytes, bool]:
        deadline = time.monotonic() + self.timeout
        while len(self.buf) < n:
            if time.monotonic() > deadline or not self._fill():
                data, self.buf = self.buf, b""
                return data, False
        data, self.buf = self.buf[:n], self.buf[n:]
        return data, True

    def read_to_close(self) -> tuple[bytes, bool]:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline and self._fill():
            pass
        data, self.buf = self.buf, b""
        return data, self.eof

    def closed_by_peer(self, wait: float = 3.0) -> bool:
        """True once the server closes (EOF or reset) within ``wait`` seconds."""
        deadline = time.monotonic() + wait
        self.sock.settimeout(0.2)
        try:
            while time.monotonic() < deadline:
                try:
                    data = self.sock.recv(65536)
                except TimeoutError:
                    continue
                except ConnectionResetError:
                    return True
                if not data:
                    return True
                self.buf += data
            return False
        finally:
            self.sock.settimeout(self.timeout)

    def response(self, method: str = "GET") -> Reply:
        """One response; 1xx interim responses are returned like any other."""
        head = self.read_until(b"\r\n\r\n")
        if head is None:
            raise AssertionError(f"no complete response head; got {self.buf[:300]!r}")
        lines = head.decode("latin-1").split("\r\n")
        version, status, reason = [*lines[0].split(" ", 2), ""][:3]
        headers = []
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            assert sep, f"malformed header line {line!r}"
            headers.append((name.strip(), value.strip()))
        reply = Reply(int(status), reason, version, headers)
        code = reply.status
        if 100 <= code < 200 or code in (204, 304) or method == "HEAD":
            reply.framing = "none"
            return reply
        te = reply.header("Transfer-Encoding")
        length = reply.header("Content-Length")
        if te is not None:
            assert te.lower() == "chunked", te
            reply.framing = "chunked"
            self._read_chunked(reply)
        elif length is not None:
            reply.framing = "length"
            reply.body, reply.complete = self.read_exact(int(length))
        else:
            reply.framing = "close"
            reply.body, reply.complete = self.read_to_close()
        return reply

    def _read_chunked(self, reply: Reply) -> None:
        for _ in range(1_000_000):
            size_line = self.read_until(b"\r\n")
            if size_line is None:
                reply.complete = False
                break
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                trailer = self.read_until(b"\r\n")
                reply.complete = trailer == b""
                break
            data, ok = self.read_exact(size + 2)
            if not ok or not data.endswith(b"\r\n"):
                reply.chunks.append(data[:size])
                reply.complete = False
                break
            reply.chunks.append(data[:-2])
        reply.body = b"".join(reply.chunks)


def get(port: int, target: str, headers: str = "", method: str = "GET",
        version: str = "1.1", body: bytes = b"", timeout: float = 5.0) -> Reply:
    """One request on a fresh connection, ``Connection: close``."""
    with Wire(port, timeout) as wire:
        wire.send(f"{method} {target} HTTP/{version}\r\nHost: t\r\nConnection: close\r\n"
                  f"{headers}\r\n".encode("latin-1") + body)
        return wire.response(method)


def chunked(data: bytes, size: int) -> bytes:
    """``data`` as a chunked body (RFC 9112 section 7.1) in pieces of ``size``."""
    out = [b"%x\r\n%s\r\n" % (len(data[i:i + size]), data[i:i + size])
           for i in range(0, len(data), size)]
    return b"".join(out) + b"0\r\n\r\n"


def wait_for_file(path: Path, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return path.read_text()
        time.sleep(0.02)
    raise AssertionError(f"{path} was not written within {timeout}s")


def wait_for_stderr(server: ServerProcess, text: str, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        err = "\n".join(server.errors)
        if text in err:
            return err
        time.sleep(0.02)
    raise AssertionError(f"{text!r} not in the server's stderr:\n" + "\n".join(server.errors))


def module_server(*args: str, cwd: str | None = None) -> ServerProcess:
    """A server for a whole test module (the caller stops it)."""
    return ServerProcess(["--app-dir", str(APPS), "--no-access-log", *args], cwd=cwd)
