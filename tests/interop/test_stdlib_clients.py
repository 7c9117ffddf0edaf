"""Python's own clients, ``http.client`` and ``urllib.request``, against sockweb."""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ServerProcess

TIMEOUT = 10.0


@pytest.fixture
def server(start_server, site: Path) -> ServerProcess:  # type: ignore[no-untyped-def]
    server: ServerProcess = start_server(str(site))
    return server


def test_http_client_keeps_one_connection(server: ServerProcess, site: Path) -> None:
    """RFC 9112 section 9.3: GET, HEAD, a 404 and a range, all on one persistent socket."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    try:
        conn.request("GET", "/hello.txt")
        resp = conn.getresponse()
        assert resp.status == 200
        assert resp.read() == (site / "hello.txt").read_bytes()
        assert not resp.will_close
        sock = conn.sock
        assert sock is not None

        # RFC 9110 section 9.3.2: HEAD gets GET's fields and no content.
        conn.request("HEAD", "/hello.txt")
        resp = conn.getresponse()
        assert resp.status == 200
        assert resp.getheader("Content-Length") == str(len("hello, world\n"))
        assert resp.getheader("Content-Type") == "text/plain; charset=utf-8"
        assert resp.read() == b""
        assert conn.sock is sock

        # RFC 9110 section 15.5.5: a 404 with a body, and the connection stays open.
        conn.request("GET", "/missing.txt")
        resp = conn.getresponse()
        assert resp.status == 404
        body = resp.read()
        assert b"404" in body
        assert b"Traceback" not in body
        assert not resp.will_close
        assert conn.sock is sock

        # RFC 9110 section 14.2: a single range.
        conn.request("GET", "/big.bin", headers={"Range": "bytes=256-511"})
        resp = conn.getresponse()
        assert resp.status == 206
        assert resp.getheader("Content-Range") == "bytes 256-511/1048576"
        assert resp.read() == bytes(range(256))
        assert conn.sock is sock

        # And the whole 1 MiB file (sendfile) still frames correctly on the same socket.
        conn.request("GET", "/big.bin")
        resp = conn.getresponse()
        assert resp.status == 200
        assert resp.read() == (site / "big.bin").read_bytes()
        conn.request("GET", "/docs/a%20b.txt")
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (200, b"spaces\n")
        assert conn.sock is sock
    finally:
        conn.close()


def test_http_client_connection_close(server: ServerProcess) -> None:
    """RFC 9112 section 9.6: a request with "close" gets "close" back and the socket ends."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    try:
        conn.request("GET", "/hello.txt", headers={"Connection": "close"})
        resp = conn.getresponse()
        assert resp.getheader("Connection") == "close"
        assert resp.will_close
        assert resp.read() == b"hello, world\n"
    finally:
        conn.close()


def test_urllib_gets_a_file(server: ServerProcess, site: Path) -> None:
    with urllib.request.urlopen(f"{server.url}/index.html", timeout=TIMEOUT) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
        assert resp.read() == (site / "index.html").read_bytes()


def test_urllib_follows_directory_redirect(server: ServerProcess) -> None:
    """RFC 9110 section 15.4.2: ``/docs`` -> 301 -> ``/docs/``, followed by urllib."""
    with urllib.request.urlopen(f"{server.url}/docs?q=1", timeout=TIMEOUT) as resp:
        assert resp.status == 200
        assert resp.geturl() == f"{server.url}/docs/?q=1"
        page = resp.read().decode("utf-8")
    assert "Index of /docs/" in page
    assert 'href="notes.md"' in page


def test_urllib_404_raises_http_error(server: ServerProcess) -> None:
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{server.url}/nope.txt", timeout=TIMEOUT)
    error = info.value
    try:
        assert error.code == 404
        assert error.headers["Content-Type"] == "text/html; charset=utf-8"
        assert b"Traceback" not in error.read()
    finally:
        error.close()
