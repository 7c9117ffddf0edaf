"""Bad and hostile input over real sockets against a real server process.

One test per rule, each naming its RFC section. Every error response is
checked for its exact status and, where the connection cannot be trusted
any more, for the server closing it (read to end-of-file, bounded in time).
Every socket loop here is bounded in count and in time.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import ServerProcess, split_responses

IO_TIMEOUT = 3.0  # the longest any single read waits here
LIMIT_ARGS = [
    "--limit-request-line", "1024", "--limit-field-size", "1024",
    "--limit-header-size", "4096", "--limit-header-count", "20", "--limit-body", "1024",
]
# Long timeouts: an end-of-file seen within IO_TIMEOUT is the server closing
# on purpose, never a keep-alive or header timeout.
STRICT_ARGS = ["--hello", *LIMIT_ARGS, "--timeout-headers", "10",
               "--timeout-keep-alive", "10", "--timeout-io", "10"]
FAST_ARGS = ["--hello", "--timeout-headers", "1", "--timeout-keep-alive", "1",
             "--timeout-io", "2"]

_servers: list[ServerProcess] = []


def _start(args: list[str]) -> ServerProcess:
    server = ServerProcess(args)
    _servers.append(server)
    return server


@pytest.fixture(scope="module")
def strict() -> Iterator[ServerProcess]:
    """--hello with small limits and long timeouts."""
    server = _start(STRICT_ARGS)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def fast() -> Iterator[ServerProcess]:
    """--hello with one-second header and keep-alive timeouts."""
    server = _start(FAST_ARGS)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def site_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bad_input") / "site"
    root.mkdir()
    (root / "index.html").write_text("<!doctype html><title>Home</title><h1>Home</h1>\n")
    (root / "hello.txt").write_text("hello, world\n")
    (root / "big.bin").write_bytes(bytes(range(256)) * 4096)  # 1 MiB: sent with sendfile
    (root / "docs").mkdir()
    (root / "docs" / "notes.md").write_text("# notes\n")
    return root


@pytest.fixture(scope="module")
def static(site_root: Path) -> Iterator[ServerProcess]:
    server = _start([str(site_root), "--timeout-headers", "10", "--timeout-keep-alive", "10",
                     "--timeout-io", "10"])
    yield server
    server.stop()


def _tracebacks(server: ServerProcess, start: int = 0) -> str:
    lines = server.errors[start:]
    if any("Traceback" in line for line in lines):
        return f"server {server.args} stderr:\n" + "\n".join(lines)
    return ""


@pytest.fixture(autouse=True)
def _no_traceback_in_stderr() -> Iterator[None]:
    """Each test leaves no traceback on any server's stderr (its own lines only)."""
    before = {id(s): len(s.errors) for s in _servers}
    yield
    time.sleep(0.05)  # the stderr reader thread lags the response a little
    found = [_tracebacks(s, before.get(id(s), 0)) for s in _servers]
    assert not any(found), "\n".join(found)


# -- a bounded client ------------------------------------------------------------


class Client:
    """One connection; every read is bounded by IO_TIMEOUT."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.eof = False

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _recv(self, deadline: float) -> bool:
        """Read once; False on end-of-file, reset or deadline."""
        if self.eof:
            return False
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except TimeoutError:
            return False
        except ConnectionResetError:
            self.eof = True
            return False
        if not chunk:
            self.eof = True
            return False
        assert b"Traceback" not in chunk
        self.buf += chunk
        return True

    def read_head(self, timeout: float = IO_TIMEOUT) -> tuple[int, dict[str, str], bytes]:
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf:
            if not self._recv(deadline):
                raise AssertionError(f"no complete response head: {self.buf[:300]!r}")
        raw, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        assert lines[0].startswith("HTTP/1.1 "), lines[0]
        status = int(lines[0].split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            assert sep, f"bad header line {line!r}"
            headers[name.strip().lower()] = value.strip()
        return status, headers, raw

    def read_response(self, head_request: bool = False,
                      timeout: float = IO_TIMEOUT) -> tuple[int, dict[str, str], bytes]:
        """One final response (1xx skipped), framed by Content-Length."""
        deadline = time.monotonic() + timeout
        while True:
            status, headers, _ = self.read_head(max(deadline - time.monotonic(), 0.01))
            if status >= 200:
                break
        if head_request or status in (204, 304):
            return status, headers, b""
        assert "transfer-encoding" not in headers
        length = int(headers["content-length"])
        while len(self.buf) < length:
            if not self._recv(deadline):
                raise AssertionError(f"body short: {len(self.buf)} of {length}")
        body, self.buf = self.buf[:length], self.buf[length:]
        assert b"Traceback" not in body
        return status, headers, body

    def read_to_eof(self, timeout: float = IO_TIMEOUT) -> bytes:
        """Everything until the server closes; fails if it does not within ``timeout``."""
        deadline = time.monotonic() + timeout
        while self._recv(deadline):
            pass
        assert self.eof, f"connection still open after {timeout}s; got {self.buf[:300]!r}"
        data, self.buf = self.buf, b""
        return data


def exchange_until_close(port: int, data: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """Send ``data``, read to end-of-file (the server must close), split the responses."""
    with Client(port) as client:
        client.send(data)
        raw = client.read_to_eof()
    assert b"Traceback" not in raw
    return split_responses(raw)


def assert_refused_and_closed(port: int, data: bytes, status: int) -> dict[str, str]:
    responses = exchange_until_close(port, data)
    assert [r[0] for r in responses] == [status], responses
    headers = responses[0][1]
    assert headers.get("connection") == "close"
    return headers


def request(path: str = "/", method: str = "GET", extra: str = "") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: test\r\n{extra}\r\n".encode("latin-1")


def assert_still_serving(port: int) -> None:
    with Client(port) as client:
        client.send(request())
        status, _, _ = client.read_response()
    assert status == 200


# -- request line and header syntax (RFC 9112 sections 3 and 5) --------------------


@pytest.mark.parametrize(
    "line",
    [b"GET\r\n", b"GET / HTTP/1.1 extra\r\n", b" / HTTP/1.1\r\n", b"GET / HTTX/1.1\r\n",
     b"G(T / HTTP/1.1\r\n", b"GET / HTTP/1\r\n"],
    ids=["method_only", "extra_word", "no_method", "not_http", "bad_method_char", "no_minor"],
)
def test_malformed_request_line_is_400_rfc9112_3(strict: ServerProcess, line: bytes) -> None:
    assert_refused_and_closed(strict.port, line + b"Host: test\r\n\r\n", 400)


@pytest.mark.parametrize(
    "field",
    [b"Host : test", b"X-B(d): 1", b"X-Nul: a\x00b", b": empty-name", b"No-Colon"],
    ids=["space_before_colon", "bad_token_char", "nul_in_value", "empty_name", "no_colon"],
)
def test_malformed_header_is_400_rfc9112_5_1(strict: ServerProcess, field: bytes) -> None:
    data = b"GET / HTTP/1.1\r\nHost: test\r\n" + field + b"\r\n\r\n"
    if field.startswith(b"Host "):
        data = b"GET / HTTP/1.1\r\n" + field + b"\r\n\r\n"
    assert_refused_and_closed(strict.port, data, 400)


def test_obs_fold_is_400_rfc9112_5_2(strict: ServerProcess) -> None:
    assert_refused_and_closed(
        strict.port, b"GET / HTTP/1.1\r\nHost: test\r\nX-Fold: a\r\n  b\r\n\r\n", 400)


# -- message framing (RFC 9112 section 6) -----------------------------------------


def test_content_length_with_transfer_encoding_is_400_and_close_rfc9112_6_1(
    strict: ServerProcess,
) -> None:
    data = (b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n")
    assert_refused_and_closed(strict.port, data, 400)


def test_two_different_content_lengths_are_400_rfc9112_6_3(strict: ServerProcess) -> None:
    data = (b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"
            b"abcd")
    assert_refused_and_closed(strict.port, data, 400)


@pytest.mark.parametrize("coding", [b"gzip", b"chunked, gzip", b"chunked, identity"])
def test_transfer_encoding_not_ending_in_chunked_is_400_rfc9112_6_3(
    strict: ServerProcess, coding: bytes,
) -> None:
    """RFC 9112 6.3 item 4: chunked not final in a request -> 400, then close."""
    data = b"POST / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: " + coding + b"\r\n\r\nabc"
    assert_refused_and_closed(strict.port, data, 400)


def test_unsupported_coding_before_chunked_is_501_rfc9112_6_1(strict: ServerProcess) -> None:
    data = (b"POST / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
            b"0\r\n\r\n")
    assert_refused_and_closed(strict.port, data, 501)


@pytest.mark.parametrize("size_line", [b"zz", b"-5", b"0x5", b"f" * 20])
def test_bad_chunk_size_is_400_and_close_rfc9112_7_1(
    strict: ServerProcess, size_line: bytes,
) -> None:
    data = (b"POST / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
            + size_line + b"\r\nhello\r\n0\r\n\r\n")
    assert_refused_and_closed(strict.port, data, 400)


def test_http10_transfer_encoding_is_400_rfc9112_6_1(strict: ServerProcess) -> None:
    data = b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    assert_refused_and_closed(strict.port, data, 400)


# -- Host (RFC 9112 section 3.2) ------------------------------------------------------


def test_http11_without_host_is_400_rfc9112_3_2(strict: ServerProcess) -> None:
    assert_refused_and_closed(strict.port, b"GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400)


def test_http11_with_two_hosts_is_400_rfc9112_3_2(strict: ServerProcess) -> None:
    assert_refused_and_closed(strict.port, b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400)


def test_http10_without_host_is_200_rfc9112_3_2(strict: ServerProcess) -> None:
    responses = exchange_until_close(strict.port, b"GET / HTTP/1.0\r\n\r\n")
    assert [r[0] for r in responses] == [200]
    assert b"Hello World" in responses[0][2]


# -- version and method (RFC 9110 sections 15.6.2 and 15.6.6) ----------------------


@pytest.mark.parametrize("version", [b"1.2", b"2.0", b"3.0"])
def test_unsupported_version_is_505_rfc9110_15_6_6(strict: ServerProcess, version: bytes) -> None:
    assert_refused_and_closed(strict.port, b"GET / HTTP/" + version + b"\r\nHost: t\r\n\r\n", 505)


def test_unknown_method_is_501_rfc9110_15_6_2(strict: ServerProcess) -> None:
    assert_refused_and_closed(strict.port, request(method="FOO"), 501)


def test_unknown_method_split_across_segments_is_501_rfc9110_15_6_2(
    strict: ServerProcess,
) -> None:
    """The status must not depend on how TCP cuts the request."""
    with Client(strict.port) as client:
        client.send(b"FO")
        time.sleep(0.1)
        client.send(b"O / HTTP/1.1\r\nHost: test\r\n\r\n")
        raw = client.read_to_eof()
    assert [r[0] for r in split_responses(raw)] == [501]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_static_refuses_other_methods_with_405_and_allow_rfc9110_15_5_6(
    static: ServerProcess, method: str,
) -> None:
    with Client(static.port) as client:
        client.send(request("/hello.txt", method, "Content-Length: 0\r\n"))
        status, headers, _ = client.read_response()
        assert status == 405
        assert headers["allow"] == "GET, HEAD, OPTIONS"
        # A clean refusal keeps the connection usable.
        client.send(request("/hello.txt"))
        assert client.read_response()[:1] == (200,)


def test_static_options_is_204_with_allow_rfc9110_9_3_7(static: ServerProcess) -> None:
    with Client(static.port) as client:
        for target in ("/hello.txt", "*"):
            client.send(request(target, "OPTIONS"))
            status, headers, _ = client.read_response()
            assert status == 204
            assert headers["allow"] == "GET, HEAD, OPTIONS"
            assert "content-length" not in headers  # RFC 9110 8.6: none on a 204


# -- limits (RFC 9110 15.5.14, 15.5.15; RFC 6585 section 5) -----------------------


def test_request_line_over_limit_is_414_rfc9110_15_5_15(strict: ServerProcess) -> None:
    assert_refused_and_closed(strict.port, request("/" + "a" * 2000), 414)


def test_request_line_one_byte_over_limit_is_414_rfc9110_15_5_15(strict: ServerProcess) -> None:
    line = "GET /" + "a" * (1025 - len("GET / HTTP/1.1")) + " HTTP/1.1"
    assert len(line) == 1025
    assert_refused_and_closed(strict.port, (line + "\r\nHost: t\r\n\r\n").encode(), 414)


def test_field_over_limit_is_431_rfc6585_5(strict: ServerProcess) -> None:
    assert_refused_and_closed(strict.port, request(extra="X-Big: " + "v" * 1100 + "\r\n"), 431)


def test_header_block_over_limit_is_431_rfc6585_5(strict: ServerProcess) -> None:
    fields = "".join(f"X-{i}: {'v' * 400}\r\n" for i in range(12))  # ~4.9 KiB, 13 fields
    assert_refused_and_closed(strict.port, request(extra=fields), 431)


def test_header_count_over_limit_is_431_rfc6585_5(strict: ServerProcess) -> None:
    fields = "".join(f"X-{i}: v\r\n" for i in range(25))
    assert_refused_and_closed(strict.port, request(extra=fields), 431)


def test_content_length_over_limit_is_413_before_body_rfc9110_15_5_14(
    strict: ServerProcess,
) -> None:
    with Client(strict.port) as client:
        client.send(request("/", "POST", "Content-Length: 2048\r\n"))  # no body sent
        raw = client.read_to_eof()
    responses = split_responses(raw)
    assert [r[0] for r in responses] == [413]
    assert responses[0][1].get("connection") == "close"
    assert raw.startswith(b"HTTP/1.1 413 Content Too Large\r\n"), raw[:40]  # 15.5.14's name


def test_status_phrases_are_rfc9110s_names() -> None:
    """RFC 9110 section 15 renamed 413, 414, 416 and 422 (Python has the new
    names only from 3.13)."""
    from sockweb.http.writer import reason, status_line

    assert status_line(413) == b"HTTP/1.1 413 Content Too Large\r\n"
    assert status_line(414) == b"HTTP/1.1 414 URI Too Long\r\n"
    assert status_line(416) == b"HTTP/1.1 416 Range Not Satisfiable\r\n"
    assert reason(422) == "Unprocessable Content"
    assert status_line(404) == b"HTTP/1.1 404 Not Found\r\n"


def test_chunked_body_past_limit_closes_connection_rfc9110_15_5_14(
    strict: ServerProcess,
) -> None:
    with Client(strict.port) as client:
        client.send(request("/", "POST", "Transfer-Encoding: chunked\r\n"))
        chunk = b"200\r\n" + b"x" * 512 + b"\r\n"
        try:
            for _ in range(4):  # 2 KiB > --limit-body 1024
                client.send(chunk)
                time.sleep(0.02)
        except (BrokenPipeError, ConnectionResetError):
            pass
        raw = client.read_to_eof()
    assert b"Traceback" not in raw
    statuses = [r[0] for r in split_responses(raw)]
    assert len(statuses) <= 1
    assert all(s in (200, 413) for s in statuses), statuses
    assert_still_serving(strict.port)


# -- timeouts -----------------------------------------------------------------------


def test_slow_headers_get_408_and_close_rfc9110_15_5_9(fast: ServerProcess) -> None:
    with Client(fast.port) as client:
        client.send(b"GET / HTTP/1.1\r\nHost: test\r\n")  # never finished
        start = time.monotonic()
        raw = client.read_to_eof(timeout=1 + 3)
        elapsed = time.monotonic() - start
    responses = split_responses(raw)
    assert [r[0] for r in responses] == [408]
    assert responses[0][1].get("connection") == "close"
    assert elapsed >= 0.5


@pytest.mark.parametrize("log", [[], ["--no-access-log"]])
def test_head_begun_with_the_request_before_it_is_timed_as_a_head_rfc9110_15_5_9(
    log: list[str],
) -> None:
    """One read with a whole request and the start of the next, on a kept-alive
    connection: the started head has --timeout-headers to finish and then gets
    its 408, as any slow head does; it is not an idle connection to drop.
    (Without the access log, an idle connection's reads take the short path.)"""
    server = _start([*FAST_ARGS, *log])
    try:
        with Client(server.port) as client:
            client.send(request())
            assert client.read_response()[0] == 200  # the connection is idle now
            client.send(request() + b"GET /next HTTP/1.1\r\nHost: te")
            raw = client.read_to_eof(timeout=1 + 3)
    finally:
        server.stop()
    assert [r[0] for r in split_responses(raw)] == [200, 408]


def test_silent_connection_is_closed_without_response_rfc9112_9_5(fast: ServerProcess) -> None:
    with Client(fast.port) as client:
        start = time.monotonic()
        raw = client.read_to_eof(timeout=1 + 3)
        elapsed = time.monotonic() - start
    assert raw == b""
    assert elapsed >= 0.5


def test_idle_keep_alive_is_closed_after_timeout_rfc9112_9_5(fast: ServerProcess) -> None:
    with Client(fast.port) as client:
        client.send(request())
        status, headers, _ = client.read_response()
        assert status == 200
        assert headers.get("connection") != "close"
        start = time.monotonic()
        raw = client.read_to_eof(timeout=1 + 3)
        elapsed = time.monotonic() - start
    assert raw == b""
    assert elapsed >= 0.5


# -- concurrency limit --------------------------------------------------------------


def test_connections_over_limit_get_503_rfc9110_15_6_4(
    start_server: Callable[..., ServerProcess],
) -> None:
    server = start_server("--hello", "--limit-concurrency", "5")
    _servers.append(server)
    clients = [Client(server.port) for _ in range(5)]
    try:
        for client in clients:  # each one is surely accepted and counted
            client.send(request())
            assert client.read_response()[0] == 200
        with socket.create_connection(("127.0.0.1", server.port), timeout=IO_TIMEOUT) as extra:
            extra.settimeout(IO_TIMEOUT)
            raw = b""
            try:
                for _ in range(10):
                    chunk = extra.recv(4096)
                    if not chunk:
                        break
                    raw += chunk
            except ConnectionResetError:
                pass
        assert raw == b"" or raw.startswith(b"HTTP/1.1 503 "), raw[:200]
        if raw:
            assert [r[0] for r in split_responses(raw)] == [503]
    finally:
        for client in clients:
            client.close()
    # The closes reach the server asynchronously: allow it a bounded moment.
    deadline = time.monotonic() + 3
    status = 0
    while time.monotonic() < deadline:
        with Client(server.port) as client:
            client.send(request())
            try:
                status = client.read_response()[0]
            except AssertionError:
                status = 0
        if status == 200:
            break
        time.sleep(0.1)
    assert status == 200


# -- Expect (RFC 9110 section 10.1.1) -----------------------------------------------


def test_expect_100_continue_rfc9110_10_1_1(strict: ServerProcess) -> None:
    with Client(strict.port) as client:
        client.send(request("/", "POST", "Expect: 100-continue\r\nContent-Length: 5\r\n"))
        status, _, raw = client.read_head()
        assert raw == b"HTTP/1.1 100 Continue"
        assert status == 100
        client.send(b"hello")
        status, _, body = client.read_response()
        assert status == 200
        assert b"Hello World" in body
        client.send(request())  # the connection stays usable
        assert client.read_response()[0] == 200


def test_unknown_expectation_is_417_rfc9110_10_1_1(strict: ServerProcess) -> None:
    data = request("/", "POST", "Expect: something-else\r\nContent-Length: 5\r\n") + b"hello"
    with Client(strict.port) as client:
        client.send(data)
        status, _, _ = client.read_response()
        assert status == 417


# -- persistence and pipelining (RFC 9112 section 9) ---------------------------------


def test_three_pipelined_requests_answered_in_order_rfc9112_9_3_2(
    static: ServerProcess, site_root: Path,
) -> None:
    data = (request("/hello.txt") + request("/index.html")
            + request("/docs/notes.md", extra="Connection: close\r\n"))
    responses = exchange_until_close(static.port, data)
    assert [r[0] for r in responses] == [200, 200, 200]
    assert [r[2] for r in responses] == [
        (site_root / "hello.txt").read_bytes(),
        (site_root / "index.html").read_bytes(),
        (site_root / "docs" / "notes.md").read_bytes(),
    ]


def test_three_pipelined_requests_hello_rfc9112_9_3_2(strict: ServerProcess) -> None:
    with Client(strict.port) as client:
        client.send(request("/a") + request("/b") + request("/c"))
        statuses = [client.read_response()[0] for _ in range(3)]
    assert statuses == [200, 200, 200]


def test_http10_closes_by_default_rfc9112_9_3(static: ServerProcess) -> None:
    responses = exchange_until_close(static.port, b"GET /hello.txt HTTP/1.0\r\n\r\n")
    assert [r[0] for r in responses] == [200]
    assert responses[0][2] == b"hello, world\n"


def test_http10_keep_alive_persists_rfc9112_9_3(static: ServerProcess) -> None:
    with Client(static.port) as client:
        for _ in range(2):
            client.send(b"GET /hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            status, headers, body = client.read_response()
            assert status == 200
            assert headers.get("connection", "").lower() == "keep-alive"
            assert body == b"hello, world\n"


@pytest.mark.parametrize(
    "data",
    [
        request("/hello.txt", extra="Connection: close\r\n") + request("/index.html"),
        request("/hello.txt", extra="Connection: close\r\n") + b"GET / HTTP/1.1\r\n\r\n",
        b"GET /hello.txt HTTP/1.0\r\n\r\nGET /index.html HTTP/1.0\r\n\r\n",
    ],
    ids=["then_valid", "then_invalid", "http10_twice"],
)
def test_connection_close_is_honoured_rfc9112_9_6(static: ServerProcess, data: bytes) -> None:
    """What follows a closing request in the same segment is dropped, quietly."""
    errors_before = len(static.errors)
    responses = exchange_until_close(static.port, data)
    assert [r[0] for r in responses] == [200]  # nothing after the close is answered
    assert responses[0][1]["connection"] == "close"
    assert responses[0][2] == b"hello, world\n"
    time.sleep(0.1)
    assert not _tracebacks(static, errors_before), _tracebacks(static, errors_before)


def test_head_has_get_headers_and_no_body_rfc9110_9_3_2(static: ServerProcess) -> None:
    with Client(static.port) as client:
        client.send(request("/hello.txt"))
        _, get_headers, body = client.read_response()
        assert body == b"hello, world\n"
        client.send(request("/hello.txt", "HEAD", "Connection: close\r\n"))
        status, head_headers, _ = client.read_head()
        rest = client.read_to_eof()
    assert status == 200
    assert rest == b""  # no body at all
    get_headers.pop("date", None)
    head_headers.pop("date", None)
    assert head_headers.pop("connection") == "close"
    assert head_headers == get_headers


def test_head_then_get_pipelined_stay_in_sync_rfc9110_9_3_2(static: ServerProcess) -> None:
    with Client(static.port) as client:
        client.send(request("/big.bin", "HEAD") + request("/hello.txt"))
        status, headers, _ = client.read_response(head_request=True)
        assert status == 200
        assert headers["content-length"] == str(1024 * 1024)
        status, _, body = client.read_response()
        assert (status, body) == (200, b"hello, world\n")


# -- clients that vanish -----------------------------------------------------------


def test_clients_vanishing_mid_request_leave_server_healthy(static: ServerProcess) -> None:
    for _ in range(50):
        with socket.create_connection(("127.0.0.1", static.port), timeout=IO_TIMEOUT) as sock:
            sock.sendall(b"GET /hello.txt HTTP/1.1\r\nHo")
    assert_still_serving_static(static)


def test_clients_vanishing_mid_response_leave_server_healthy(static: ServerProcess) -> None:
    for _ in range(50):
        with socket.create_connection(("127.0.0.1", static.port), timeout=IO_TIMEOUT) as sock:
            sock.sendall(request("/big.bin"))
            got = b""
            deadline = time.monotonic() + IO_TIMEOUT
            while len(got) < 1024 and time.monotonic() < deadline:
                chunk = sock.recv(1024 - len(got))
                if not chunk:
                    break
                got += chunk
            assert got.startswith(b"HTTP/1.1 200 ")
    assert_still_serving_static(static)


def assert_still_serving_static(server: ServerProcess) -> None:
    with Client(server.port) as client:
        client.send(request("/big.bin"))
        status, _, body = client.read_response()
    assert status == 200
    assert body == bytes(range(256)) * 4096


def test_zz_no_traceback_in_any_server_stderr() -> None:
    """Runs last in this module: nothing above left a traceback on stderr."""
    time.sleep(0.3)
    assert _servers
    found = [_tracebacks(s) for s in _servers]
    assert not any(found), "\n".join(found)
