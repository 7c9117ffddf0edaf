"""Fixtures that start real sockweb servers on 127.0.0.1 with ephemeral ports.

Every server is a real ``python -m sockweb serve --port 0`` process; the port
is read from its banner, and the process is stopped by its own pid (SIGINT,
then SIGKILL if it does not exit) when the test is done.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

STARTUP_TIMEOUT = 10.0


class ServerProcess:
    """A real ``python -m sockweb serve`` process, stopped by its own pid.

    ``args`` follow ``serve --host 127.0.0.1 --port 0`` (``local=False``: no
    such prefix, for --uds, --fd, TLS...). ``env`` and ``pass_fds`` go to the
    child; ``command`` replaces the whole argv. The constructor waits for the
    ``ready`` line (the banner by default; None: do not wait) and raises
    RuntimeError if the process ends or is silent for STARTUP_TIMEOUT.
    """

    def __init__(self, args: list[str], cwd: str | None = None, *,
                 env: dict[str, str] | None = None, pass_fds: tuple[int, ...] = (),
                 command: list[str] | None = None, local: bool = True,
                 ready: str | None = "Access ") -> None:
        self.args = args
        prefix = ["--host", "127.0.0.1", "--port", "0"] if local else []
        self.proc = subprocess.Popen(
            command or [sys.executable, "-m", "sockweb", "serve", *prefix, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=dict(os.environ, PYTHONUNBUFFERED="1", **(env or {})),
            pass_fds=pass_fds,
        )
        self.pid = self.proc.pid
        self.lines: list[str] = []
        self.errors: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self.lines), daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, self.errors), daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        if ready is not None:
            try:
                self.wait_for(ready, STARTUP_TIMEOUT)
            except AssertionError:
                self.stop()
                raise RuntimeError(f"server did not start: {self.lines} {self.errors}") from None

    def _read(self, stream: object, sink: list[str]) -> None:
        for raw in iter(stream.readline, b""):  # type: ignore[attr-defined]
            sink.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def wait_for(self, text: str, timeout: float = STARTUP_TIMEOUT, count: int = 1) -> None:
        """Until ``count`` lines of stdout contain ``text`` (AssertionError if not)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sum(text in line for line in self.lines) >= count:
                return
            if self.proc.poll() is not None:
                time.sleep(0.1)  # let the readers catch up with the last lines
                if sum(text in line for line in self.lines) >= count:
                    return
                break
            time.sleep(0.02)
        raise AssertionError(f"{text!r} x{count} not seen; out={self.lines} err={self.errors}")

    @property
    def access(self) -> list[str]:
        """The addresses of the banner's "Access ..." lines."""
        return [line.removeprefix("Access ") for line in self.lines if line.startswith("Access ")]

    @property
    def port(self) -> int:
        for address in self.access:
            if address.startswith(("http://", "https://")):
                return int(address.rsplit(":", 1)[1])
        return 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self, wait: float = 0.0) -> str:
        if wait:
            time.sleep(wait)
        return "\n".join(self.lines)

    def wait_for_output(self, text: str, timeout: float = 5.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = "\n".join(self.lines)
            if text in out:
                return out
            time.sleep(0.02)
        raise AssertionError(f"{text!r} not in output:\n" + "\n".join(self.lines))

    def stop(self, sig: int = signal.SIGINT, timeout: float = 10.0) -> int:
        if self.proc.poll() is None:
            os.kill(self.pid, sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait()
        for reader in self._readers:
            reader.join(5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        return self.proc.returncode


@pytest.fixture
def start_server() -> Iterator[Callable[..., ServerProcess]]:
    started: list[ServerProcess] = []

    def start(*args: str, cwd: str | None = None) -> ServerProcess:
        server = ServerProcess(list(args), cwd=cwd)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A small directory tree to serve."""
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_text("<!doctype html><title>Home</title><h1>Home</h1>\n")
    (root / "hello.txt").write_text("hello, world\n")
    (root / "big.bin").write_bytes(bytes(range(256)) * 4096)  # 1 MiB: sent with sendfile
    docs = root / "docs"
    docs.mkdir()
    (docs / "a b.txt").write_text("spaces\n")
    (docs / "<script>.txt").write_text("escaped\n")
    (docs / "notes.md").write_text("# notes\n")
    (root / ".secret").write_text("do not serve\n")
    return root


def raw_exchange(port: int, data: bytes, timeout: float = 5.0, shut: bool = False) -> bytes:
    """Send ``data`` on a fresh connection and read until end-of-file (or timeout)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        if shut:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def split_responses(data: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """Cut a byte stream of Content-Length-framed responses into (status, headers, body)."""
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            raise AssertionError(f"incomplete head: {data[:200]!r}")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if status < 200:
            out.append((status, headers, b""))
            data = rest
            continue
        length = int(headers.get("content-length", "0"))
        out.append((status, headers, rest[:length]))
        data = rest[length:]
    return out
