"""WSGI apps (PEP 3333) on ``sockweb serve --app``, over real sockets.

Section names are PEP 3333's: "environ Variables", "Input and Error
Streams", "The start_response() Callable", "Buffering and Streaming",
"Optional Platform-Specific File Handling", "Error Handling"; framing per
RFC 9112.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerProcess
from tests.server.apphelp import (
    Reply,
    Wire,
    chunked,
    get,
    module_server,
    serve,
    wait_for_file,
    wait_for_stderr,
)
from tests.server.apps.typedjson import loads

REQUIRED_STR_KEYS = ["REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING",
                     "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL"]


@pytest.fixture(scope="module")
def environ_server() -> Iterator[ServerProcess]:
    server = module_server("--app", "wsgi_apps:environ_app")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def input_server() -> Iterator[ServerProcess]:
    server = module_server("--app", "wsgi_apps:input_app")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def bad() -> Iterator[ServerProcess]:
    server = module_server("--app", "wsgi_apps:bad_app")
    yield server
    server.stop()


def environ_of(server: ServerProcess, target: str, **kw: Any) -> dict[str, Any]:
    reply = get(server.port, target, **kw)
    assert reply.status == 200 and reply.complete, (reply.status, reply.body[:300])
    result: dict[str, Any] = loads(reply.body)
    return result


# -- environ ---------------------------------------------------------------------------


def test_every_required_environ_key_with_its_type(environ_server: ServerProcess) -> None:
    """PEP 3333 "environ Variables": the CGI keys are native str, the wsgi.*
    keys have their types, HTTP_ variables come from the request headers."""
    env = environ_of(environ_server, "/some/path?a=1&b=%20",
                     headers="X-Dup: 1\r\nUser-Agent: tester/1.0\r\nX-Dup: 2\r\n")
    for key in REQUIRED_STR_KEYS:
        assert env[key]["type"] == "str", (key, env[key])
    assert env["REQUEST_METHOD"]["value"] == "GET"
    assert env["SCRIPT_NAME"]["value"] == ""
    assert env["PATH_INFO"]["value"] == "/some/path"
    assert env["QUERY_STRING"]["value"] == "a=1&b=%20"
    assert env["SERVER_NAME"]["value"]
    assert env["SERVER_PORT"]["value"] == str(environ_server.port)
    assert env["SERVER_PROTOCOL"]["value"] == "HTTP/1.1"
    assert env["HTTP_HOST"] == {"type": "str", "value": "t"}
    assert env["HTTP_USER_AGENT"]["value"] == "tester/1.0"
    assert env["HTTP_X_DUP"]["value"] == "1,2"  # RFC 9110 section 5.3: joined with commas
    # A GET without a body: CONTENT_TYPE and CONTENT_LENGTH may be absent or
    # empty, never an HTTP_ duplicate.
    assert env.get("CONTENT_LENGTH", {"value": ""})["value"] == ""
    assert "HTTP_CONTENT_LENGTH" not in env and "HTTP_CONTENT_TYPE" not in env
    assert env["wsgi.version"] == {"type": "tuple", "value": (1, 0)}
    assert env["wsgi.url_scheme"] == {"type": "str", "value": "http"}
    assert set(env["wsgi.input"]["methods"]) == {"read", "readline", "readlines", "__iter__"}
    assert set(env["wsgi.errors"]["methods"]) == {"write", "writelines", "flush"}
    for key in ("wsgi.multithread", "wsgi.multiprocess", "wsgi.run_once"):
        assert env[key]["type"] == "bool", (key, env[key])
    assert env["wsgi.multithread"]["value"] is True  # a thread pool runs the app
    assert env["wsgi.run_once"]["value"] is False
    for key, described in env.items():
        if "." not in key and not key.startswith("_"):
            assert described["type"] == "str", (key, described)  # "native strings"


def test_wsgi_errors_reaches_the_server_log(environ_server: ServerProcess) -> None:
    """PEP 3333 "Input and Error Streams": wsgi.errors is the server's error log."""
    environ_of(environ_server, "/log")
    wait_for_stderr(environ_server, "environ_app wrote to wsgi.errors")


def test_content_type_and_length_for_a_body(environ_server: ServerProcess) -> None:
    """PEP 3333 "environ Variables": CONTENT_TYPE and CONTENT_LENGTH from the
    request's fields (no HTTP_ prefix)."""
    env = environ_of(environ_server, "/post", method="POST",
                     headers="Content-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n",
                     body=b"hello")
    assert env["REQUEST_METHOD"]["value"] == "POST"
    assert env["CONTENT_TYPE"] == {"type": "str", "value": "text/plain; charset=utf-8"}
    assert env["CONTENT_LENGTH"] == {"type": "str", "value": "5"}
    assert "HTTP_CONTENT_TYPE" not in env and "HTTP_CONTENT_LENGTH" not in env
    assert env["_body"]["value"] == "hello"


def test_field_names_with_underscores_are_left_out_rfc3875_4_1_18(
        environ_server: ServerProcess) -> None:
    """RFC 3875 section 4.1.18 (CGI) turns "-" into "_", so "Content_Length"
    would land on CONTENT_LENGTH beside the real Content-Length (RFC 9112
    section 6.3 frames the body by the latter): such names are dropped, as
    nginx (underscores_in_headers off) and gunicorn 22 do, and no environ key
    contradicts the framing or passes for a proxy's field."""
    env = environ_of(environ_server, "/underscores", method="POST",
                     headers="Content-Length: 5\r\nContent_Length: 0\r\n"
                             "Content_Type: application/evil\r\nTransfer_Encoding: chunked\r\n"
                             "X-Forwarded-For: 10.0.0.1\r\nX_Forwarded_For: 6.6.6.6\r\n"
                             "X_Custom: spoof\r\nX-Custom: real\r\n",
                     body=b"hello")
    assert env["CONTENT_LENGTH"]["value"] == "5"
    assert "CONTENT_TYPE" not in env
    assert "HTTP_TRANSFER_ENCODING" not in env
    assert env["HTTP_X_FORWARDED_FOR"]["value"] == "10.0.0.1"
    assert env["HTTP_X_CUSTOM"]["value"] == "real"
    assert env["_body"]["value"] == "hello"


def test_underscore_content_length_beside_chunked_does_not_frame_rfc9112_6_3(
        environ_server: ServerProcess) -> None:
    """A chunked body has no CONTENT_LENGTH; "Content_Length: 3" does not make one."""
    env = environ_of(environ_server, "/underscores", method="POST",
                     headers="Transfer-Encoding: chunked\r\nContent_Length: 3\r\n",
                     body=chunked(b"0123456789", 10))
    assert "CONTENT_LENGTH" not in env
    assert env["_body"]["value"] == "0123456789"


def _absolute_form(port: int, target: bytes, version: bytes = b"1.1") -> Reply:
    with Wire(port) as wire:
        host = b"Host: attacker.example\r\n" if version == b"1.1" else b""
        wire.send(b"GET " + target + b" HTTP/" + version + b"\r\n" + host
                  + b"Connection: close\r\n\r\n")
        return wire.response()


@pytest.mark.parametrize("version", [b"1.1", b"1.0"])
def test_absolute_form_target_is_the_host_rfc9112_3_2_2(environ_server: ServerProcess,
                                                        version: bytes) -> None:
    """RFC 9112 section 3.2.2: with an absolute-form target the server MUST
    ignore the Host field and use the target's authority: HTTP_HOST is it
    (and an HTTP/1.0 request without Host has one)."""
    reply = _absolute_form(environ_server.port, b"http://real.example:8080/x?q=1", version)
    assert reply.status == 200, reply.body[:300]
    env = loads(reply.body)
    assert env["HTTP_HOST"]["value"] == "real.example:8080"
    assert (env["PATH_INFO"]["value"], env["QUERY_STRING"]["value"]) == ("/x", "q=1")


@pytest.mark.parametrize("target", [b"http://user@real.example/x", b"http:///x",
                                    b"http://:80/x"])
def test_absolute_form_without_a_usable_host_is_400_rfc9110_4_2(
        environ_server: ServerProcess, target: bytes) -> None:
    """RFC 9110 section 4.2.1 (an empty host MUST be rejected) and 4.2.4
    (userinfo is an error): no Host to take from such a target."""
    assert _absolute_form(environ_server.port, target).status == 400


def test_flask_sees_the_absolute_form_authority_rfc9112_3_2_2(start_server: Any) -> None:
    """Flask builds request.url from HTTP_HOST: the target's, not the Host field's."""
    server = serve(start_server, "flask_app:app")
    reply = _absolute_form(server.port, b"http://real.example/target?via=abs")
    assert reply.status == 200, reply.body[:300]
    assert json.loads(reply.body)["url"] == "http://real.example/target?via=abs"


def test_chunked_body_has_no_content_length(environ_server: ServerProcess) -> None:
    """PEP 3333: CONTENT_LENGTH may be empty or absent; with a chunked body
    there is no length to give, and wsgi.input still ends at the body's end."""
    env = environ_of(environ_server, "/chunked", method="POST",
                     headers="Transfer-Encoding: chunked\r\n",
                     body=chunked(b"abc" * 100, 64))
    assert env.get("CONTENT_LENGTH", {"value": ""})["value"] == ""
    assert env["_body"]["value"] == "abc" * 100


def test_path_info_is_latin1_decoded(environ_server: ServerProcess) -> None:
    """PEP 3333 "Unicode Issues": PATH_INFO is the URL-decoded bytes as latin-1
    ("/café" in UTF-8 reads as "/cafÃ©"); QUERY_STRING stays encoded."""
    env = environ_of(environ_server, "/caf%C3%A9?q=caf%C3%A9")
    assert env["PATH_INFO"]["value"] == "/caf\u00c3\u00a9"
    assert env["PATH_INFO"]["value"].encode("latin-1").decode("utf-8") == "/café"
    assert env["QUERY_STRING"]["value"] == "q=caf%C3%A9"


def test_http_10_server_protocol(environ_server: ServerProcess) -> None:
    """PEP 3333 "environ Variables": SERVER_PROTOCOL is the request's version."""
    env = environ_of(environ_server, "/ten", version="1.0")
    assert env["SERVER_PROTOCOL"]["value"] == "HTTP/1.0"


def test_script_name_is_the_root_path(start_server: Any) -> None:
    """PEP 3333 "environ Variables": SCRIPT_NAME is where the app is mounted
    (--root-path); PATH_INFO is the rest."""
    server = serve(start_server, "wsgi_apps:environ_app", "--root-path", "/mnt")
    env = environ_of(server, "/inner/x")
    assert env["SCRIPT_NAME"]["value"] == "/mnt"
    assert env["PATH_INFO"]["value"] == "/inner/x"


# -- wsgi.input --------------------------------------------------------------------------

BODY = b"".join(b"line %05d %s\n" % (i, b"x" * (i % 97)) for i in range(4000)) + b"no newline"


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
@pytest.mark.parametrize("mode", ["read", "read-n", "readline", "readline-n", "readlines",
                                  "iter"])
def test_wsgi_input_reads(input_server: ServerProcess, mode: str, framing: str) -> None:
    """PEP 3333 "Input and Error Streams": read(), read(size), readline(),
    readline(size), readlines() and iteration give the body's exact bytes,
    with a Content-Length body and with a chunked one (wsgi.input_terminated)."""
    if framing == "chunked":
        head, body = "Transfer-Encoding: chunked\r\n", chunked(BODY, 10_000)
    else:
        head, body = f"Content-Length: {len(BODY)}\r\n", BODY
    reply = get(input_server.port, f"/{mode}", method="POST", headers=head, body=body)
    assert reply.status == 200, reply.body[:500]
    result = json.loads(reply.body)
    assert result["len"] == len(BODY)
    assert result["sha256"] == hashlib.sha256(BODY).hexdigest()
    if mode in ("readline", "readlines", "iter"):
        assert result["count"] == BODY.count(b"\n") + 1
        assert result["lines_ok"]
    if mode == "read-n":
        assert result["count"] == -(-len(BODY) // 1000)
    if framing == "content-length":
        assert result["content_length"] == str(len(BODY))
    else:
        assert result["content_length"] in (None, "")


def test_wsgi_input_empty_body(input_server: ServerProcess) -> None:
    """PEP 3333: with no body, wsgi.input reads as empty (never blocks)."""
    reply = get(input_server.port, "/read", method="POST", headers="Content-Length: 0\r\n")
    assert json.loads(reply.body)["len"] == 0


def test_expect_100_continue_when_the_app_reads(input_server: ServerProcess) -> None:
    """RFC 9110 section 10.1.1: the 100 (Continue) goes out once the app reads
    wsgi.input."""
    with Wire(input_server.port) as wire:
        wire.send(b"POST /read HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n"
                  b"Expect: 100-continue\r\nConnection: close\r\n\r\n")
        assert wire.response().status == 100
        wire.send(b"data")
        reply = wire.response()
    assert json.loads(reply.body)["len"] == 4


# -- responses -------------------------------------------------------------------------


def test_write_callable_then_iterable(start_server: Any) -> None:
    """PEP 3333 "The write() Callable": bytes given to write() go out before
    the iterable's, in order; without a length the body is chunked on HTTP/1.1."""
    server = serve(start_server, "wsgi_apps:write_app")
    reply = get(server.port, "/")
    assert reply.status == 200 and reply.complete
    assert reply.body == b"one two three four"
    assert reply.framing == "chunked"
    ten = get(server.port, "/", version="1.0")
    assert ten.framing == "close" and ten.complete and ten.body == b"one two three four"


def test_iterable_close_is_called(start_server: Any, tmp_path: Path) -> None:
    """PEP 3333 "Specification Details": the server calls the iterable's
    close() when the request is done."""
    server = serve(start_server, "wsgi_apps:closing_app")
    marker = tmp_path / "closed.json"
    reply = get(server.port, f"/?file={marker}&n=3")
    assert reply.body == b"chunk 0\nchunk 1\nchunk 2\n"
    result = json.loads(wait_for_file(marker))
    assert result["closed"] is True and result["produced"] == 3


def test_iterable_close_is_called_on_client_disconnect(start_server: Any,
                                                       tmp_path: Path) -> None:
    """PEP 3333: close() is called "whether the request was completed normally,
    or terminated early due to ... an early disconnect of the browser"; the
    server stops iterating once the client is gone."""
    server = serve(start_server, "wsgi_apps:closing_app")
    marker = tmp_path / "closed.json"
    with Wire(server.port) as wire:
        wire.send(f"GET /?file={marker}&n=100&delay=0.05 HTTP/1.1\r\nHost: t\r\n\r\n".encode())
        assert wire.read_until(b"chunk 2\n") is not None
    gone = time.monotonic()
    result = json.loads(wait_for_file(marker, timeout=4.5))
    assert result["closed"] is True
    assert time.monotonic() - gone < 2.5, "close() came only when the iterable ran out"
    assert result["produced"] < 60, result


def test_exc_info_before_headers_replaces_the_response(start_server: Any) -> None:
    """PEP 3333 "The start_response() Callable": with exc_info before any
    header is sent, the new status and headers replace the old ones."""
    server = serve(start_server, "wsgi_apps:exc_info_app")
    reply = get(server.port, "/before")
    assert reply.status == 503
    assert reply.header("X-First") is None
    assert reply.body == b"replaced"


def test_exc_info_after_headers_reraises_and_cuts_the_response(start_server: Any,
                                                               tmp_path: Path) -> None:
    """PEP 3333 "Error Handling": with exc_info after the headers went out,
    start_response re-raises the very exception; the server then cuts the
    connection, the chunked body lacks its last chunk."""
    server = serve(start_server, "wsgi_apps:exc_info_app")
    marker = tmp_path / "reraised.json"
    with Wire(server.port) as wire:
        wire.send(f"GET /after?file={marker} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
        reply = wire.response()
        assert reply.status == 200
        assert reply.complete is False
        assert b"must not be sent" not in reply.body
        assert wire.closed_by_peer()
    assert json.loads(wait_for_file(marker)) == {"reraised": True}


def test_start_response_twice_without_exc_info_is_an_error(start_server: Any,
                                                           tmp_path: Path) -> None:
    """PEP 3333: calling start_response a second time without exc_info is a
    fatal error; the app sees an exception and the client a 500."""
    server = serve(start_server, "wsgi_apps:exc_info_app")
    marker = tmp_path / "twice.json"
    reply = get(server.port, f"/twice?file={marker}")
    assert json.loads(wait_for_file(marker))["raised"] is not None
    assert reply.status == 500


@pytest.fixture
def big_file(tmp_path: Path) -> tuple[Path, bytes]:
    data = os.urandom(3 * 1024 * 1024 + 123)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    return path, data


def test_file_wrapper_serves_the_file(start_server: Any, big_file: tuple[Path, bytes]) -> None:
    """PEP 3333 "Optional Platform-Specific File Handling": the object from
    wsgi.file_wrapper is an iterable of the whole file."""
    path, data = big_file
    server = serve(start_server, "wsgi_apps:file_app")
    reply = get(server.port, f"/?path={path}", timeout=10)
    assert reply.status == 200 and reply.complete
    assert reply.header("Content-Length") == str(len(data))
    assert hashlib.sha256(reply.body).digest() == hashlib.sha256(data).digest()


def test_file_wrapper_is_sent_with_sendfile_and_closed(start_server: Any, tmp_path: Path,
                                                       big_file: tuple[Path, bytes]) -> None:
    """PEP 3333 "Optional Platform-Specific File Handling" (and the issue:
    "wsgi.file_wrapper served with sendfile"): a real file with a fileno()
    is transmitted by the platform, not read() through Python, then closed."""
    path, data = big_file
    marker = tmp_path / "file.json"
    server = serve(start_server, "wsgi_apps:file_app")
    reply = get(server.port, f"/?path={path}&file={marker}", timeout=10)
    assert reply.complete and reply.body == data
    result = json.loads(wait_for_file(marker))
    assert result["closed"] is True
    assert result["reads"] == 0, f"the file was read() {result['reads']} times, not sent"


def test_slow_app_does_not_block_the_event_loop(start_server: Any) -> None:
    """--threads 4: while one request sleeps 2 s in the app, another is
    answered at once (the app runs in the thread pool, not on the loop)."""
    server = serve(start_server, "wsgi_apps:slow_app", "--threads", "4")
    slow: dict[str, Any] = {}

    def sleeper() -> None:
        started = time.monotonic()
        reply = get(server.port, "/sleep", timeout=10)
        slow.update(body=reply.body, took=time.monotonic() - started)

    thread = threading.Thread(target=sleeper)
    thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    fast = get(server.port, "/fast")
    took = time.monotonic() - started
    thread.join(10)
    assert fast.body == b"fast" and took < 0.5, took
    assert slow["body"] == b"slept" and slow["took"] >= 1.9


def test_more_clients_than_threads_all_answered_in_order(start_server: Any) -> None:
    """--threads 2 and 24 keep-alive clients sending 8 requests each: jobs queue
    for the two threads, every one is answered, each connection in order."""
    import http.client

    server = serve(start_server, "wsgi_apps:environ_app", "--threads", "2")
    failures: list[str] = []

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        try:
            for i in range(8):
                conn.request("GET", f"/c{n}/r{i}")
                response = conn.getresponse()
                env = loads(response.read())
                path = env["PATH_INFO"]["value"]
                if response.status != 200 or path != f"/c{n}/r{i}":
                    failures.append(f"{n}/{i}: {response.status} {path}")
        except Exception as exc:
            failures.append(f"{n}: {exc!r}")
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not failures


# -- wsgiref.validate -------------------------------------------------------------------


def test_validator_passes_get_post_chunked_head(start_server: Any) -> None:
    """wsgiref.validate (PEP 3333's checks) wraps the app: GET, POST with a
    Content-Length, POST chunked and HEAD all run without the validator
    raising or warning."""
    server = serve(start_server, "wsgi_apps:validated")
    data = b"0123456789" * 5000
    digest = hashlib.sha256(data).hexdigest().encode()
    assert get(server.port, "/").body == b"hello from a validated app\n"
    by_length = get(server.port, "/", method="POST", body=data,
                    headers=f"Content-Length: {len(data)}\r\nContent-Type: text/plain\r\n")
    assert by_length.body == b"got %d bytes: %s" % (len(data), digest)
    by_chunks = get(server.port, "/", method="POST", body=chunked(data, 3000),
                    headers="Transfer-Encoding: chunked\r\nContent-Type: text/plain\r\n")
    assert by_chunks.body == b"got %d bytes: %s" % (len(data), digest)
    head = get(server.port, "/", method="HEAD")
    assert head.status == 200
    assert head.header("Content-Length") == str(len(b"hello from a validated app\n"))
    with Wire(server.port) as wire:  # keep-alive with the validator in between
        for _ in range(3):
            wire.send(b"GET /again HTTP/1.1\r\nHost: t\r\n\r\n")
            assert wire.response().status == 200
    time.sleep(0.2)
    err = "\n".join(server.errors)
    for bad_sign in ("AssertionError", "Traceback", "WSGIWarning", "Exception ignored"):
        assert bad_sign not in err, err


# -- app errors --------------------------------------------------------------------------


def test_exception_before_start_is_500_without_detail(bad: ServerProcess) -> None:
    """PEP 3333 "Error Handling" and RFC 9110 15.6.1: an app exception before
    any output is a 500; the client sees no detail, the log has the traceback."""
    reply = get(bad.port, "/raise-before")
    assert reply.status == 500 and reply.complete
    assert b"wsgi-secret" not in reply.body and b"Traceback" not in reply.body
    err = wait_for_stderr(bad, "wsgi-secret-9b2e")
    assert "Traceback" in err


def test_exception_mid_iteration_cuts_the_connection(bad: ServerProcess) -> None:
    """An exception after the headers went out: the connection closes and the
    chunked body has no last chunk (never a complete-looking response)."""
    with Wire(bad.port) as wire:
        wire.send(b"GET /raise-after HTTP/1.1\r\nHost: t\r\n\r\n")
        reply = wire.response()
        assert reply.status == 200 and reply.framing == "chunked"
        assert reply.complete is False and reply.body == b"partial "
        assert wire.closed_by_peer()


def test_exception_mid_body_with_length_leaves_it_short(bad: ServerProcess) -> None:
    with Wire(bad.port) as wire:
        wire.send(b"GET /raise-after-length HTTP/1.1\r\nHost: t\r\n\r\n")
        reply = wire.response()
        assert reply.header("Content-Length") == "100"
        assert reply.complete is False and len(reply.body) < 100
        assert wire.closed_by_peer()


@pytest.mark.parametrize("target", ["/crlf", "/lf", "/bad-name"])
def test_header_with_cr_lf_or_bad_name_is_refused(bad: ServerProcess, target: str) -> None:
    """RFC 9110 sections 5.1 and 5.5: no CR/LF in a field, a name is a token;
    the app's bad header becomes a 500, nothing is injected."""
    with Wire(bad.port) as wire:
        wire.send(f"GET {target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
        data, _ = wire.read_to_close()
    assert b"x-injected" not in data.lower()
    assert data.startswith(b"HTTP/1.1 500 "), data[:100]


@pytest.mark.parametrize("target", ["/cl-more", "/cl-more-iter", "/cl-less", "/cl-less-iter"])
def test_content_length_lies_close_the_connection(bad: ServerProcess, target: str) -> None:
    """RFC 9112 sections 6.3 and 8: a body that does not match the app's
    Content-Length is never presented as a complete response, and excess
    bytes never become a second response."""
    with Wire(bad.port) as wire:
        wire.send(f"GET {target} HTTP/1.1\r\nHost: t\r\n\r\n".encode()
                  + b"GET /ok HTTP/1.1\r\nHost: t\r\n\r\n")
        assert wire.closed_by_peer()
        data = wire.buf
    assert b"X-Smuggled" not in data and b"678" not in data
    assert data.count(b"HTTP/1.1 ") <= 1
    if data:
        head, _, body = data.partition(b"\r\n\r\n")
        declared = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        assert len(body) < declared, (declared, body)


def test_body_without_start_response_is_500(bad: ServerProcess) -> None:
    """PEP 3333: the app must call start_response before its first body bytes."""
    reply = get(bad.port, "/no-start")
    assert reply.status == 500
    assert b"body without start_response" not in reply.body


def test_server_healthy_after_wsgi_errors(bad: ServerProcess) -> None:
    sock = socket.create_connection(("127.0.0.1", bad.port), timeout=5)
    sock.close()
    reply = get(bad.port, "/ok")
    assert (reply.status, reply.body) == (200, b"ok")


def test_proxy_headers_set_remote_addr_and_url_scheme(start_server: Any) -> None:
    """PEP 3333 REMOTE_ADDR and wsgi.url_scheme follow a trusted proxy's headers."""
    from tests.server.apphelp import get, serve

    server = serve(start_server, "wsgi_apps:environ_app", "--proxy-headers")
    reply = get(server.port, "/", "X-Forwarded-For: 198.51.100.9\r\nX-Forwarded-Proto: https\r\n")
    assert b"198.51.100.9" in reply.body and b"https" in reply.body
