"""``sockweb get URL`` end to end: the real command against real peers.

Every case runs ``python -m sockweb get ...`` in a subprocess (with a timeout)
against nginx, Flask, ``python -m http.server``, TLS nginx, or a raw socket
server started here in a thread, on 127.0.0.1 with an ephemeral port. Where
curl has an answer, the real /usr/bin/curl is run with the same URL and the
two are compared: curl's and HTTPie's users are who this command serves.
"""

from __future__ import annotations

import gzip
import json
import os
import pty
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import Peer, TLSPeer, free_port

TIMEOUT = 20.0
CURL = shutil.which("curl") or "/usr/bin/curl"
# No proxy from the environment may stand between the command and the peers.
ENV = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}


# -- helpers ---------------------------------------------------------------------


def sockweb(*args: str, cwd: Path | str | None = None, timeout: float = TIMEOUT,
            stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "sockweb", "get", *args],
                          capture_output=True, cwd=cwd, env=ENV, timeout=timeout,
                          input=stdin if stdin is not None else b"")


def curl(*args: str, cwd: Path | str | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([CURL, "-sS", *args], capture_output=True, cwd=cwd, env=ENV,
                          timeout=TIMEOUT, stdin=subprocess.DEVNULL)


def assert_one_error_line(proc: subprocess.CompletedProcess[bytes], code: int) -> str:
    """curl's exit code, and one line on stderr that starts with ``sockweb: ``."""
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == code, (proc.returncode, err)
    assert "Traceback" not in err, err
    assert err.startswith("sockweb: "), err
    assert err.endswith("\n") and err.count("\n") == 1, err
    return err.strip()


def echo(proc: subprocess.CompletedProcess[bytes]) -> dict[str, Any]:
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


class RawServer:
    """A thread that accepts on 127.0.0.1:<ephemeral>, records each request head
    and hands the connection to ``handler``; stopped (and joined) on exit, and
    it gives up by itself after ``lifetime`` seconds."""

    def __init__(self, handler: Callable[[socket.socket, bytes], None],
                 lifetime: float = 30.0) -> None:
        self.handler = handler
        self.lifetime = lifetime
        self.requests: list[bytes] = []
        self.errors: list[BaseException] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.1)
        self.port = int(self.sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        deadline = time.monotonic() + self.lifetime
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            with conn:
                try:
                    conn.settimeout(5.0)
                    data = b""
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    self.requests.append(data)
                    self.handler(conn, data)
                except Exception as exc:  # recorded, never raised in the thread
                    self.errors.append(exc)

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()
        assert not self._thread.is_alive()


def reset(conn: socket.socket) -> None:
    """Close with an RST instead of a FIN."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def raw_fetch(port: int, request: bytes, timeout: float = 10.0) -> bytes:
    """What a plain socket receives for ``request``: one whole response, framed by
    Content-Length, by the chunked terminator, or by the close."""
    deadline = time.monotonic() + timeout
    data = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        while time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            if not sep:
                continue
            length = re.search(rb"(?im)^content-length:\s*(\d+)\r?$", head)
            if length and len(body) >= int(length.group(1)):
                break
            if re.search(rb"(?im)^transfer-encoding:\s*chunked\r?$", head) \
                    and body.endswith(b"0\r\n\r\n"):
                break
    return data


def without_date(data: bytes) -> bytes:
    head, sep, body = data.partition(b"\r\n\r\n")
    return re.sub(rb"(?im)^date: [^\r\n]*", b"Date: -", head) + sep + body


def run_pty(args: list[str], *, stdout_tty: bool, stderr_tty: bool, tmp_path: Path,
            timeout: float = TIMEOUT) -> tuple[int, bytes, bytes, bytes]:
    """Run ``sockweb get`` with stdout and/or stderr on a pseudo-terminal.

    Returns (exit code, what the terminal showed, stdout file, stderr file);
    streams that are not on the terminal go to regular files."""
    master, slave = pty.openpty()
    out_file, err_file = tmp_path / "pty.stdout", tmp_path / "pty.stderr"
    with open(out_file, "wb") as out_f, open(err_file, "wb") as err_f:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sockweb", "get", *args],
            stdin=subprocess.DEVNULL, stdout=slave if stdout_tty else out_f,
            stderr=slave if stderr_tty else err_f, env=ENV, cwd=tmp_path)
    os.close(slave)
    shown = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: every writer of the slave has gone
                    break
                if not data:
                    break
                shown += data
        else:
            proc.kill()
            pytest.fail(f"sockweb {args} did not finish on a terminal in {timeout} s")
        code = proc.wait(timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        os.close(master)
    # The terminal turns "\n" into "\r\n" (ONLCR).
    return code, bytes(shown).replace(b"\r\n", b"\n"), out_file.read_bytes(), \
        err_file.read_bytes()


# -- to a pipe: the body alone ----------------------------------------------------


@pytest.mark.parametrize("name", ["text.txt", "binary.bin", "big.bin", "data.json"])
def test_pipe_gets_body_byte_for_byte_nginx(nginx: Peer, docroot: Path, name: str) -> None:
    # text.txt goes out gzipped (nginx has gzip on): the pipe gets it decoded.
    proc = sockweb(f"{nginx.url}/{name}")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (docroot / name).read_bytes()
    assert proc.stderr == b""


@pytest.mark.parametrize("name", ["text.txt", "binary.bin", "big.bin"])
def test_pipe_gets_body_byte_for_byte_http_server(http_server: Peer, docroot: Path,
                                                  name: str) -> None:
    # HTTP/1.0 replies delimited by the close.
    proc = sockweb(f"{http_server.url}/{name}")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (docroot / name).read_bytes()


def test_pipe_gets_decoded_gzip_from_flask(flask_app: Peer) -> None:
    proc = sockweb(f"{flask_app.url}/gzip")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b'{"gzipped": true}'


# -- -o FILE saves what curl -o saves ---------------------------------------------


@pytest.mark.parametrize("path", ["/text.txt", "/data.json", "/binary.bin", "/big.bin",
                                  "/chunked"])
def test_output_file_matches_curl(nginx: Peer, tmp_path: Path, path: str) -> None:
    ours, theirs = tmp_path / "ours", tmp_path / "curl"
    proc = sockweb("-o", str(ours), nginx.url + path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b""
    assert proc.stderr == b""  # stderr is not a terminal: no progress bar
    assert curl("-o", str(theirs), nginx.url + path).returncode == 0
    assert ours.read_bytes() == theirs.read_bytes()


@pytest.mark.parametrize("name", ["binary.bin", "text.txt"])
def test_output_file_range_matches_curl(nginx: Peer, docroot: Path, tmp_path: Path,
                                        name: str) -> None:
    # curl sends no Accept-Encoding and gets 206 with bytes 10..99. nginx
    # ignores a Range on a response it gzips, so a client that asks for gzip
    # together with a Range gets the whole file instead of the 90 bytes asked.
    ours, theirs = tmp_path / "ours", tmp_path / "curl"
    url = f"{nginx.url}/{name}"
    proc = sockweb("-H", "Range: bytes=10-99", "-o", str(ours), url)
    assert proc.returncode == 0, proc.stderr
    assert curl("-H", "Range: bytes=10-99", "-o", str(theirs), url).returncode == 0
    assert theirs.read_bytes() == (docroot / name).read_bytes()[10:100]
    assert ours.read_bytes() == theirs.read_bytes()


def test_output_file_gzip_flask_matches_curl_compressed(flask_app: Peer, tmp_path: Path) -> None:
    # /gzip always answers Content-Encoding: gzip. curl without --compressed
    # saves the raw gzip bytes; sockweb decodes, as curl --compressed (and
    # HTTPie's --download) do. So the comparison is with `curl --compressed`.
    ours, theirs, raw = tmp_path / "ours", tmp_path / "curl", tmp_path / "raw"
    url = f"{flask_app.url}/gzip"
    proc = sockweb("-o", str(ours), url)
    assert proc.returncode == 0, proc.stderr
    assert curl("--compressed", "-o", str(theirs), url).returncode == 0
    assert curl("-o", str(raw), url).returncode == 0
    assert raw.read_bytes()[:2] == b"\x1f\x8b"  # the difference, stated
    assert ours.read_bytes() == theirs.read_bytes() == b'{"gzipped": true}'


def test_remote_name(nginx: Peer, docroot: Path, tmp_path: Path) -> None:
    proc = sockweb("-O", f"{nginx.url}/binary.bin", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b""
    assert [p.name for p in tmp_path.iterdir()] == ["binary.bin"]
    assert (tmp_path / "binary.bin").read_bytes() == (docroot / "binary.bin").read_bytes()


# -- large bodies: the zero-copy path (os.splice) and its fallbacks ------------------


def test_large_file_matches_curl_to_a_file_a_pipe_and_dev_null(
        nginx: Peer, docroot: Path, tmp_path: Path) -> None:
    url = f"{nginx.url}/large.bin"
    original = (docroot / "large.bin").read_bytes()
    ours, theirs = tmp_path / "ours", tmp_path / "curl"
    proc = sockweb("-o", str(ours), url)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == b""
    assert curl("-o", str(theirs), url).returncode == 0
    assert ours.read_bytes() == theirs.read_bytes() == original
    piped = sockweb(url)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == original
    null = sockweb("-o", os.devnull, url)
    assert null.returncode == 0 and null.stderr == b"", null.stderr


def _serve_body(head: bytes, pieces: list[bytes], end: str) -> Callable[[socket.socket, bytes],
                                                                        None]:
    """A handler that sends ``head``, then ``pieces``, then closes (FIN), resets
    (RST) or holds the connection open (``end``)."""
    def handler(conn: socket.socket, request: bytes) -> None:
        conn.sendall(head)
        for piece in pieces:
            conn.sendall(piece)
        if end == "hold":
            time.sleep(3)
        elif end == "rst":
            time.sleep(0.3)  # let the client read what was sent before the RST
            reset(conn)
    return handler


LARGE = os.urandom(1 << 20) * 6 + b"end"


@pytest.mark.parametrize("framing", ["chunked", "close"])
def test_large_body_without_content_length_matches_curl(tmp_path: Path, framing: str) -> None:
    if framing == "chunked":
        head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        pieces = [b"%x\r\n%b\r\n" % (len(LARGE[i:i + 100_000]), LARGE[i:i + 100_000])
                  for i in range(0, len(LARGE), 100_000)] + [b"0\r\n\r\n"]
    else:
        head = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
        pieces = [LARGE]
    ours, theirs = tmp_path / "ours", tmp_path / "curl"
    with RawServer(_serve_body(head, pieces, "close")) as server:
        proc = sockweb("-o", str(ours), server.url)
        assert curl("-o", str(theirs), server.url).returncode == 0
    assert proc.returncode == 0, proc.stderr
    assert ours.read_bytes() == theirs.read_bytes() == LARGE


@pytest.mark.parametrize("end", ["fin", "rst"])
def test_large_body_cut_short_keeps_what_came_like_curl(tmp_path: Path, end: str) -> None:
    sent = LARGE[:(5 << 20) + 12345]
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(LARGE)
    ours, theirs = tmp_path / "ours", tmp_path / "curl"
    with RawServer(_serve_body(head, [sent], end)) as server:
        proc = sockweb("-o", str(ours), server.url)
        theirs_proc = curl("-o", str(theirs), server.url)
    # curl's codes: 18 for a connection that ended early, 56 for one reset.
    line = assert_one_error_line(proc, 56 if end == "rst" else 18)
    assert f"after {len(sent)} bytes of {len(LARGE)}" in line, line
    if end == "rst":  # said as the reset it was
        assert "connection lost: Connection reset by peer" in line, line
    assert theirs_proc.returncode in (18, 56)  # curl: 56 for the RST
    assert ours.read_bytes() == theirs.read_bytes() == sent


def test_large_body_that_stalls_times_out(tmp_path: Path) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(LARGE)
    target = tmp_path / "f"
    with RawServer(_serve_body(head, [LARGE[:3 << 20]], "hold")) as server:
        proc = sockweb("--max-time", "1", "-o", str(target), server.url)
    assert_one_error_line(proc, 28)
    assert LARGE.startswith(target.read_bytes())


def test_large_body_to_a_full_disk_exits_23(nginx: Peer) -> None:
    proc = sockweb("-o", "/dev/full", f"{nginx.url}/large.bin")
    line = assert_one_error_line(proc, 23)
    assert "cannot write output" in line, line


# -- -C -: a cut transfer, then the resume -----------------------------------------


def test_reset_transfer_exits_56_then_resume_completes(nginx: Peer, docroot: Path,
                                                     tmp_path: Path) -> None:
    original = (docroot / "binary.bin").read_bytes()
    half = len(original) // 2

    def cut(conn: socket.socket, request: bytes) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(original) + original[:half])
        time.sleep(0.3)  # let the client read the half before the RST
        reset(conn)

    target = tmp_path / "f"
    with RawServer(cut) as server:
        proc = sockweb("-o", str(target), f"{server.url}/binary.bin")
    line = assert_one_error_line(proc, 56)  # curl: "Recv failure: Connection reset by peer"
    assert str(half) in line, line
    assert "-C -" in line, line
    assert target.read_bytes() == original[:half]

    # nginx serves the same file with ranges: -C - asks for the rest.
    proc = sockweb("-v", "-C", "-", "-o", str(target), f"{nginx.url}/binary.bin")
    assert proc.returncode == 0, proc.stderr
    assert f"> Range: bytes={half}-" in proc.stderr.decode(), proc.stderr
    assert "< HTTP/1.1 206 Partial Content" in proc.stderr.decode(), proc.stderr
    assert target.read_bytes() == original


def test_resume_big_file_from_nginx(nginx: Peer, docroot: Path, tmp_path: Path) -> None:
    original = (docroot / "big.bin").read_bytes()
    target = tmp_path / "big.bin"
    target.write_bytes(original[:1_000_003])
    proc = sockweb("-C", "-", "-o", str(target), f"{nginx.url}/big.bin")
    assert proc.returncode == 0, proc.stderr
    assert target.read_bytes() == original


def test_resume_text_file_asks_only_for_the_rest(nginx: Peer, docroot: Path,
                                                tmp_path: Path) -> None:
    # text.txt is one nginx gzips: a resume must still get a 206 with the rest,
    # not the whole file again (a Range needs an identity coding to be honoured).
    original = (docroot / "text.txt").read_bytes()
    target = tmp_path / "text.txt"
    target.write_bytes(original[:50_000])
    proc = sockweb("-v", "-C", "-", "-o", str(target), f"{nginx.url}/text.txt")
    assert proc.returncode == 0, proc.stderr
    assert target.read_bytes() == original
    assert "< HTTP/1.1 206 Partial Content" in proc.stderr.decode(), proc.stderr


# -- -v and --raw -------------------------------------------------------------------


def test_verbose_heads_on_stderr_body_on_stdout(nginx: Peer, docroot: Path) -> None:
    proc = sockweb("-v", f"{nginx.url}/data.json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (docroot / "data.json").read_bytes()
    lines = proc.stderr.decode().splitlines()
    assert "> GET /data.json HTTP/1.1" in lines
    assert f"> Host: 127.0.0.1:{nginx.port}" in lines
    assert any(line.startswith("> User-Agent: sockweb/") for line in lines)
    assert "< HTTP/1.1 200 OK" in lines
    assert "< Content-Type: application/json" in lines
    assert "< Content-Length: 19" in lines
    sent = [line for line in lines if line.startswith(">")]
    received = [line for line in lines if line.startswith("<")]
    assert lines.index(sent[0]) < lines.index(received[0])


def _same_as_socket(raw_out: bytes, socket_got: bytes) -> None:
    assert raw_out.startswith(b"HTTP/1.")
    assert without_date(raw_out) == without_date(socket_got)


@pytest.mark.parametrize("path", ["/data.json", "/binary.bin", "/text.txt"])
def test_raw_is_exactly_what_nginx_sent(nginx: Peer, path: str) -> None:
    # text.txt comes gzipped and chunked: --raw shows it so, undecoded.
    proc = sockweb("--raw", nginx.url + path)
    assert proc.returncode == 0, proc.stderr
    got = raw_fetch(nginx.port, b"GET %b HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                    b"Accept-Encoding: gzip\r\n\r\n" % (path.encode(), nginx.port))
    _same_as_socket(proc.stdout, got)


def test_raw_is_exactly_what_http_server_sent(http_server: Peer) -> None:
    proc = sockweb("--raw", f"{http_server.url}/text.txt")
    assert proc.returncode == 0, proc.stderr
    got = raw_fetch(http_server.port, b"GET /text.txt HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n"
                    % http_server.port)
    _same_as_socket(proc.stdout, got)


def test_http10_raw_sends_the_seed_request_byte_for_byte() -> None:
    reply = (b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nX-Odd:  spaced \r\n\r\n"
             b"<html><body>page one\r\n\x00\xff</body></html>")

    def answer(conn: socket.socket, request: bytes) -> None:
        conn.sendall(reply)

    with RawServer(answer) as server:
        proc = sockweb("--http1.0", "--raw", f"{server.url}/page1.htm")
    assert proc.returncode == 0, proc.stderr
    assert server.requests == [
        b"GET http://127.0.0.1:%d/page1.htm HTTP/1.0\r\n\r\n" % server.port]
    assert proc.stdout == reply


# -- request options ------------------------------------------------------------------


def test_head_shows_headers_only(nginx: Peer) -> None:
    proc = sockweb("-v", "-I", f"{nginx.url}/binary.bin")
    assert proc.returncode == 0, proc.stderr
    assert "> HEAD /binary.bin HTTP/1.1" in proc.stderr.decode()
    out = proc.stdout.decode("latin-1")
    assert out.startswith("HTTP/1.1 200 OK\n"), out
    assert "Content-Length: 16384\n" in out
    assert "Content-Type: application/octet-stream\n" in out
    assert len(proc.stdout) < 1000  # no body


def test_include_shows_head_then_body(nginx: Peer, docroot: Path) -> None:
    proc = sockweb("-i", f"{nginx.url}/data.json")
    assert proc.returncode == 0, proc.stderr
    body = (docroot / "data.json").read_bytes()
    head, sep, rest = proc.stdout.partition(b"\n\n")
    assert sep
    assert head.startswith(b"HTTP/1.1 200 OK\n")
    assert b"Content-Type: application/json" in head
    assert b"\x1b[" not in proc.stdout  # no colour into a pipe
    assert rest == body


def test_request_method(flask_app: Peer) -> None:
    assert echo(sockweb("-X", "DELETE", f"{flask_app.url}/echo"))["method"] == "DELETE"


def test_extra_header(flask_app: Peer) -> None:
    got = echo(sockweb("-H", "X-A: 1", f"{flask_app.url}/echo"))
    assert got["headers"]["X-A"] == "1"
    assert got["headers"]["User-Agent"].startswith("sockweb/")


def test_empty_header_removes_default(flask_app: Peer) -> None:
    got = echo(sockweb("-H", "User-Agent:", f"{flask_app.url}/echo"))
    assert "User-Agent" not in got["headers"]


def test_data_joined_as_form(flask_app: Peer) -> None:
    got = echo(sockweb("-d", "a=1", "-d", "b=2", f"{flask_app.url}/echo"))
    assert got["method"] == "POST"
    assert got["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert got["form"] == {"a": ["1"], "b": ["2"]}


def test_data_from_file(flask_app: Peer, tmp_path: Path) -> None:
    body = tmp_path / "body.txt"
    body.write_bytes(b"x=1&y=two")
    got = echo(sockweb("-d", f"@{body}", f"{flask_app.url}/echo"))
    assert got["method"] == "POST"
    assert got["form"] == {"x": ["1"], "y": ["two"]}


def test_data_from_file_with_newline_as_curl(flask_app: Peer, tmp_path: Path) -> None:
    # curl's -d @FILE drops CR and LF (--data-binary keeps them): an editor's
    # final newline must not end up in the last value.
    body = tmp_path / "body.txt"
    body.write_bytes(b"x=1&y=two\n")
    theirs = json.loads(curl("-d", f"@{body}", f"{flask_app.url}/echo").stdout)
    ours = echo(sockweb("-d", f"@{body}", f"{flask_app.url}/echo"))
    assert theirs["form"] == {"x": ["1"], "y": ["two"]}
    assert ours["form"] == theirs["form"]


def test_json_body(flask_app: Peer) -> None:
    got = echo(sockweb("--json", '{"a":1}', f"{flask_app.url}/echo"))
    assert got["method"] == "POST"
    assert got["headers"]["Content-Type"] == "application/json"
    assert got["headers"]["Accept"] == "application/json"
    assert got["json"] == {"a": 1}


def test_multipart_form(flask_app: Peer, tmp_path: Path) -> None:
    upload = tmp_path / "up.txt"
    upload.write_bytes(b"file content\n")
    got = echo(sockweb("-F", "name=value", "-F", f"file=@{upload}", f"{flask_app.url}/echo"))
    assert got["method"] == "POST"
    assert got["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
    assert got["form"] == {"name": ["value"]}
    assert got["files"]["file"]["filename"] == "up.txt"
    assert got["files"]["file"]["content"] == "file content\n"


def test_redirect_shown_without_location(flask_app: Peer) -> None:
    url = f"{flask_app.url}/redirect/302?to=/echo"
    proc = sockweb("-i", url)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(b"HTTP/1.1 302 FOUND\n"), proc.stdout
    assert b"Location: /echo\n" in proc.stdout
    assert b'"method"' not in proc.stdout
    plain = sockweb(url)
    assert plain.returncode == 0
    assert b"Redirecting" in plain.stdout  # the 302's own body, as curl prints it


def test_redirect_followed_with_location(flask_app: Peer) -> None:
    got = echo(sockweb("-L", f"{flask_app.url}/redirect/302?to=/echo"))
    assert got["path"] == "/echo"
    assert got["method"] == "GET"


def test_basic_auth(flask_app: Peer) -> None:
    got = echo(sockweb("-u", "user:pass", f"{flask_app.url}/basic-auth/user/pass"))
    assert got == {"authenticated": True, "user": "user"}
    proc = sockweb(f"{flask_app.url}/basic-auth/user/pass")
    assert proc.returncode == 0  # a 401 without --fail is a transfer that worked
    assert proc.stdout == b"no\n"


def test_cookie_jar_round_trip_and_curl_reads_it(flask_app: Peer, tmp_path: Path) -> None:
    jar = tmp_path / "jar.txt"
    proc = sockweb("-c", str(jar), f"{flask_app.url}/cookies/set?k=v&other=2")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"set\n"
    assert echo(sockweb("-b", str(jar), f"{flask_app.url}/cookies")) == {"k": "v", "other": "2"}
    theirs = curl("-b", str(jar), f"{flask_app.url}/cookies")
    assert theirs.returncode == 0, theirs.stderr
    assert json.loads(theirs.stdout) == {"k": "v", "other": "2"}


def test_cookie_string(flask_app: Peer) -> None:
    assert echo(sockweb("-b", "a=1; b=2", f"{flask_app.url}/cookies")) == {"a": "1", "b": "2"}


def test_max_time_exits_28_quickly(flask_app: Peer) -> None:
    # The route takes a float: /slow/3 would be a quick 404, /slow/3.0 sleeps.
    started = time.monotonic()
    proc = sockweb("--max-time", "0.5", f"{flask_app.url}/slow/3.0")
    took = time.monotonic() - started
    assert_one_error_line(proc, 28)
    assert proc.stdout == b""
    assert took < 2.5, took


def test_fail_exits_22_with_empty_stdout(flask_app: Peer) -> None:
    # curl --fail: "the body is not output"; nothing on stdout at all.
    proc = sockweb("--fail", f"{flask_app.url}/status/404")
    line = assert_one_error_line(proc, 22)
    assert "404" in line
    assert proc.stdout == b""


def test_fail_with_output_file_writes_nothing(flask_app: Peer, tmp_path: Path) -> None:
    target = tmp_path / "out"
    proc = sockweb("--fail", "-o", str(target), f"{flask_app.url}/status/500")
    assert_one_error_line(proc, 22)
    assert not target.exists() or target.read_bytes() == b""


def test_fail_on_success_is_quiet(flask_app: Peer) -> None:
    proc = sockweb("--fail", f"{flask_app.url}/status/200")
    assert proc.returncode == 0
    assert proc.stdout == b"status 200\n"


# -- TLS --------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "reason"), [
    ("expired", "expired"),
    ("wrong_host", "another host name"),
    ("unknown_issuer", "issuer is unknown"),
])
def test_untrusted_certificate_exits_60(tls_servers: dict[str, TLSPeer], name: str,
                                        reason: str) -> None:
    # With the good CA trusted, each one fails for its own reason.
    peer = tls_servers[name]
    proc = sockweb("--cacert", peer.cafile, f"{peer.url}/data.json")
    line = assert_one_error_line(proc, 60)
    assert reason in line, line
    assert proc.stdout == b""


def test_wrong_host_name_said_in_words(tls_servers: dict[str, TLSPeer]) -> None:
    # The same certificate (for other.example) reached by a name, not an address.
    peer = tls_servers["wrong_host"]
    proc = sockweb("--cacert", peer.cafile, f"https://localhost:{peer.port}/data.json")
    line = assert_one_error_line(proc, 60)
    assert "another host name" in line, line


def test_default_trust_refuses_unknown_issuer(tls_servers: dict[str, TLSPeer]) -> None:
    proc = sockweb(f"{tls_servers['unknown_issuer'].url}/data.json")
    line = assert_one_error_line(proc, 60)
    assert "issuer is unknown" in line, line


def test_insecure_accepts_unknown_issuer(tls_servers: dict[str, TLSPeer],
                                         docroot: Path) -> None:
    proc = sockweb("-k", f"{tls_servers['unknown_issuer'].url}/data.json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (docroot / "data.json").read_bytes()


def test_cacert_trusts_good_server(tls_servers: dict[str, TLSPeer], docroot: Path) -> None:
    peer = tls_servers["good"]
    proc = sockweb("--cacert", peer.cafile, f"{peer.url}/binary.bin")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (docroot / "binary.bin").read_bytes()


@pytest.mark.parametrize("content", [None, b"not a certificate\n"])
def test_unreadable_cacert_exits_77(tls_servers: dict[str, TLSPeer], tmp_path: Path,
                                    content: bytes | None) -> None:
    # curl's 77; not "cannot write output", as an OSError from ssl once read.
    cafile = tmp_path / "ca.pem"
    if content is not None:
        cafile.write_bytes(content)
    proc = sockweb("--cacert", str(cafile), f"{tls_servers['good'].url}/data.json")
    line = assert_one_error_line(proc, 77)
    assert str(cafile) in line, line


# -- errors: one line, curl's exit code ------------------------------------------------


def test_connection_refused_exits_7() -> None:
    port = free_port()
    line = assert_one_error_line(sockweb(f"http://127.0.0.1:{port}/"), 7)
    assert "refused" in line


def test_unknown_host_exits_6() -> None:
    line = assert_one_error_line(sockweb("http://nonexistent.invalid/"), 6)
    assert "nonexistent.invalid" in line


@pytest.mark.parametrize("url", ["http://[::1", "ftp://x"])
def test_bad_url_exits_3(url: str) -> None:
    assert_one_error_line(sockweb(url), 3)


def test_malformed_response_exits_8() -> None:
    def garbage(conn: socket.socket, request: bytes) -> None:
        conn.sendall(b"this is not HTTP at all\r\n\r\n")

    with RawServer(garbage) as server:
        proc = sockweb(f"{server.url}/")
    line = assert_one_error_line(proc, 8)
    assert "malformed" in line


def test_too_many_redirects_exits_47(flask_app: Peer) -> None:
    proc = sockweb("-L", "--max-redirs", "2", f"{flask_app.url}/redirect-chain/5")
    assert_one_error_line(proc, 47)
    assert proc.stdout == b""


def test_bad_header_is_usage_error(flask_app: Peer) -> None:
    assert_one_error_line(sockweb("-H", "no colon", f"{flask_app.url}/echo"), 2)


# -- on a terminal -----------------------------------------------------------------------


def test_terminal_shows_coloured_head_then_body(nginx: Peer, docroot: Path,
                                                tmp_path: Path) -> None:
    code, shown, _, err = run_pty([f"{nginx.url}/data.json"], stdout_tty=True,
                                  stderr_tty=False, tmp_path=tmp_path)
    assert code == 0, err
    assert b"\x1b[" in shown
    plain = re.sub(rb"\x1b\[[0-9;]*[A-Za-z]", b"", shown)
    assert plain.startswith(b"HTTP/1.1 200 OK\n"), plain
    assert b"Content-Type: application/json\n" in plain
    body = (docroot / "data.json").read_bytes()
    _head, sep, rest = plain.partition(b"\n\n")
    assert sep
    assert rest.rstrip(b"\n") == body.rstrip(b"\n")


def test_terminal_does_not_dump_binary(nginx: Peer, tmp_path: Path) -> None:
    code, shown, _, err = run_pty([f"{nginx.url}/binary.bin"], stdout_tty=True,
                                  stderr_tty=False, tmp_path=tmp_path)
    assert code == 0, err
    assert b"\x00" not in shown and len(shown) < 2000, shown[:200]
    text = err.decode()
    assert text.count("\n") == 1 and text.startswith("sockweb: "), text
    assert "binary" in text and "-o" in text


def test_progress_bar_when_stderr_is_a_terminal(nginx: Peer, docroot: Path,
                                               tmp_path: Path) -> None:
    target = tmp_path / "big.bin"
    code, shown, out, _ = run_pty(["-o", str(target), f"{nginx.url}/big.bin"],
                                  stdout_tty=False, stderr_tty=True, tmp_path=tmp_path)
    assert code == 0, shown
    assert out == b""
    assert target.read_bytes() == (docroot / "big.bin").read_bytes()
    text = shown.decode()
    assert "%" in text and "/s" in text, text
    assert "100.0%" in text, text


def test_no_progress_bar_when_stderr_is_not_a_terminal(nginx: Peer, docroot: Path,
                                                       tmp_path: Path) -> None:
    target = tmp_path / "big.bin"
    proc = sockweb("-o", str(target), f"{nginx.url}/big.bin")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == b""
    assert target.read_bytes() == (docroot / "big.bin").read_bytes()


# -- starting fast ------------------------------------------------------------------------


def test_plain_http_get_imports_only_what_it_needs(nginx: Peer) -> None:
    """What `sockweb get http://...` must not import: TLS, JSON, email and
    cookie machinery, urllib.request, compression libraries, dataclasses (and
    with it inspect), the socket module's enums, threading, shutil."""
    def imports(*args: str) -> set[str]:
        proc = subprocess.run([sys.executable, "-X", "importtime", *args],
                              capture_output=True, env=ENV, timeout=TIMEOUT)
        assert proc.returncode == 0, proc.stderr
        return {line.rsplit("|", 1)[1].strip() for line in proc.stderr.decode().splitlines()
                if line.startswith("import time:") and "|" in line}

    # What the interpreter loads before any of ours (site, .pth files) is not ours.
    imported = imports("-m", "sockweb", "get", f"{nginx.url}/data.json") - imports("-c", "pass")
    assert "sockweb.client.connection" in imported
    heavy = {"ssl", "_ssl", "json", "email", "http.cookiejar", "http.client",
             "urllib.request", "zlib", "brotli", "zstandard", "dataclasses", "inspect",
             "socket", "threading", "shutil", "secrets", "base64", "ipaddress",
             "encodings.idna", "sockweb.http.limits"}
    assert imported & heavy == set(), sorted(imported & heavy)


def test_help_imports_nothing_heavy() -> None:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "sockweb", "get", "--help"],
                          capture_output=True, env=ENV, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    assert b"usage:" in proc.stdout
    imported = set()
    for line in proc.stderr.decode().splitlines():
        if line.startswith("import time:") and "|" in line:
            imported.add(line.rsplit("|", 1)[1].strip())
    assert imported, proc.stderr[:500]
    heavy = {name for name in imported
             if name.split(".")[0] in {"ssl", "_ssl", "json", "email"}
             or name == "http.cookiejar" or name.startswith("sockweb.server")}
    assert heavy == set(), sorted(heavy)


@pytest.mark.parametrize("layers", [5, 6, 3_000])
def test_stacked_content_codings_past_five_are_refused_like_curl(layers: int) -> None:
    """A body gzipped ``layers`` times, each named in Content-Encoding (RFC 9110
    section 8.4 allows a list). Five decode; more are refused with curl's exit 61
    and one line, never a RecursionError (each coding is a stage feeding the next)."""
    body = b"stacked"
    for _ in range(layers):
        body = gzip.compress(body, mtime=0)
    head = (b"HTTP/1.1 200 OK\r\nContent-Encoding: " + b", ".join([b"gzip"] * layers)
            + b"\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body))

    def handler(conn: socket.socket, request: bytes) -> None:
        conn.sendall(head + body)

    with RawServer(handler) as server:
        ours = sockweb(server.url + "/")
        theirs = curl("--compressed", server.url + "/")
    if layers <= 5:
        assert ours.returncode == 0 and ours.stdout == b"stacked", ours.stderr
        assert theirs.returncode == 0 and theirs.stdout == b"stacked"
    else:
        assert theirs.returncode == 61
        err = assert_one_error_line(ours, 61)
        assert f"{layers} content codings" in err and "more than 5" in err


@pytest.mark.parametrize(("location", "words"), [
    (b"http://[::1", "malformed URL"), (b"http://", "without a host"),
    (b"http://a.example:99999/", "malformed URL"),
])
def test_a_malformed_redirect_is_one_line_and_curls_exit_3(location: bytes, words: str) -> None:
    """A Location that is no URL, with -L: one line and exit 3, as curl ("the redirect
    target URL could not be parsed"); not urllib's ValueError as a traceback (as
    http://[::1 once was). browse --dump says the same."""

    def handler(conn: socket.socket, request: bytes) -> None:
        conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: " + location
                     + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    with RawServer(handler) as server:
        ours = sockweb("-L", server.url + "/")
        theirs = curl("-L", "-o", os.devnull, server.url + "/")
        browsed = subprocess.run([sys.executable, "-m", "sockweb", "browse", "--dump",
                                  server.url + "/"], capture_output=True, env=ENV,
                                 timeout=TIMEOUT)
    assert theirs.returncode == 3
    assert words in assert_one_error_line(ours, 3)
    assert words in assert_one_error_line(browsed, 3)


@pytest.mark.parametrize(("path", "name"), [
    ("/dir/report%20final.pdf", "report final.pdf"), ("/a/", "a"), ("/", "index.html"),
    ("/..%2F..%2Ftmp%2Fpwned", "pwned"), ("/%2e%2e", "index.html"), ("/x/..%2f", "index.html"),
    ("/a%00b", "ab"), ("/.bashrc", ".bashrc"),
])
def test_remote_name_is_a_name_never_a_path(path: str, name: str) -> None:
    from sockweb.client.command import remote_name

    assert remote_name(path) == name


def test_remote_name_cannot_climb_out_of_the_directory(tmp_path: Path) -> None:
    """-O took the decoded last segment as it was: ..%2F..%2Fpwned wrote two
    directories up. Now the file lands where the reader is, named by what follows
    the last slash."""
    here = tmp_path / "a" / "b"
    here.mkdir(parents=True)

    def handler(conn: socket.socket, request: bytes) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbody")

    with RawServer(handler) as server:
        proc = sockweb("-O", server.url + "/..%2F..%2Fpwned", cwd=here)
    assert proc.returncode == 0, proc.stderr
    assert (here / "pwned").read_bytes() == b"body"
    assert not (tmp_path / "pwned").exists()


# -- found by an audit against curl 7.88 -------------------------------------------------


def test_max_time_caps_the_whole_transfer_like_curl() -> None:
    """-m is the whole operation's limit (curl's --max-time), not a per-read
    timeout: a server that sends a header line every 0.2 s is given up on
    after the limit, with curl's exit 28."""
    def trickle(conn: socket.socket, request: bytes) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        for n in range(40):  # 8 s at most
            time.sleep(0.2)
            try:
                conn.sendall(b"X-%d: y\r\n" % n)
            except OSError:
                return

    with RawServer(trickle) as server:
        started = time.monotonic()
        proc = sockweb("-m", "1", f"{server.url}/")
        took = time.monotonic() - started
    line = assert_one_error_line(proc, 28)
    assert "--max-time" in line, line
    assert took < 4, took


def test_max_time_caps_endless_interim_responses() -> None:
    def interim(conn: socket.socket, request: bytes) -> None:
        for _ in range(40):
            time.sleep(0.2)
            try:
                conn.sendall(b"HTTP/1.1 102 Processing\r\n\r\n")
            except OSError:
                return

    with RawServer(interim) as server:
        proc = sockweb("-m", "1", f"{server.url}/")
    assert_one_error_line(proc, 28)


@pytest.mark.parametrize("args", [["-m", "abc"], ["-m", "-1"], ["-m", "nan"], ["-m", "inf"],
                                  ["-m", "1e300"], ["--connect-timeout", "-1"], ["-C", "abc"],
                                  ["--max-filesize", "-5"], ["--max-redirs", "x"]])
def test_bad_option_values_are_usage_errors_not_tracebacks(args: list[str]) -> None:
    proc = sockweb(*args, "http://127.0.0.1:9/")
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert "Traceback" not in err, err
    assert args[0] in err, err


def test_connect_timeout_zero_means_the_default_like_curl(nginx: Peer) -> None:
    proc = sockweb("--connect-timeout", "0", f"{nginx.url}/text.txt")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == curl("--connect-timeout", "0", f"{nginx.url}/text.txt").stdout


def test_verbose_shows_the_final_head_after_a_1xx_in_its_own_packet() -> None:
    def late(conn: socket.socket, request: bytes) -> None:
        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        time.sleep(0.3)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n")

    with RawServer(late) as server:
        proc = sockweb("-v", f"{server.url}/")
    err = proc.stderr.decode()
    assert proc.returncode == 0, err
    assert "< HTTP/1.1 100 Continue" in err, err
    assert "< HTTP/1.1 200 OK" in err, err
    assert proc.stdout == b"ok\n"


def test_resume_refuses_a_206_that_starts_elsewhere_rfc9110_14_4(tmp_path: Path) -> None:
    """The part goes where its Content-Range says: a 206 for bytes 0-9 cannot
    be appended to a file of 5 bytes (curl: exit 33, the file untouched)."""
    def wrong_part(conn: socket.socket, request: bytes) -> None:
        conn.sendall(b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/10\r\n"
                     b"Content-Length: 10\r\n\r\n0123456789")

    target = tmp_path / "part.txt"
    target.write_bytes(b"01234")
    with RawServer(wrong_part) as server:
        proc = sockweb("-C", "-", "-o", str(target), f"{server.url}/")
        theirs = tmp_path / "curl.txt"
        theirs.write_bytes(b"01234")
        curl_proc = curl("-C", "-", "-o", str(theirs), f"{server.url}/")
    line = assert_one_error_line(proc, 33)
    assert "Content-Range" in line, line
    assert target.read_bytes() == b"01234"
    assert curl_proc.returncode == 33
    assert theirs.read_bytes() == b"01234"


def test_header_value_goes_out_as_typed_utf8_like_curl() -> None:
    with RawServer(lambda conn, request: conn.sendall(
            b"HTTP/1.1 204 No Content\r\n\r\n")) as server:
        proc = sockweb("-H", "X-U: \u00fc\u20ac", "-b", "n=\u00fc", f"{server.url}/")
        curl("-H", "X-U: \u00fc\u20ac", "-b", "n=\u00fc", f"{server.url}/")
    assert proc.returncode == 0, proc.stderr
    ours, theirs = server.requests
    assert b"\r\nX-U: \xc3\xbc\xe2\x82\xac\r\n" in ours, ours
    assert b"\r\nX-U: \xc3\xbc\xe2\x82\xac\r\n" in theirs, theirs
    assert b"\r\nCookie: n=\xc3\xbc\r\n" in ours, ours


@pytest.mark.parametrize("option", ["-d", "--data-binary", "--json", "-F"])
def test_missing_input_file_exits_26(option: str, tmp_path: Path) -> None:
    value = f"f=@{tmp_path}/nonexistent" if option == "-F" else f"@{tmp_path}/nonexistent"
    proc = sockweb(option, value, "http://127.0.0.1:9/")
    line = assert_one_error_line(proc, 26)
    assert "cannot read" in line and "nonexistent" in line, line


def test_missing_cookie_file_is_no_cookies_like_curl(flask_app: Peer, tmp_path: Path) -> None:
    """`-b jar -c jar` on a first run: the jar does not exist yet."""
    jar = tmp_path / "jar.txt"
    proc = sockweb("-b", str(jar), "-c", str(jar), f"{flask_app.url}/cookies/set?a=1")
    assert proc.returncode == 0, proc.stderr
    assert "\ta\t1" in jar.read_text()


@pytest.mark.parametrize("header", ["X: a\r\nY: 1", "X: a\nY: 1", "Bad Name: x", "B@d: x"])
def test_request_header_that_would_break_the_head_is_a_usage_error(header: str) -> None:
    assert_one_error_line(sockweb("-H", header, "http://127.0.0.1:9/"), 2)


def test_method_must_be_a_token_rfc9110_9_1() -> None:
    """CR LF in -X would write fields of its own into the request head."""
    with RawServer(lambda conn, request: conn.sendall(
            b"HTTP/1.1 204 No Content\r\n\r\n")) as server:
        proc = sockweb("-X", "GET / HTTP/1.1\r\nX-Injected: 1\r\nX-B:", f"{server.url}/")
    assert_one_error_line(proc, 2)
    assert server.requests == []


def test_own_host_header_is_sent_like_curl(flask_app: Peer) -> None:
    """Testing a virtual host before its name resolves: -H 'Host: ...' wins."""
    got = echo(sockweb("-H", "Host: other.example", f"{flask_app.url}/echo"))
    assert got["headers"]["Host"] == "other.example"


def test_json_keeps_the_users_own_content_type_and_accept(flask_app: Peer) -> None:
    got = echo(sockweb("--json", '{"a":1}', "-H", "Content-Type: application/vnd.api+json",
                       "-H", "Accept: text/x", f"{flask_app.url}/echo"))
    assert got["headers"]["Content-Type"] == "application/vnd.api+json"
    assert got["headers"]["Accept"] == "text/x"


def test_form_parts_in_order_and_repeated_files_kept_rfc7578_4_3(tmp_path: Path) -> None:
    (tmp_path / "fa.txt").write_bytes(b"AAA")
    (tmp_path / "fb.txt").write_bytes(b"BBB")
    args = ["-F", "a=1", "-F", f"f=@{tmp_path}/fa.txt", "-F", f"f=@{tmp_path}/fb.txt",
            "-F", "b=2"]

    def names_in_order(request: bytes) -> list[bytes]:
        return re.findall(rb'Content-Disposition: form-data; name="([^"]+)"(?:; filename="'
                          rb'([^"]+)")?', request)

    def read_all(conn: socket.socket, request: bytes) -> None:
        head, _, body = request.partition(b"\r\n\r\n")
        length = int(re.search(rb"Content-Length: (\d+)", head).group(1))  # type: ignore[union-attr]
        while len(body) < length:
            body += conn.recv(65536)
        got.append(body)
        conn.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")

    got: list[bytes] = []
    with RawServer(read_all) as server:
        assert sockweb(*args, f"{server.url}/").returncode == 0
        assert curl(*args, f"{server.url}/").returncode == 0
    ours, theirs = (names_in_order(body) for body in got)
    assert ours == theirs == [(b"a", b""), (b"f", b"fa.txt"), (b"f", b"fb.txt"), (b"b", b"")]
    assert b"AAA" in got[0] and b"BBB" in got[0]


@pytest.mark.parametrize("flag", ["-i", "-I"])
def test_include_and_head_with_output_file_write_the_head_there(nginx: Peer, tmp_path: Path,
                                                                flag: str) -> None:
    target = tmp_path / "out"
    proc = sockweb(flag, "-o", str(target), f"{nginx.url}/text.txt")
    assert proc.returncode == 0, proc.stderr
    written = target.read_bytes()
    assert written.startswith(b"HTTP/1.1 200 OK\n"), written
    assert b"\nContent-Type: text/plain\n" in written
    theirs = curl(flag, f"{nginx.url}/text.txt").stdout
    assert written.endswith(theirs.partition(b"\r\n\r\n")[2])


def test_max_redirs_minus_one_is_no_limit_like_curl(flask_app: Peer) -> None:
    proc = sockweb("-L", "--max-redirs", "-1", f"{flask_app.url}/redirect-chain/35")
    assert proc.returncode == 0, proc.stderr


def test_redirect_to_file_scheme_is_unsupported_exit_1() -> None:
    with RawServer(lambda conn, request: conn.sendall(
            b"HTTP/1.1 302 Found\r\nLocation: file:///etc/passwd\r\nContent-Length: 0\r\n\r\n")
            ) as server:
        proc = sockweb("-L", f"{server.url}/")
    line = assert_one_error_line(proc, 1)
    assert "unsupported scheme 'file'" in line, line


def test_status_code_below_100_is_malformed_rfc9110_15() -> None:
    with RawServer(lambda conn, request: conn.sendall(
            b"HTTP/1.1 099 X\r\nContent-Length: 0\r\n\r\n")) as server:
        proc = sockweb(f"{server.url}/")
    line = assert_one_error_line(proc, 8)
    assert "099" in line, line


@pytest.mark.parametrize("te", [b"gzip", b"gzip, chunked"])
def test_transfer_coding_other_than_chunked_is_refused_rfc9112_7(te: bytes) -> None:
    """Its coded bytes must never pass for the body."""
    body = gzip.compress(b"plain text\n")
    if te.endswith(b"chunked"):
        body = b"%x\r\n%b\r\n0\r\n\r\n" % (len(body), body)

    with RawServer(lambda conn, request: conn.sendall(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: %b\r\n\r\n%b" % (te, body))) as server:
        proc = sockweb(f"{server.url}/")
    line = assert_one_error_line(proc, 61)
    assert "transfer coding" in line, line
    assert proc.stdout == b""


def test_max_time_ends_cleanly_wherever_it_lands(tmp_path: Path) -> None:
    """However the limit falls (during imports, the connection, the body, the
    clean-up), a run ends with 0 or curl's 28 and at most one line: never a
    traceback, never SIGALRM's own exit (a timer left armed)."""
    def quick(conn: socket.socket, request: bytes) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nSet-Cookie: a=1\r\n\r\nok\n")

    jar = tmp_path / "jar.txt"
    with RawServer(quick) as server:
        for n in range(1, 31):  # 5 ms to 150 ms: before, around and after the exchange
            proc = sockweb("-s", "-m", f"{n * 0.005:.3f}", "-c", str(jar), f"{server.url}/")
            err = proc.stderr.decode()
            assert proc.returncode in (0, 28), (n, proc.returncode, err)
            assert "Traceback" not in err and err.count("\n") <= 1, (n, err)
            if proc.returncode == 0:
                assert proc.stdout == b"ok\n"


def test_head_with_resume_keeps_the_partial_file(nginx: Peer, docroot: Path,
                                                 tmp_path: Path) -> None:
    """-I -C - -o FILE: the head goes after what is there (curl), never over it."""
    partial = (docroot / "binary.bin").read_bytes()[:400]
    target = tmp_path / "part"
    target.write_bytes(partial)
    proc = sockweb("-s", "-I", "-C", "-", "-o", str(target), f"{nginx.url}/binary.bin")
    assert proc.returncode == 0, proc.stderr
    assert target.read_bytes().startswith(partial)
    assert target.read_bytes()[400:].startswith(b"HTTP/1.1 ")


def test_own_host_kept_on_a_same_origin_redirect_like_curl(flask_app: Peer) -> None:
    got = echo(sockweb("-L", "-H", "Host: other.example",
                       f"{flask_app.url}/redirect/302?to=/echo"))
    assert got["headers"]["Host"] == "other.example"


def test_http10_with_own_host_sends_origin_form_rfc9112_3_2_2() -> None:
    """The server must prefer an absolute-form target's host to the Host field,
    so a Host of the user's own goes with an origin-form target (curl's way)."""
    with RawServer(lambda conn, request: conn.sendall(
            b"HTTP/1.0 204 No Content\r\n\r\n")) as server:
        proc = sockweb("--http1.0", "-H", "Host: vhost.example", f"{server.url}/dir/")
    assert proc.returncode == 0, proc.stderr
    (request,) = server.requests
    assert request.startswith(b"GET /dir/ HTTP/1.0\r\n"), request
    assert b"\r\nHost: vhost.example\r\n" in request, request


def test_cookie_jar_into_a_fifo_writes_through_it_not_over_it(flask_app: Peer,
                                                               tmp_path: Path) -> None:
    """`-c /dev/null` (curl's idiom) once replaced /dev/null with a file when
    run as root: a jar that is no regular file is written as it is. A FIFO
    stands in for the device here."""
    fifo = tmp_path / "jar.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    proc = sockweb("-c", str(fifo), f"{flask_app.url}/cookies/set?a=1")
    reader.join(10)
    assert proc.returncode == 0, proc.stderr
    assert fifo.is_fifo()
    assert b"\ta\t1\n" in got[0]


def test_cookie_jar_through_a_symlink_and_to_stdout(flask_app: Peer, tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_text("")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    assert sockweb("-c", str(link), f"{flask_app.url}/cookies/set?a=1").returncode == 0
    assert link.is_symlink() and "\ta\t1" in real.read_text()
    proc = sockweb("-o", os.devnull, "-c", "-", f"{flask_app.url}/cookies/set?b=2")
    assert proc.returncode == 0, proc.stderr
    assert b"\tb\t2\n" in proc.stdout
