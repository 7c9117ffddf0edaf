"""The seed lesson's clients, exactly as the seed writes them, against sockweb."""

from __future__ import annotations

import socket
import urllib.request

from tests.conftest import ServerProcess

HELLO = "<html><body>Hello World</body></html>"


def test_seed_raw_socket_client_gets_one_response_then_eof(start_server) -> None:  # type: ignore[no-untyped-def]
    """Absolute-form target, no Host, HTTP/1.0 (RFC 9112 sections 3.2.2, 9.3): one answer, EOF."""
    server: ServerProcess = start_server("--hello")
    mysock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    mysock.settimeout(5)
    mysock.connect(("127.0.0.1", server.port))
    cmd = "GET http://127.0.0.1/whatever.txt HTTP/1.0\r\n\r\n".encode()  # noqa: UP012  (the seed's words)
    mysock.send(cmd)
    received = ""
    while True:
        data = mysock.recv(512)
        if len(data) < 1:
            break
        received += data.decode()
    mysock.close()
    head, _, body = received.partition("\r\n\r\n")
    lines = head.split("\r\n")
    assert lines[0] == "HTTP/1.1 200 OK"
    assert "Content-Type: text/html; charset=utf-8" in lines
    assert f"Content-Length: {len(HELLO)}" in lines
    assert body == HELLO
    # The seed's server printed the request line of each request.
    server.wait_for_output('"GET http://127.0.0.1/whatever.txt HTTP/1.0" 200')


def test_seed_urllib_client(start_server) -> None:  # type: ignore[no-untyped-def]
    server: ServerProcess = start_server("--hello")
    fhand = urllib.request.urlopen(f"http://127.0.0.1:{server.port}/whatever.txt")
    lines = [line.decode().strip() for line in fhand]
    fhand.close()
    assert lines == [HELLO]
    server.wait_for_output('"GET /whatever.txt HTTP/1.1" 200')


def test_seed_banner_and_shutdown(start_server) -> None:  # type: ignore[no-untyped-def]
    server: ServerProcess = start_server("--hello")
    assert server.lines[0] == f"Access http://127.0.0.1:{server.port}"
    assert server.stop() == 0
    assert "Shutting down..." in server.lines
    assert not any("Traceback" in line for line in server.errors)
