"""The client library against real peers over loopback.

nginx (gzip, ranges, keep-alive), ``python -m http.server`` (HTTP/1.0),
sockweb's own server, a Flask app under werkzeug, nginx over TLS with good and
bad certificates, tinyproxy; and hostile servers written here on raw sockets,
each in a thread with a time limit, stopped and joined before its test ends.

Whether a connection was reused is read from the client's pool: the local port
of the idle connection it would hand out next (``pooled_port``).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask, jsonify, redirect, request
from werkzeug.serving import make_server

from sockweb.client import api
from sockweb.client.api import Client
from sockweb.client.cookies import CookieJar
from sockweb.client.decoding import BodyTooLarge
from sockweb.client.errors import (
    CertificateError,
    ConnectError,
    HTTPStatusError,
    IncompleteBody,
    NameResolutionError,
    ProxyError,
    ReadTimeout,
    TransportError,
)
from sockweb.client.redirects import TooManyRedirects
from sockweb.http.errors import RemoteProtocolError, SockwebError
from sockweb.http.urls import URL

from .conftest import Peer, TLSPeer

MiB = 1024 * 1024


# -- helpers -------------------------------------------------------------------------------


class Wire:
    """A trace hook that keeps every byte the client sent and received."""

    def __init__(self) -> None:
        self.sent = bytearray()
        self.received = bytearray()

    def __call__(self, direction: str, data: bytes) -> None:
        (self.sent if direction == "send" else self.received).extend(data)

    def request_lines(self) -> list[bytes]:
        """The first line of every request head sent."""
        heads = bytes(self.sent).split(b"\r\n\r\n")
        return [h.split(b"\r\n", 1)[0] for h in heads if b" HTTP/1." in h.split(b"\r\n", 1)[0]]


def pooled_port(client: Client, url: str) -> int | None:
    """The local port of the idle connection ``client`` would reuse for ``url``, if any."""
    u = URL.parse(url)
    pool = client._pool
    conn = pool.acquire((u.scheme, u.host, u.effective_port, None))
    if conn is None:
        return None
    port = int(conn.sock.getsockname()[1])
    pool.release(conn)
    return port


def idle(client: Client) -> int:
    return client._pool.idle_count()


# -- raw-socket servers ------------------------------------------------------------


class RawServer:
    """A TCP server on an ephemeral loopback port running ``handler`` per connection.

    Every thread ends by ``time_limit`` or when the ``with`` block ends, whichever
    comes first: handlers poll ``running()`` and every socket has a 2 s timeout.
    """

    def __init__(
        self,
        handler: Callable[[socket.socket, RawServer], None],
        host: str = "127.0.0.1",
        time_limit: float = 15.0,
    ) -> None:
        self.handler = handler
        self.host = host
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.listener = socket.socket(family, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((host, 0))
        self.listener.listen(16)
        self.listener.settimeout(0.05)
        self.port = int(self.listener.getsockname()[1])
        self.deadline = time.monotonic() + time_limit
        self.stopping = threading.Event()
        self.connections = 0
        self.requests: list[bytes] = []
        self.sent = 0
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def running(self) -> bool:
        return not self.stopping.is_set() and time.monotonic() < self.deadline

    def __enter__(self) -> RawServer:
        self._acceptor.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._acceptor.join(5)
        for thread in self._threads:
            thread.join(5)
        self.listener.close()
        alive = [t for t in (self._acceptor, *self._threads) if t.is_alive()]
        if exc[0] is None:
            assert not alive, "a raw server thread did not stop"

    def _accept(self) -> None:
        while self.running():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(2)
        try:
            self.handler(conn, self)
        except OSError:
            pass  # the client hung up or stopped reading: that is its right
        finally:
            conn.close()

    def send(self, conn: socket.socket, data: bytes) -> None:
        conn.sendall(data)
        self.sent += len(data)

    def read_request(self, conn: socket.socket) -> bytes | None:
        """One request (head and Content-Length body), or None if the client closed."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self._recv(conn)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(body) < length:
            chunk = self._recv(conn)
            if not chunk:
                return None
            body += chunk
        self.requests.append(head + b"\r\n\r\n" + body)
        return head

    def _recv(self, conn: socket.socket) -> bytes:
        while self.running():
            try:
                return conn.recv(65536)
            except TimeoutError:
                continue
        return b""

    def wait_for_close(self, conn: socket.socket) -> None:
        """Hold the connection open (reading and dropping) until the client closes it."""
        while self._recv(conn):
            pass

    def hold(self, seconds: float) -> None:
        self.stopping.wait(seconds)


def reset(conn: socket.socket) -> None:
    """Close with a TCP RST instead of a FIN (SO_LINGER with a zero timeout)."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    conn.close()


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%b\r\n" % (len(data), data)


# -- a second origin, for cross-origin redirects --------------------------------------

second = Flask("second_origin")


@second.route("/headers")
def second_headers() -> object:
    return jsonify(dict(request.headers))


@second.route("/login")
def second_login() -> object:
    response = redirect("/whoami", 302)
    response.set_cookie("session", "s3cr3t")
    return response


@second.route("/whoami")
def second_whoami() -> object:
    return jsonify(request.cookies)


@pytest.fixture(scope="module")
def second_origin() -> Iterator[str]:
    """A second small Flask app on another ephemeral port, in a thread."""
    server = make_server("127.0.0.1", 0, second, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)
    server.server_close()


@pytest.fixture(scope="module")
def ipv6_server(docroot: Path) -> Iterator[str]:
    """``sockweb serve --host ::1 --port 0``; skipped only if the host has no IPv6 loopback."""
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback on this host")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sockweb", "serve", str(docroot), "--host", "::1", "--port", "0",
         "--no-access-log"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        assert line.startswith("Access http://[::1]:"), line
        yield line.split()[1]
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


# == nginx =================================================================================


def test_nginx_gzip_when_accept_encoding_is_sent_rfc9110_8_4(nginx: Peer, docroot: Path) -> None:
    expected = (docroot / "text.txt").read_bytes()
    with Client() as client:
        response = client.get(f"{nginx.url}/text.txt")
        assert response.status == 200
        assert response.headers["content-encoding"] == "gzip"
        assert response.content == expected
        assert response.text == expected.decode()
        with client.stream("GET", f"{nginx.url}/text.txt") as streamed:
            raw = b"".join(streamed.iter_raw())
        assert len(raw) < len(expected) // 10
        assert gzip.decompress(raw) == expected


def test_nginx_identity_when_asked(nginx: Peer, docroot: Path) -> None:
    with Client(headers={"Accept-Encoding": "identity"}) as client:
        response = client.get(f"{nginx.url}/text.txt")
    assert "content-encoding" not in response.headers
    assert response.headers["content-length"] == str(len(response.content))
    assert response.content == (docroot / "text.txt").read_bytes()


def test_nginx_binary(nginx: Peer, docroot: Path) -> None:
    with Client() as client:
        response = client.get(f"{nginx.url}/binary.bin")
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.content == (docroot / "binary.bin").read_bytes()


def test_nginx_big_file_streamed(nginx: Peer, docroot: Path) -> None:
    expected = (docroot / "big.bin").read_bytes()
    digest = hashlib.sha256()
    size = pieces = 0
    with Client() as client:
        with client.stream("GET", f"{nginx.url}/big.bin") as response:
            assert response.status == 200
            for piece in response.iter_bytes():
                digest.update(piece)
                size += len(piece)
                pieces += 1
                assert len(piece) <= 64 * 1024  # streamed, never the whole body at once
        assert size == len(expected) == 3 * MiB
        assert digest.digest() == hashlib.sha256(expected).digest()
        assert pieces > 10
        assert idle(client) == 1  # read to its end: the connection went back


@pytest.mark.parametrize("name", ["large.bin", "binary.bin", "text.txt"])
def test_write_to_a_file_then_the_connection_is_reused(nginx: Peer, docroot: Path,
                                                      tmp_path: Path, name: str) -> None:
    """write_to: large.bin goes the zero-copy way (splice), binary.bin came
    whole with its head, text.txt is gzipped and chunked (decoded in Python).
    The connection serves the next request either way."""
    target = tmp_path / "out"
    seen: list[int] = []
    with Client() as client:
        with client.stream("GET", f"{nginx.url}/{name}") as response, \
                open(target, "wb") as f:
            written = response.write_to(f.fileno(), seen.append)
        assert target.read_bytes() == (docroot / name).read_bytes()
        assert written == seen[-1] == len(target.read_bytes())
        assert seen == sorted(seen)
        port = pooled_port(client, f"{nginx.url}/data.json")
        assert port is not None  # read to its end: the connection went back
        again = client.get(f"{nginx.url}/data.json")
        assert again.json() == {"hello": "world"}
        assert pooled_port(client, f"{nginx.url}/data.json") == port


def test_write_to_refuses_a_body_over_max_content_size(nginx: Peer, tmp_path: Path) -> None:
    with Client(max_content_size=1000) as client, open(tmp_path / "out", "wb") as f:
        response = client.get(f"{nginx.url}/large.bin", stream=True)
        with pytest.raises(BodyTooLarge):
            response.write_to(f.fileno())
        assert idle(client) == 0  # unread: the connection was closed, not pooled
    assert (tmp_path / "out").read_bytes() == b""


def test_nginx_range_rfc9110_14_2(nginx: Peer, docroot: Path) -> None:
    data = (docroot / "binary.bin").read_bytes()
    with Client() as client:
        response = client.get(f"{nginx.url}/binary.bin", headers={"Range": "bytes=100-299"})
    assert response.status == 206
    assert response.headers["content-range"] == f"bytes 100-299/{len(data)}"
    assert response.content == data[100:300]


def test_nginx_range_of_a_gzippable_file_is_of_its_bytes_rfc9110_14_2(
    nginx: Peer, docroot: Path
) -> None:
    """A range of what nginx would gzip: the client asks for identity, so the slice is of
    the file's own bytes (nginx ignores Range on a body it compresses)."""
    data = (docroot / "text.txt").read_bytes()
    with Client() as client:
        response = client.get(f"{nginx.url}/text.txt", headers={"Range": "bytes=10-19"})
    assert response.status == 206
    assert "content-encoding" not in response.headers
    assert response.content == data[10:20]


def test_nginx_head_has_no_body_and_the_connection_is_reused_rfc9110_9_3_2(
    nginx: Peer, docroot: Path
) -> None:
    expected = (docroot / "text.txt").read_bytes()
    with Client(headers={"Accept-Encoding": "identity"}) as client:
        head = client.head(f"{nginx.url}/text.txt")
        assert head.status == 200
        assert head.headers["content-length"] == str(len(expected))
        assert head.content == b""
        port = pooled_port(client, nginx.url)
        assert port is not None
        response = client.get(f"{nginx.url}/text.txt")
        assert response.content == expected
        assert pooled_port(client, nginx.url) == port


def test_nginx_keep_alive_across_requests_rfc9112_9_3(nginx: Peer, docroot: Path) -> None:
    with Client() as client:
        client.get(f"{nginx.url}/index.html")
        port = pooled_port(client, nginx.url)
        assert port is not None
        for name in ("text.txt", "binary.bin", "data.json", "index.html", "page.gz"):
            response = client.get(f"{nginx.url}/{name}")
            assert response.status == 200
            assert pooled_port(client, nginx.url) == port
        assert idle(client) == 1


def test_nginx_chunked(nginx: Peer, docroot: Path) -> None:
    with Client() as client:
        assert client.get(f"{nginx.url}/chunked").content == b"chunked body\n"
        # gzip on the fly has no length in advance: nginx sends it chunked.
        response = client.get(f"{nginx.url}/text.txt")
        assert response.headers["transfer-encoding"] == "chunked"
        assert response.content == (docroot / "text.txt").read_bytes()
        assert idle(client) == 1


def test_nginx_gzip_file_served_as_is(nginx: Peer) -> None:
    """A .gz file is its own content, not a Content-Encoding: it must not be gunzipped."""
    with Client() as client:
        response = client.get(f"{nginx.url}/page.gz")
    assert "content-encoding" not in response.headers
    assert gzip.decompress(response.content) == b"already gzipped\n"


def test_nginx_redirect_followed_and_not_rfc9110_15_4_2(nginx: Peer, docroot: Path) -> None:
    with Client() as client:
        response = client.get(f"{nginx.url}/redirect")
        assert response.status == 200
        assert str(response.url) == f"{nginx.url}/text.txt"
        assert [r.status for r in response.history] == [301]
        assert response.content == (docroot / "text.txt").read_bytes()

        response = client.get(f"{nginx.url}/redirect", follow_redirects=False)
        assert response.status == 301
        assert response.is_redirect
        assert response.headers["location"].endswith("/text.txt")
        assert response.history == []
    with Client(follow_redirects=False) as client:
        assert client.get(f"{nginx.url}/redirect").status == 301


def test_nginx_space_in_path_is_percent_encoded_rfc3986_2_1(nginx: Peer) -> None:
    wire = Wire()
    with Client(trace=wire) as client:
        response = client.get(f"{nginx.url}/sub/a file.txt")
    assert response.status == 200
    assert response.content == b"space in the name\n"
    assert response.url.path == "/sub/a%20file.txt"
    assert wire.request_lines() == [b"GET /sub/a%20file.txt HTTP/1.1"]


def test_module_level_get(nginx: Peer) -> None:
    response = api.get(f"{nginx.url}/data.json")
    assert response.json() == {"hello": "world"}


# == python -m http.server: HTTP/1.0 =======================================================


def test_http10_server_read_to_the_end_and_not_reused_rfc9112_9_3(
    http_server: Peer, docroot: Path
) -> None:
    expected = (docroot / "big.bin").read_bytes()
    with Client() as client:
        response = client.get(f"{http_server.url}/big.bin")
        assert response.http_version == "HTTP/1.0"
        assert response.content == expected
        assert idle(client) == 0  # HTTP/1.0 without keep-alive: the connection is used up
        again = client.get(f"{http_server.url}/text.txt")
        assert again.content == (docroot / "text.txt").read_bytes()
        assert idle(client) == 0


def test_close_delimited_body_read_to_the_end_rfc9112_6_3_8() -> None:
    body = bytes(range(256)) * 1000

    def handler(conn: socket.socket, server: RawServer) -> None:
        if server.read_request(conn) is not None:
            server.send(conn, b"HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n")
            for i in range(0, len(body), 10_000):
                server.send(conn, body[i:i + 10_000])

    with RawServer(handler) as server, Client() as client:
        assert client.get(f"{server.url}/").content == body
        assert idle(client) == 0
        assert client.get(f"{server.url}/").content == body
        assert server.connections == 2


# == sockweb's own server ==================================================================


def test_sockweb_conditional_get_rfc9110_13_1_2(sockweb_server: Peer, docroot: Path) -> None:
    url = f"{sockweb_server.url}/text.txt"
    with Client() as client:
        first = client.get(url)
        assert first.content == (docroot / "text.txt").read_bytes()
        etag = first.headers["etag"]
        port = pooled_port(client, url)
        assert port is not None
        second_response = client.get(url, headers={"If-None-Match": etag})
        assert second_response.status == 304
        assert second_response.content == b""
        assert second_response.headers["etag"] == etag
        # A 304 has no body (RFC 9110 section 15.4.5): the connection stays usable.
        third = client.get(url, headers={"If-None-Match": '"something-else"'})
        assert third.status == 200
        assert third.content == first.content
        assert pooled_port(client, url) == port


def test_sockweb_keep_alive(sockweb_server: Peer, docroot: Path) -> None:
    with Client() as client:
        client.get(f"{sockweb_server.url}/index.html")
        port = pooled_port(client, sockweb_server.url)
        for name in ("text.txt", "data.json", "binary.bin", "sub/a file.txt"):
            response = client.get(f"{sockweb_server.url}/{name}")
            assert response.content == (docroot / name).read_bytes()
            assert pooled_port(client, sockweb_server.url) == port


# == Flask: redirects ======================================================================


@pytest.mark.parametrize("code", [301, 302, 303])
def test_post_redirected_as_get_without_body_rfc9110_15_4(flask_app: Peer, code: int) -> None:
    with Client() as client:
        response = client.post(f"{flask_app.url}/redirect/{code}", content=b"payload",
                               headers={"Content-Type": "text/plain"})
    echo = response.json()
    assert [r.status for r in response.history] == [code]
    assert echo["method"] == "GET"
    assert echo["path"] == "/echo"
    assert echo["data"] == ""
    assert "Content-Type" not in echo["headers"]
    assert "Content-Length" not in echo["headers"]


@pytest.mark.parametrize("code", [307, 308])
def test_post_redirected_with_method_and_body_rfc9110_15_4_8(flask_app: Peer, code: int) -> None:
    with Client() as client:
        response = client.post(f"{flask_app.url}/redirect/{code}", content=b"payload",
                               headers={"Content-Type": "text/plain"})
        form = client.post(f"{flask_app.url}/redirect/{code}", data={"a": "1", "b": "x y"})
    echo = response.json()
    assert [r.status for r in response.history] == [code]
    assert echo["method"] == "POST"
    assert echo["data"] == "payload"
    assert echo["headers"]["Content-Type"] == "text/plain"
    assert form.json()["form"] == {"a": ["1"], "b": ["x y"]}


def test_put_redirected_by_303_becomes_get_rfc9110_15_4_4(flask_app: Peer) -> None:
    with Client() as client:
        echo = client.put(f"{flask_app.url}/redirect/303", content=b"x").json()
    assert echo["method"] == "GET"
    assert echo["data"] == ""


def test_streamed_body_redirected_by_307_is_resent_or_refused_rfc9110_15_4_8(
    flask_app: Peer,
) -> None:
    """A 307 keeps the body: a body that was a one-shot iterator has been sent
    already, so the client must send it again whole or refuse, never send it empty."""
    with Client() as client:
        try:
            response = client.post(f"{flask_app.url}/redirect/307",
                                   content=iter([b"part one, ", b"part two"]),
                                   headers={"Content-Type": "text/plain"})
        except SockwebError:
            return
    assert response.json()["data"] == "part one, part two"


def test_redirect_chain_cap(flask_app: Peer) -> None:
    with Client(max_redirects=3) as client:
        response = client.get(f"{flask_app.url}/redirect-chain/3")
        assert response.json()["path"] == "/echo"
        assert len(response.history) == 3
        with pytest.raises(TooManyRedirects):
            client.get(f"{flask_app.url}/redirect-chain/4")
        # The redirect is the response when not following.
        response = client.get(f"{flask_app.url}/redirect-chain/4", follow_redirects=False)
        assert response.status == 302
        assert response.headers["location"] == "/redirect-chain/3"
    assert TooManyRedirects.exit_code == 47


def test_authorization_dropped_across_origins_rfc9110_15_4(
    flask_app: Peer, second_origin: str
) -> None:
    """RFC 9110 section 15.4: credentials are for the origin they were given to."""
    with Client() as client:
        response = client.get(f"{flask_app.url}/redirect/302",
                              params={"to": f"{second_origin}/headers"}, auth=("user", "pw"))
        assert str(response.url) == f"{second_origin}/headers"
        assert "Authorization" not in response.json()
        # Same host, other port: another origin too (RFC 6454 section 4).
        response = client.get(f"{flask_app.url}/redirect/302",
                              params={"to": f"{second_origin}/headers"},
                              headers={"Authorization": "Bearer token"})
        assert "Authorization" not in response.json()
        # Same port, other host name: another origin.
        localhost = f"http://localhost:{flask_app.port}/echo"
        response = client.get(f"{flask_app.url}/redirect/302", params={"to": localhost},
                              auth=("user", "pw"))
        assert response.json()["path"] == "/echo"
        assert "Authorization" not in response.json()["headers"]


def test_authorization_kept_on_the_same_origin(flask_app: Peer) -> None:
    with Client() as client:
        response = client.get(f"{flask_app.url}/redirect/302",
                              params={"to": "/basic-auth/user/pw"}, auth=("user", "pw"))
        assert response.status == 200
        assert response.json() == {"authenticated": True, "user": "user"}
        response = client.get(f"{flask_app.url}/redirect/307", params={"to": "/echo"},
                              headers={"Authorization": "Bearer token"})
        assert response.json()["headers"]["Authorization"] == "Bearer token"


# == Flask: cookies ========================================================================


def test_cookies_sent_back_and_deleted_rfc6265_5_3(flask_app: Peer) -> None:
    with Client() as client:
        client.get(f"{flask_app.url}/cookies/set", params={"a": "1", "b": "two"})
        assert client.get(f"{flask_app.url}/cookies").json() == {"a": "1", "b": "two"}
        assert len(client.cookies) == 2
        # RFC 6265 section 5.3 step 11: an expiry in the past removes the cookie.
        client.get(f"{flask_app.url}/cookies/delete", params={"b": ""})
        assert client.get(f"{flask_app.url}/cookies").json() == {"a": "1"}
        assert [name for name, *_ in client.cookies] == ["a"]


def test_cookie_set_by_a_redirect_is_sent_on_the_next_hop_rfc6265_3(second_origin: str) -> None:
    """RFC 6265 section 3: a user agent processes Set-Cookie in any response, 3xx too."""
    with Client() as client:
        response = client.get(f"{second_origin}/login")
        assert response.json() == {"session": "s3cr3t"}
        assert response.history[0].status == 302


def test_cookie_jar_save_and_load_round_trip(flask_app: Peer, tmp_path: Path) -> None:
    path = tmp_path / "cookies.txt"
    with Client() as client:
        client.get(f"{flask_app.url}/cookies/set", params={"session": "abc", "theme": "dark"})
        client.cookies.save(str(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("# Netscape HTTP Cookie File")
    jar = CookieJar()
    jar.load(str(path))
    assert sorted(jar) == [("session", "abc", "127.0.0.1", "/"),
                           ("theme", "dark", "127.0.0.1", "/")]
    with Client(cookies=jar) as client:
        assert client.get(f"{flask_app.url}/cookies").json() == {"session": "abc",
                                                                   "theme": "dark"}


def test_cookies_are_per_client(flask_app: Peer) -> None:
    with Client() as one, Client() as two:
        one.get(f"{flask_app.url}/cookies/set", params={"who": "one"})
        assert two.get(f"{flask_app.url}/cookies").json() == {}


# == Flask: auth ===========================================================================


def test_basic_auth_via_auth_rfc7617_2(flask_app: Peer) -> None:
    with Client() as client:
        response = client.get(f"{flask_app.url}/basic-auth/user/pass", auth=("user", "pass"))
        assert response.json() == {"authenticated": True, "user": "user"}
        refused = client.get(f"{flask_app.url}/basic-auth/user/pass", auth=("user", "nope"))
        assert refused.status == 401
        assert refused.headers["www-authenticate"] == 'Basic realm="test"'
    with Client(auth=("user", "pass")) as client:
        assert client.get(f"{flask_app.url}/basic-auth/user/pass").status == 200


def test_basic_auth_via_url_userinfo_rfc7617_2_and_rfc9110_4_2_4(flask_app: Peer) -> None:
    """The credentials go in Authorization; userinfo is never sent in the target."""
    wire = Wire()
    with Client(trace=wire) as client:
        url = f"http://user:pass@127.0.0.1:{flask_app.port}/basic-auth/user/pass"
        response = client.get(url)
    assert response.status == 200
    assert b"user:pass" not in wire.sent
    assert b"@" not in wire.request_lines()[0]
    assert b"Authorization: Basic dXNlcjpwYXNz\r\n" in wire.sent
    assert response.url.userinfo is None


def test_basic_auth_utf8_and_colon_in_password_rfc7617_2_1(flask_app: Peer) -> None:
    """RFC 7617 section 2.1: UTF-8; the user-id ends at the first colon, the password may hold
    more."""
    path = "/basic-auth/j%C3%B6rg/p%C3%A4ss:w%C3%B6rd"
    with Client() as client:
        response = client.get(f"{flask_app.url}{path}", auth=("j\u00f6rg", "p\u00e4ss:w\u00f6rd"))
        assert response.json() == {"authenticated": True, "user": "j\u00f6rg"}
        url = f"http://j%C3%B6rg:p%C3%A4ss%3Aw%C3%B6rd@127.0.0.1:{flask_app.port}{path}"
        assert client.get(url).status == 200


# == Flask: statuses, bodies, decoding, time ===============================================


@pytest.mark.parametrize("code", [200, 201, 202, 299])
def test_success_status(flask_app: Peer, code: int) -> None:
    with Client() as client:
        response = client.get(f"{flask_app.url}/status/{code}")
    assert response.status == response.status_code == code
    assert response.ok
    assert response.raise_for_status() is response
    assert response.text == f"status {code}\n"


@pytest.mark.parametrize("code", [400, 401, 404, 418, 500, 502, 503])
def test_error_status_and_raise_for_status(flask_app: Peer, code: int) -> None:
    with Client() as client:
        response = client.get(f"{flask_app.url}/status/{code}")
    assert response.status == code
    assert not response.ok
    assert response.content == f"status {code}\n".encode()
    with pytest.raises(HTTPStatusError) as info:
        response.raise_for_status()
    assert info.value.status == code
    assert str(code) in str(info.value)
    assert ("client error" if code < 500 else "server error") in str(info.value)
    assert HTTPStatusError.exit_code == 22


def test_raise_for_status_passes_an_unfollowed_redirect(flask_app: Peer) -> None:
    with Client(follow_redirects=False) as client:
        response = client.get(f"{flask_app.url}/redirect/302")
    assert response.raise_for_status() is response


def test_json_and_query_params(flask_app: Peer) -> None:
    with Client() as client:
        response = client.get(f"{flask_app.url}/echo?x=1", params={"q": "a b&c", "u": "\u00e9"})
    echo = response.json()
    assert echo["args"] == {"x": ["1"], "q": ["a b&c"], "u": ["\u00e9"]}
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("charset", "text"),
    [
        ("utf-8", "caf\u00e9 \u20ac"),
        ("latin-1", "caf\u00e9 ?"),  # no euro in latin-1: the app wrote "?"
        ("cp1252", "caf\u00e9 \u20ac"),
        ("iso-8859-15", "caf\u00e9 \u20ac"),
    ],
)
def test_text_decoded_with_the_content_type_charset_rfc9110_8_3_2(
    flask_app: Peer, charset: str, text: str
) -> None:
    with Client() as client:
        response = client.get(f"{flask_app.url}/charset/{charset}")
    assert response.content == text.encode(charset)
    assert response.text == text


def test_gzip_decoded(flask_app: Peer) -> None:
    with Client() as client:
        assert client.get(f"{flask_app.url}/gzip").json() == {"gzipped": True}


def test_data_dict_urlencoded(flask_app: Peer) -> None:
    with Client() as client:
        echo = client.post(f"{flask_app.url}/echo",
                           data={"name": "J\u00f6rg & co", "empty": "", "eq": "a=b"}).json()
    assert echo["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert echo["form"] == {"name": ["J\u00f6rg & co"], "empty": [""], "eq": ["a=b"]}


def test_json_body(flask_app: Peer) -> None:
    payload = {"a": [1, 2.5, None, True], "text": "\u00e9\u20ac", "nested": {"k": "v"}}
    with Client() as client:
        echo = client.post(f"{flask_app.url}/echo", json=payload).json()
    assert echo["headers"]["Content-Type"] == "application/json"
    assert echo["json"] == payload


def test_files_multipart_rfc7578(flask_app: Peer) -> None:
    binary = bytes(range(256))
    with Client() as client:
        echo = client.post(
            f"{flask_app.url}/echo",
            data={"field": "value"},
            files={"upload": ("hello.txt", b"file content\r\n--not-a-boundary\r\n", "text/plain"),
                   "raw": ("raw.bin", binary),
                   "odd": ('we"ird.txt', b"x", "text/plain")},
        ).json()
    assert echo["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
    assert echo["form"] == {"field": ["value"]}
    assert echo["files"]["upload"] == {"filename": "hello.txt", "type": "text/plain",
                                       "content": "file content\r\n--not-a-boundary\r\n"}
    assert echo["files"]["raw"] == {"filename": "raw.bin", "type": "application/octet-stream",
                                    "content": binary.decode("latin-1")}
    assert echo["files"]["odd"]["content"] == "x"


def test_read_timeout(flask_app: Peer) -> None:
    with Client(timeout=(5, 0.5)) as client:
        started = time.monotonic()
        with pytest.raises(ReadTimeout):
            client.get(f"{flask_app.url}/slow/3.0")
        assert time.monotonic() - started < 2.0
    with Client() as client, pytest.raises(ReadTimeout):
        client.get(f"{flask_app.url}/slow/3.0", timeout=(5, 0.5))
    assert ReadTimeout.exit_code == 28


def test_drip_streamed(flask_app: Peer) -> None:
    arrivals: list[float] = []
    pieces: list[bytes] = []
    with Client() as client:
        started = time.monotonic()
        with client.stream("GET", f"{flask_app.url}/drip/5/0.2") as response:
            for piece in response.iter_bytes():
                arrivals.append(time.monotonic() - started)
                pieces.append(piece)
    assert b"".join(pieces) == b"*****"
    assert len(pieces) >= 3  # pieces come as they are made, not all at the end
    assert arrivals[0] < arrivals[-1] - 0.3


# == TLS ===================================================================================


def test_tls_good_with_cacert(tls_servers: dict[str, TLSPeer], docroot: Path) -> None:
    good = tls_servers["good"]
    with Client(cacert=good.cafile) as client:
        response = client.get(f"{good.url}/text.txt")
        assert response.status == 200
        assert response.content == (docroot / "text.txt").read_bytes()
        port = pooled_port(client, good.url)
        assert port is not None
        client.get(f"{good.url}/data.json")
        assert pooled_port(client, good.url) == port


def test_tls_verify_false_accepts_an_unknown_issuer(tls_servers: dict[str, TLSPeer]) -> None:
    with Client(verify=False) as client:
        assert client.get(f"{tls_servers['unknown_issuer'].url}/data.json").json() == {
            "hello": "world"}


@pytest.mark.parametrize(
    ("name", "words"),
    [("expired", "expired"), ("wrong_host", "another host name"),
     ("unknown_issuer", "issuer is unknown")],
)
def test_tls_verification_failures(
    tls_servers: dict[str, TLSPeer], name: str, words: str
) -> None:
    peer = tls_servers[name]
    with Client(cacert=peer.cafile) as client, pytest.raises(CertificateError) as info:
        client.get(f"{peer.url}/data.json")
    assert words in str(info.value)
    assert info.value.exit_code == 60


def test_tls_default_trust_store_refuses_a_private_ca(tls_servers: dict[str, TLSPeer]) -> None:
    with Client() as client, pytest.raises(CertificateError):
        client.get(f"{tls_servers['good'].url}/data.json")


# == proxies ===============================================================================


def test_http_via_proxy_rfc9112_3_2_2(tinyproxy: Peer, flask_app: Peer) -> None:
    wire = Wire()
    with Client(proxies={"http": tinyproxy.url}, trace=wire) as client:
        echo = client.get(f"{flask_app.url}/echo?x=1").json()
    assert echo["path"] == "/echo"
    assert echo["args"] == {"x": ["1"]}
    # absolute-form to a proxy (RFC 9112 section 3.2.2)
    assert wire.request_lines() == [f"GET {flask_app.url}/echo?x=1 HTTP/1.1".encode()]


def test_http_via_proxy_really_goes_through_the_proxy(tinyproxy: Peer) -> None:
    """Nothing listens on the target: only the proxy can answer, with its own error."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    with Client(proxies={"http": tinyproxy.url}) as client:
        response = client.get(f"http://127.0.0.1:{dead}/")
    assert response.status >= 500


def test_https_via_connect_through_proxy_rfc9110_9_3_6(
    tinyproxy: Peer, tls_servers: dict[str, TLSPeer], docroot: Path
) -> None:
    good = tls_servers["good"]
    wire = Wire()
    with Client(proxies={"https": tinyproxy.url}, cacert=good.cafile, trace=wire) as client:
        response = client.get(f"{good.url}/text.txt")
        assert response.content == (docroot / "text.txt").read_bytes()
        client.get(f"{good.url}/data.json")
    lines = wire.request_lines()
    assert lines[0] == f"CONNECT 127.0.0.1:{good.port} HTTP/1.1".encode()
    # Inside the tunnel the requests are origin-form, and the tunnel is reused.
    assert lines[1:] == [b"GET /text.txt HTTP/1.1", b"GET /data.json HTTP/1.1"]


def _clear_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "REQUEST_METHOD"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


def test_proxy_from_environment(
    monkeypatch: pytest.MonkeyPatch, tinyproxy: Peer, flask_app: Peer
) -> None:
    _clear_proxy_env(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", tinyproxy.url)
    wire = Wire()
    with Client(trace=wire) as client:
        assert client.get(f"{flask_app.url}/echo").json()["path"] == "/echo"
    assert wire.request_lines() == [f"GET {flask_app.url}/echo HTTP/1.1".encode()]

    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    wire = Wire()
    with Client(trace=wire) as client:
        assert client.get(f"{flask_app.url}/echo").json()["path"] == "/echo"
    assert wire.request_lines() == [b"GET /echo HTTP/1.1"]

    monkeypatch.delenv("NO_PROXY")
    wire = Wire()
    with Client(trace=wire, trust_env=False) as client:
        client.get(f"{flask_app.url}/echo")
    assert wire.request_lines() == [b"GET /echo HTTP/1.1"]


def _fake_proxy(conn: socket.socket, server: RawServer) -> None:
    if server.read_request(conn) is not None:
        server.send(conn, b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")


@pytest.mark.parametrize(
    ("url", "authority"),
    [
        ("https://example.test/", b"example.test:443"),
        ("https://example.test:8443/", b"example.test:8443"),
        ("https://[2001:db8::1]:8443/", b"[2001:db8::1]:8443"),
        ("https://[2001:db8::1]/", b"[2001:db8::1]:443"),
    ],
)
def test_connect_target_is_authority_form_rfc9112_3_2_3(url: str, authority: bytes) -> None:
    """CONNECT host:port, the port always written, an IPv6 address in brackets."""
    with (RawServer(_fake_proxy) as proxy, Client(proxies={"https": proxy.url}) as client,
          pytest.raises(ProxyError)):
        client.get(url)
    (sent,) = proxy.requests
    assert sent.split(b"\r\n")[0] == b"CONNECT " + authority + b" HTTP/1.1"
    assert b"\r\nHost: " + authority + b"\r\n" in sent


# == transport errors ======================================================================


def test_connection_refused() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with Client() as client, pytest.raises(ConnectError) as info:
        client.get(f"http://127.0.0.1:{port}/")
    assert info.value.exit_code == 7
    assert isinstance(info.value, TransportError)


def test_unknown_host() -> None:
    with Client() as client, pytest.raises(NameResolutionError) as info:
        client.get("http://nonexistent.invalid/")
    assert "nonexistent.invalid" in str(info.value)
    assert info.value.exit_code == 6


def test_server_that_never_answers() -> None:
    def handler(conn: socket.socket, server: RawServer) -> None:
        server.read_request(conn)
        server.hold(10)

    with RawServer(handler) as server, Client(timeout=(2, 0.3)) as client:
        started = time.monotonic()
        with pytest.raises(ReadTimeout):
            client.get(server.url)
        assert 0.25 < time.monotonic() - started < 2.0


def test_read_timeouts_on_a_reused_connection() -> None:
    """A kept-alive connection's timeouts are the kernel's (SO_RCVTIMEO): a
    silent server still ends in ReadTimeout, for the head and for the body,
    and a request's own timeout still applies."""
    def handler(conn: socket.socket, server: RawServer) -> None:
        ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        for _ in range(3):  # the first answers make the connection a reused one
            if server.read_request(conn) is None:
                return
            server.send(conn, ok)
        if server.read_request(conn) is None:
            return
        server.send(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf")
        server.hold(10)

    with RawServer(handler) as server, Client(timeout=(2, 0.3)) as client:
        for _ in range(3):
            assert client.get(server.url).content == b"ok"
        with pytest.raises(ReadTimeout):
            client.get(server.url, timeout=(2, 0.2)).content  # noqa: B018
    assert server.connections == 1

    def silent_third(conn: socket.socket, server: RawServer) -> None:
        for _ in range(2):
            if server.read_request(conn) is None:
                return
            server.send(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        server.read_request(conn)
        server.hold(10)

    with RawServer(silent_third) as server, Client(timeout=(2, 0.3)) as client:
        assert client.get(server.url).content == b"ok"
        assert client.get(server.url).content == b"ok"
        with pytest.raises(ReadTimeout):
            client.get(server.url)
    assert server.connections == 1


def _cut_mid_body(rst: bool) -> Callable[[socket.socket, RawServer], None]:
    def handler(conn: socket.socket, server: RawServer) -> None:
        if server.read_request(conn) is None:
            return
        server.send(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 300)
        server.hold(0.3)  # let the client read what was sent before the end
        if rst:
            reset(conn)

    return handler


@pytest.mark.parametrize("rst", [True, False], ids=["reset", "closed"])
def test_connection_ends_mid_body_rfc9112_8(rst: bool) -> None:
    """RFC 9112 section 8: fewer bytes than Content-Length is an incomplete message.

    Its exit code is curl's: 18 for a connection that ended early, 56 ("Recv
    failure") for one that was reset."""
    with RawServer(_cut_mid_body(rst)) as server, Client() as client:
        with pytest.raises(IncompleteBody) as info:
            client.get(server.url)
        assert info.value.received == 300
        assert info.value.exit_code == (56 if rst else 18)
        assert ("connection lost: Connection reset by peer" in str(info.value)) is rst
        with pytest.raises(IncompleteBody) as info, client.stream("GET", server.url) as response:
            assert response.status == 200
            b"".join(response.iter_bytes())
        assert info.value.received == 300
        assert idle(client) == 0


@pytest.mark.parametrize(
    "response",
    [
        b"HTTP/1.1 2x0 OK\r\n\r\n",
        b"HTTQ/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        b"SSH-2.0-OpenSSH_9.6\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n",
    ],
)
def test_malformed_response_rfc9112_4(response: bytes) -> None:
    def handler(conn: socket.socket, server: RawServer) -> None:
        if server.read_request(conn) is not None:
            server.send(conn, response)
            server.wait_for_close(conn)

    with RawServer(handler) as server, Client(timeout=(2, 2)) as client:
        with pytest.raises(RemoteProtocolError):
            client.get(server.url)
        assert idle(client) == 0


def test_empty_reply() -> None:
    def handler(conn: socket.socket, server: RawServer) -> None:
        server.read_request(conn)

    with RawServer(handler) as server, Client() as client:
        with pytest.raises(TransportError) as info:
            client.get(server.url)
        assert "without a response" in str(info.value)


# == keep-alive corner cases ===============================================================


def test_unsolicited_bytes_after_a_response_are_not_the_next_response_rfc9112_9_3() -> None:
    """A server that sends more than was asked for (here a second response in the same
    packet) must not have those bytes taken as the answer to the next request."""

    def handler(conn: socket.socket, server: RawServer) -> None:
        while server.read_request(conn) is not None:
            if len(server.requests) == 1:
                server.send(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst"
                                  b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale")
            else:
                server.send(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond")

    with RawServer(handler) as server, Client() as client:
        assert client.get(f"{server.url}/1").content == b"first"
        assert client.get(f"{server.url}/2").content == b"second"


def _close_on_second_request(conn: socket.socket, server: RawServer) -> None:
    """Answer the first request of a connection and keep it open; on a second request
    on it, close without answering (as a server whose keep-alive timer just fired)."""
    served = 0
    while server.read_request(conn) is not None:
        if served == 1 and server.connections == 1:
            return
        served += 1
        server.send(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")


def test_idempotent_request_retried_once_on_a_closed_kept_alive_connection_rfc9112_9_3_1() -> None:
    """RFC 9112 section 9.3.1: a client MAY retry an idempotent request on a new connection."""
    with RawServer(_close_on_second_request) as server, Client() as client:
        assert client.get(server.url).content == b"ok"
        assert client.get(server.url).content == b"ok"
        assert server.connections == 2
        assert [r.split(b" ", 1)[0] for r in server.requests] == [b"GET"] * 3


def test_post_not_retried_automatically_rfc9110_9_2_2() -> None:
    """RFC 9110 section 9.2.2: a user agent SHOULD NOT automatically retry a request with a
    non-idempotent method: the server may have acted on it before the connection closed."""
    with RawServer(_close_on_second_request) as server, Client() as client:
        assert client.get(server.url).content == b"ok"
        with pytest.raises(TransportError):
            client.post(server.url, content=b"order=1")
        posts = [r for r in server.requests if r.startswith(b"POST")]
        assert len(posts) == 1


# == hostile servers =======================================================================


def _measure(fn: Callable[[], object]) -> tuple[float, int]:
    """(seconds, peak bytes allocated by Python) while ``fn`` runs."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        fn()
    finally:
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return elapsed, peak


def _endless_header_lines(conn: socket.socket, server: RawServer) -> None:
    if server.read_request(conn) is None:
        return
    server.send(conn, b"HTTP/1.1 200 OK\r\n")
    n = 0
    while server.running():
        server.send(conn, b"".join(b"X-Header-%d: value\r\n" % (n + i) for i in range(1000)))
        n += 1000


def _endless_header_value(conn: socket.socket, server: RawServer) -> None:
    if server.read_request(conn) is None:
        return
    server.send(conn, b"HTTP/1.1 200 OK\r\nX-Endless: ")
    block = b"a" * 65536
    while server.running():
        server.send(conn, block)


def _endless_status_line(conn: socket.socket, server: RawServer) -> None:
    if server.read_request(conn) is None:
        return
    server.send(conn, b"HTTP/1.1 200 ")
    block = b"O" * 65536
    while server.running():
        server.send(conn, block)


@pytest.mark.parametrize(
    "handler",
    [_endless_header_lines, _endless_header_value, _endless_status_line],
    ids=["many_lines", "one_endless_field", "endless_status_line"],
)
def test_endless_head_stops_with_bounded_memory(
    handler: Callable[[socket.socket, RawServer], None],
) -> None:
    with RawServer(handler) as server, Client() as client:

        def fetch() -> None:
            with pytest.raises(RemoteProtocolError):
                client.get(server.url)

        elapsed, peak = _measure(fetch)
    assert elapsed < 5
    assert peak < 8 * MiB


def test_endless_chunked_body_with_content_raises_body_too_large() -> None:
    def handler(conn: socket.socket, server: RawServer) -> None:
        if server.read_request(conn) is None:
            return
        server.send(conn, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        block = chunk(b"z" * 65536)
        while server.running():
            server.send(conn, block)

    with RawServer(handler) as server, Client(max_content_size=MiB) as client:

        def fetch() -> None:
            with pytest.raises(BodyTooLarge):
                client.get(server.url)

        elapsed, peak = _measure(fetch)
        assert idle(client) == 0
    assert elapsed < 5
    assert peak < 16 * MiB
    assert server.sent < 64 * MiB


def _gzip_bomb(conn: socket.socket, server: RawServer) -> None:
    """1 GiB of zeros, gzip-compressed a MiB at a time as it is sent: never held whole."""
    if server.read_request(conn) is None:
        return
    server.send(conn, b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                      b"Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n")
    zeros = bytes(MiB)
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    for _ in range(1024):
        if not server.running():
            return
        out = compressor.compress(zeros)
        if out:
            server.send(conn, chunk(out))
    server.send(conn, chunk(compressor.flush()) + b"0\r\n\r\n")


def test_gzip_bomb_with_content_raises_body_too_large() -> None:
    with RawServer(_gzip_bomb) as server, Client(max_content_size=MiB) as client:

        def fetch() -> None:
            with pytest.raises(BodyTooLarge):
                client.get(server.url)

        elapsed, peak = _measure(fetch)
    assert elapsed < 5
    assert peak < 16 * MiB
    assert BodyTooLarge.exit_code == 63


def test_gzip_bomb_streamed_is_bounded_per_piece() -> None:
    """Streaming has no overall cap, but no piece is the expansion of a whole chunk."""
    with RawServer(_gzip_bomb) as server, Client(max_content_size=None) as client:
        total = 0
        with client.stream("GET", server.url) as response:
            for piece in response.iter_bytes():
                assert len(piece) <= 8 * MiB
                total += len(piece)
                if total > 32 * MiB:
                    break
        assert total > 32 * MiB


def test_huge_content_length_with_a_short_body() -> None:
    def handler(conn: socket.socket, server: RawServer) -> None:
        if server.read_request(conn) is not None:
            server.send(conn, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\nshort" % 10**15)

    with RawServer(handler) as server, Client() as client:
        started = time.monotonic()
        with pytest.raises(IncompleteBody) as info:
            client.get(server.url)
        assert info.value.received == 5
        assert time.monotonic() - started < 5


# == IPv6 ==================================================================================


def test_ipv6_literal_rfc3986_3_2_2(ipv6_server: str, docroot: Path) -> None:
    port = int(ipv6_server.rsplit(":", 1)[1])
    wire = Wire()
    with Client(trace=wire) as client:
        response = client.get(f"http://[::1]:{port}/text.txt")
        assert response.content == (docroot / "text.txt").read_bytes()
        assert str(response.url) == f"http://[::1]:{port}/text.txt"
        client.get(f"http://[::1]:{port}/data.json")
        assert idle(client) == 1
    assert f"\r\nHost: [::1]:{port}\r\n".encode() in wire.sent


def test_ipv6_raw_server() -> None:
    def handler(conn: socket.socket, server: RawServer) -> None:
        while (head := server.read_request(conn)) is not None:
            body = json.dumps({"peer": conn.getpeername()[0],
                               "head": head.decode("latin-1")}).encode()
            server.send(conn, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%b"
                        % (len(body), body))

    try:
        server = RawServer(handler, host="::1")
    except OSError:
        pytest.skip("no IPv6 loopback on this host")
    with server, Client() as client:
        echo = client.get(f"{server.url}/x").json()
        assert echo["peer"] == "::1"
        assert f"\r\nHost: [::1]:{server.port}\r\n" in echo["head"]
        client.get(f"{server.url}/y")
        assert server.connections == 1
