"""ASGI 3 apps on ``sockweb serve --app``, over real sockets.

Spec references: the ASGI HTTP & WebSocket spec (version 2.4), sections
"HTTP Connection Scope", "Request - receive event", "Response Start - send
event", "Response Body - send event", "Disconnected Client - send exception"
and "Disconnect - receive event"; the ASGI Lifespan spec (2.0); RFC 9110
(semantics) and RFC 9112 (HTTP/1.1 message syntax and framing).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import signal
import socket
import struct
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
    run_serve,
    serve,
    wait_for_file,
    wait_for_stderr,
)
from tests.server.apps.typedjson import loads

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def echo() -> Iterator[ServerProcess]:
    server = module_server("--app", "asgi_echo:app", "--limit-body", str(8 * MiB))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def bad() -> Iterator[ServerProcess]:
    server = module_server("--app", "asgi_bad:app")
    yield server
    server.stop()


def echoed(reply: Reply) -> dict[str, Any]:
    assert reply.status == 200, (reply.status, reply.body[:500])
    assert reply.complete
    result: dict[str, Any] = loads(reply.body)
    return result


# -- the HTTP connection scope ---------------------------------------------------------


def test_scope_fields_per_asgi_http_connection_scope(echo: ServerProcess) -> None:
    """ASGI HTTP spec, "HTTP Connection Scope": every field with its type."""
    with Wire(echo.port) as wire:
        wire.send(b"GET /caf%C3%A9/a%2Fb?a=1&b=%20&c=caf%C3%A9 HTTP/1.1\r\n"
                  b"Host: t\r\nX-Dup: 1\r\nX-Mixed-Case: Some Value\r\nX-Dup: 2\r\n"
                  b"Connection: close\r\n\r\n")
        scope = echoed(wire.response())["scope"]
        local_port = wire.local_port
    assert scope["type"] == "http"
    assert scope["asgi"]["version"] == "3.0"
    assert isinstance(scope["asgi"].get("spec_version", "2.0"), str)
    assert scope["http_version"] == "1.1"
    assert scope["method"] == "GET"
    assert scope["scheme"] == "http"
    # path: percent-encoded sequences and UTF-8 decoded to characters.
    assert scope["path"] == "/café/a/b"
    # raw_path: the bytes as sent, still encoded.
    assert scope["raw_path"] == b"/caf%C3%A9/a%2Fb"
    assert scope["query_string"] == b"a=1&b=%20&c=caf%C3%A9"
    assert scope["root_path"] == ""
    # headers: lower-cased names as bytes, in order, duplicates kept, values as sent.
    assert scope["headers"] == [
        (b"host", b"t"), (b"x-dup", b"1"), (b"x-mixed-case", b"Some Value"),
        (b"x-dup", b"2"), (b"connection", b"close")]
    assert list(scope["client"]) == ["127.0.0.1", local_port]
    assert list(scope["server"]) == ["127.0.0.1", echo.port]


def test_scope_http_version_10(echo: ServerProcess) -> None:
    """ASGI HTTP spec: http_version is "1.0" for an HTTP/1.0 request."""
    scope = echoed(get(echo.port, "/old", version="1.0"))["scope"]
    assert scope["http_version"] == "1.0"
    assert scope["path"] == "/old"


def _absolute_form(port: int, target: bytes) -> Reply:
    with Wire(port) as wire:
        wire.send(b"GET " + target + b" HTTP/1.1\r\nHost: attacker.example\r\n"
                  b"User-Agent: t\r\nConnection: close\r\n\r\n")
        return wire.response()


def test_absolute_form_target_is_the_scope_host_rfc9112_3_2_2(echo: ServerProcess) -> None:
    """RFC 9112 section 3.2.2: the server MUST ignore the Host field of an
    absolute-form request and use the target's authority: the scope's
    ``host`` header is the authority, in the Host field's place."""
    scope = echoed(_absolute_form(echo.port, b"http://real.example:8080/x?q=1"))["scope"]
    assert scope["headers"] == [(b"host", b"real.example:8080"), (b"user-agent", b"t"),
                                (b"connection", b"close")]
    assert (scope["path"], scope["query_string"]) == ("/x", b"q=1")


def test_starlette_url_is_the_absolute_form_authority_rfc9112_3_2_2(start_server: Any) -> None:
    """Starlette builds request.url from the scope's host header."""
    server = serve(start_server, "starlette_app:app")
    reply = _absolute_form(server.port, b"http://real.example/where")
    assert reply.status == 200, reply.body[:300]
    assert json.loads(reply.body)["url"] == "http://real.example/where"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_scope_method_is_the_request_method(echo: ServerProcess, method: str) -> None:
    """ASGI HTTP spec: method is the uppercase HTTP method name as a str."""
    reply = get(echo.port, "/m", method=method, headers="Content-Length: 2\r\n", body=b"hi")
    result = echoed(reply)
    assert result["scope"]["method"] == method
    assert result["body"] == b"hi"


def test_root_path_from_the_flag(start_server: Any) -> None:
    """ASGI HTTP spec: root_path is the mount point (--root-path), and path
    includes it (PATH_INFO is path with root_path stripped)."""
    server = serve(start_server, "asgi_echo:app", "--root-path", "/api")
    scope = echoed(get(server.port, "/items/1?x=y"))["scope"]
    assert scope["root_path"] == "/api"
    assert scope["path"] == "/api/items/1"
    assert scope["raw_path"] == b"/items/1"
    assert scope["query_string"] == b"x=y"


# -- request bodies ------------------------------------------------------------------


def test_content_length_body_in_request_events(echo: ServerProcess) -> None:
    """ASGI "Request - receive event": body bytes, more_body False on the last."""
    result = echoed(get(echo.port, "/", method="POST",
                        headers="Content-Length: 11\r\nContent-Type: text/plain\r\n",
                        body=b"hello world"))
    assert result["body"] == b"hello world"
    assert result["more_body"][-1] is False
    assert (b"content-length", b"11") in result["scope"]["headers"]


def test_chunked_body_in_request_events(echo: ServerProcess) -> None:
    """RFC 9112 section 7.1: a chunked body reaches the app de-chunked."""
    result = echoed(get(echo.port, "/", method="POST",
                        headers="Transfer-Encoding: chunked\r\n",
                        body=chunked(b"abcdefghij" * 10, 7)))
    assert result["body"] == b"abcdefghij" * 10
    assert result["more_body"][-1] is False


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_large_body_streams_in_several_more_body_pieces(echo: ServerProcess,
                                                        framing: str) -> None:
    """ASGI "Request - receive event": a 5 MiB body arrives as several
    http.request messages (more_body True until the last), bytes unchanged."""
    data = os.urandom(5 * MiB)
    if framing == "chunked":
        head = "Transfer-Encoding: chunked\r\n"
        body = chunked(data, 256 * 1024)
    else:
        head = f"Content-Length: {len(data)}\r\n"
        body = data
    result = echoed(get(echo.port, "/", method="POST", headers=head, body=body, timeout=15))
    assert result["body_len"] == len(data)
    assert result["body_sha256"] == hashlib.sha256(data).hexdigest()
    assert len(result["pieces"]) > 1, result["pieces"]
    assert result["more_body"] == [True] * (len(result["pieces"]) - 1) + [False]


def test_expect_100_continue_before_the_app_reads(echo: ServerProcess) -> None:
    """RFC 9110 section 10.1.1: the client waits for 100 Continue before sending
    the body; the server sends it when the app asks for the body."""
    with Wire(echo.port) as wire:
        wire.send(b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 9\r\n"
                  b"Expect: 100-continue\r\nConnection: close\r\n\r\n")
        interim = wire.response()
        assert (interim.version, interim.status) == ("HTTP/1.1", 100)
        wire.send(b"body sent")
        result = echoed(wire.response())
    assert result["body"] == b"body sent"


def test_no_100_continue_when_the_app_answers_without_reading(echo: ServerProcess) -> None:
    """RFC 9110 section 10.1.1: a server that answers with a final status
    before reading the content should not send 100 (Continue)."""
    with Wire(echo.port) as wire:
        wire.send(b"POST /ignore-body HTTP/1.1\r\nHost: t\r\nContent-Length: 9\r\n"
                  b"Expect: 100-continue\r\n\r\n")
        first = wire.response()
    assert first.status == 200
    assert first.body == b"ignored"


@pytest.fixture
def small_limit(start_server: Any) -> ServerProcess:
    return serve(start_server, "asgi_echo:app", "--limit-body", "1000")


def test_body_over_limit_by_content_length_is_413_and_close(small_limit: ServerProcess,
                                                            ) -> None:
    """RFC 9110 section 15.5.14: 413 Content Too Large, then the connection closes."""
    with Wire(small_limit.port) as wire:
        wire.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n" + b"x" * 5000)
        reply = wire.response()
        assert reply.status == 413
        assert reply.header("Connection") == "close"
        assert wire.closed_by_peer()


def test_chunked_body_over_limit_is_413_and_close(small_limit: ServerProcess) -> None:
    """RFC 9110 section 15.5.14 with a chunked body: the app hears http.disconnect,
    the client gets 413 and the connection closes."""
    with Wire(small_limit.port) as wire:
        wire.send(b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                  + chunked(b"y" * 3000, 500))
        reply = wire.response()
        assert reply.status == 413
        assert reply.header("Connection") == "close"
        assert wire.closed_by_peer()
    assert get(small_limit.port, "/after").status == 200


# -- responses -----------------------------------------------------------------------


def test_streamed_response_is_chunked_on_http11(echo: ServerProcess) -> None:
    """RFC 9112 section 7.1 and ASGI "Response Body": many body messages, no
    Content-Length: chunked, in order, ended by the last chunk."""
    reply = get(echo.port, "/stream?n=60")
    assert reply.status == 200
    assert reply.framing == "chunked" and reply.complete
    assert reply.header("Content-Length") is None
    assert reply.body == b"".join(b"part %d\n" % i for i in range(60))
    assert len(reply.chunks) > 1


def test_streamed_response_is_close_delimited_on_http10(echo: ServerProcess) -> None:
    """RFC 9112 section 6.3 (rule 8): no length and HTTP/1.0 means the body
    ends when the connection closes; no chunked coding for an HTTP/1.0 client."""
    reply = get(echo.port, "/stream?n=40", version="1.0")
    assert reply.status == 200
    assert reply.framing == "close" and reply.complete
    assert reply.header("Transfer-Encoding") is None
    assert reply.body == b"".join(b"part %d\n" % i for i in range(40))


def test_app_content_length_is_used(echo: ServerProcess) -> None:
    """ASGI "Response Start": the app's Content-Length frames the body (RFC 9112 6.2)."""
    reply = get(echo.port, "/length")
    assert reply.framing == "length"
    assert reply.header("Content-Length") == "11"
    assert reply.header("Transfer-Encoding") is None
    assert reply.body == b"hello world"


@pytest.mark.parametrize("target", ["/length", "/stream?n=5", "/"])
def test_head_has_no_body(echo: ServerProcess, target: str) -> None:
    """RFC 9110 section 9.3.2: a HEAD response has no content; the next
    response on the connection must start right after its head."""
    with Wire(echo.port) as wire:
        wire.send(f"HEAD {target} HTTP/1.1\r\nHost: t\r\n\r\n".encode()
                  + b"GET /length HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        head = wire.response("HEAD")
        assert head.status == 200
        if target == "/length":
            assert head.header("Content-Length") == "11"
        after = wire.response()
        assert after.status == 200 and after.body == b"hello world"
        rest, _ = wire.read_to_close()
    assert rest == b""


def test_keep_alive_across_app_requests(echo: ServerProcess) -> None:
    """RFC 9112 section 9.3: persistent connections; every request on one
    connection (the app sees the same client port each time)."""
    conn = http.client.HTTPConnection("127.0.0.1", echo.port, timeout=5)
    try:
        ports = set()
        for i in range(6):
            if i % 3 == 0:
                conn.request("POST", f"/n{i}", body=b"x" * i)
            elif i % 3 == 1:
                conn.request("GET", "/stream?n=3")
                response = conn.getresponse()
                assert response.read() == b"part 0\npart 1\npart 2\n"
                continue
            else:
                conn.request("GET", f"/n{i}")
            response = conn.getresponse()
            result = loads(response.read())
            assert result["scope"]["path"] == f"/n{i}"
            ports.add(result["scope"]["client"][1])
        assert ports == {conn.sock.getsockname()[1]}
    finally:
        conn.close()


@pytest.mark.parametrize("app", ["asgi_tasks:app", "asgi_tasks:with_factory",
                                 "asgi_tasks:late_factory"])
def test_every_request_runs_in_a_task_of_its_own(start_server: Any, app: str) -> None:
    """Each request's app runs in a new asyncio Task (as under uvicorn), so
    ``current_task()`` and context variables never carry over from one
    request to the next on a kept-alive connection. A task factory the app
    installs makes those Tasks, from the next request on, whenever it was
    installed; without one sockweb makes them itself, under one name."""
    server = serve(start_server, app)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        answers = []
        for i in range(3):
            conn.request("GET", f"/r{i}")
            answers.append(loads(conn.getresponse().read()))
    finally:
        conn.close()
    for i, answer in enumerate(answers):
        assert answer["listed"] and answer["new"]
        assert answer["leaked"] == ""
        if app.endswith("with_factory") or (app.endswith("late_factory") and i > 0):
            assert answer["by_factory"]
        else:
            assert not answer["by_factory"]
            assert answer["name"] == "sockweb: app request"


def test_pipelined_requests_answered_in_order(echo: ServerProcess) -> None:
    """RFC 9112 section 9.3.2: pipelined requests get their responses in order."""
    requests = (b"GET /first HTTP/1.1\r\nHost: t\r\n\r\n"
                b"POST /second HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\n\r\nsecond"
                b"GET /stream?n=4 HTTP/1.1\r\nHost: t\r\n\r\n"
                b"POST /fourth HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                + chunked(b"fourth", 2)
                + b"GET /length HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    with Wire(echo.port) as wire:
        wire.send(requests)
        first = echoed(wire.response())
        second = echoed(wire.response())
        third = wire.response()
        fourth = echoed(wire.response())
        fifth = wire.response()
    assert first["scope"]["path"] == "/first"
    assert (second["scope"]["path"], second["body"]) == ("/second", b"second")
    assert third.body == b"part 0\npart 1\npart 2\npart 3\n" and third.complete
    assert (fourth["scope"]["path"], fourth["body"]) == ("/fourth", b"fourth")
    assert fifth.body == b"hello world"


# -- http.disconnect -------------------------------------------------------------------


def test_disconnect_while_app_waits_in_receive(echo: ServerProcess, tmp_path: Path) -> None:
    """ASGI "Disconnect - receive event": the client closes during a streaming
    response and receive() returns http.disconnect; the server stays healthy."""
    record = tmp_path / "events.json"
    with Wire(echo.port) as wire:
        wire.send(f"GET /disconnect?file={record} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
        assert wire.read_until(b"waiting\n") is not None
    result = json.loads(wait_for_file(record))
    assert result["events"] == ["http.request", "http.disconnect"]
    assert echoed(get(echo.port, "/healthy"))["scope"]["path"] == "/healthy"


def test_disconnect_reaches_a_streaming_app(echo: ServerProcess, tmp_path: Path) -> None:
    """ASGI "Disconnect - receive event": an app streaming while a task waits
    in receive() hears http.disconnect soon after the client goes."""
    record = tmp_path / "events.json"
    with Wire(echo.port) as wire:
        wire.send(f"GET /stream-until-disconnect?file={record} HTTP/1.1\r\n"
                  f"Host: t\r\n\r\n".encode())
        assert wire.read_until(b"tick 3\n") is not None
    result = json.loads(wait_for_file(record))
    assert result["event"] == "http.disconnect"
    assert result["sent"] < 400
    assert echoed(get(echo.port, "/still-healthy"))["scope"]["path"] == "/still-healthy"


def test_disconnect_reset_while_app_waits_without_sending(echo: ServerProcess,
                                                          tmp_path: Path) -> None:
    """ASGI "Disconnect - receive event": a client that resets the connection
    (RST) while a long-poll app waits in receive() is heard as http.disconnect."""
    record = tmp_path / "events.json"
    sock = socket.create_connection(("127.0.0.1", echo.port), timeout=5)
    sock.sendall(f"GET /longpoll?file={record} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    time.sleep(0.2)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    result = json.loads(wait_for_file(record))
    assert result["events"] == ["http.request", "http.disconnect"]
    assert get(echo.port, "/ok").status == 200


def test_disconnect_close_while_app_waits_without_sending(echo: ServerProcess,
                                                          tmp_path: Path) -> None:
    """ASGI "Disconnect - receive event": a client that closes its socket while
    a long-poll app waits in receive() (nothing sent yet) is heard as
    http.disconnect, as uvicorn and hypercorn do."""
    record = tmp_path / "events.json"
    sock = socket.create_connection(("127.0.0.1", echo.port), timeout=5)
    sock.sendall(f"GET /longpoll?file={record} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    time.sleep(0.2)
    sock.close()
    result = json.loads(wait_for_file(record, timeout=6))
    assert result["events"] == ["http.request", "http.disconnect"]


# -- lifespan --------------------------------------------------------------------------


def test_lifespan_startup_before_banner_state_and_shutdown_on_sigint(
        start_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ASGI Lifespan spec: startup completes before the server accepts (the
    banner names a bound port only after it); scope["state"] is a shallow copy
    of the lifespan state per request; shutdown runs on SIGINT."""
    started, stopped = tmp_path / "started", tmp_path / "stopped"
    monkeypatch.setenv("SOCKWEB_TEST_STARTUP", str(started))
    monkeypatch.setenv("SOCKWEB_TEST_SHUTDOWN", str(stopped))
    server = serve(start_server, "asgi_lifespan:app")
    assert started.exists(), "the banner came before the app's startup finished"
    assert not stopped.exists()
    first = json.loads(get(server.port, "/").body)
    second = json.loads(get(server.port, "/").body)
    assert first["state"]["greeting"] == "hello from startup"
    assert first["leaked_key"] is False and second["leaked_key"] is False
    assert second["state"]["counter"] == {"requests": 2}  # shallow: shared inner dict
    assert server.stop(signal.SIGINT) == 0
    assert wait_for_file(stopped).startswith("stopped")


def test_lifespan_off_runs_no_startup(start_server: Any, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """--lifespan off: no lifespan scope at all, so no state from startup."""
    started, stopped = tmp_path / "started", tmp_path / "stopped"
    monkeypatch.setenv("SOCKWEB_TEST_STARTUP", str(started))
    monkeypatch.setenv("SOCKWEB_TEST_SHUTDOWN", str(stopped))
    server = serve(start_server, "asgi_lifespan:app", "--lifespan", "off")
    answer = json.loads(get(server.port, "/").body)
    assert "greeting" not in answer.get("state", {})
    assert server.stop(signal.SIGINT) == 0
    assert not started.exists() and not stopped.exists()


def test_lifespan_auto_with_an_app_that_does_not_speak_it(start_server: Any) -> None:
    """--lifespan auto: an app that raises on the lifespan scope just has none."""
    server = serve(start_server, "asgi_echo:app", "--lifespan", "auto")
    assert get(server.port, "/").status == 200
    assert "Traceback" not in "\n".join(server.errors)


def _one_clear_line(out: Any, *words: str) -> None:
    assert out.returncode != 0, out
    assert "Traceback" not in out.stderr, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("sockweb: "), lines
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert "Access http" not in out.stdout


def test_lifespan_on_with_an_app_without_lifespan_fails_clearly() -> None:
    """--lifespan on: an app that cannot do lifespan stops the server with one
    line on stderr and a non-zero exit, before any port is served."""
    out = run_serve("--app", "asgi_echo:app", "--lifespan", "on")
    _one_clear_line(out, "lifespan")


def test_failed_startup_stops_the_server_with_its_message() -> None:
    """ASGI Lifespan spec, "Startup - send event": lifespan.startup.failed
    stops the server; its message is shown."""
    out = run_serve("--app", "asgi_startup_fails:app")
    _one_clear_line(out, "database unreachable at db.invalid:5432")


def test_startup_exception_with_lifespan_on_stops_the_server() -> None:
    """ASGI Lifespan spec: with --lifespan on, an exception in startup is a
    failed startup: the server does not serve."""
    out = run_serve("--app", "asgi_startup_fails:raising", "--lifespan", "on")
    _one_clear_line(out, "cache warm-up exploded")


# -- app errors ------------------------------------------------------------------------


def test_exception_before_start_is_500_without_detail(bad: ServerProcess) -> None:
    """An exception before http.response.start: 500, nothing of the exception
    for the client, the traceback in the server's log (RFC 9110 15.6.1)."""
    reply = get(bad.port, "/raise-before")
    assert reply.status == 500 and reply.complete
    assert b"secret-detail" not in reply.body and b"Traceback" not in reply.body
    err = wait_for_stderr(bad, "secret-detail-4f1c")
    assert "Traceback" in err and "RuntimeError" in err


def test_exception_after_chunked_start_cuts_the_connection(bad: ServerProcess) -> None:
    """An exception after the response started: the connection closes and the
    chunked body lacks its last chunk, so no client takes it as complete
    (RFC 9112 section 7.1)."""
    with Wire(bad.port) as wire:
        wire.send(b"GET /raise-after-chunked HTTP/1.1\r\nHost: t\r\n\r\n")
        reply = wire.response()
        assert reply.status == 200 and reply.framing == "chunked"
        assert reply.complete is False
        assert reply.body == b"partial body "
        assert wire.closed_by_peer()


def test_exception_after_start_with_length_leaves_the_body_short(bad: ServerProcess) -> None:
    """An exception after start with a Content-Length: fewer bytes than
    declared, then the close (RFC 9112 section 8: an incomplete message)."""
    with Wire(bad.port) as wire:
        wire.send(b"GET /raise-after-length HTTP/1.1\r\nHost: t\r\n\r\n")
        reply = wire.response()
        assert reply.header("Content-Length") == "100"
        assert reply.complete is False and len(reply.body) < 100
        assert wire.closed_by_peer()


def test_start_without_body_is_never_a_complete_response(bad: ServerProcess) -> None:
    """An app that sends http.response.start and returns: the response cannot
    be completed, so the connection is closed without a complete response."""
    with Wire(bad.port) as wire:
        wire.send(b"GET /start-only HTTP/1.1\r\nHost: t\r\n\r\n")
        assert wire.closed_by_peer()
        data = wire.buf
    if data:
        head, _, body = data.partition(b"\r\n\r\n")
        assert b"chunked" in head.lower() and not body.endswith(b"0\r\n\r\n")


@pytest.mark.parametrize("target", ["/crlf", "/lf", "/cr", "/bad-name", "/name-colon"])
def test_header_with_cr_or_lf_is_refused(bad: ServerProcess, target: str) -> None:
    """RFC 9110 section 5.5: CR and LF are not allowed in a field value (nor
    in a name, section 5.1); no injected header or split response reaches
    the client: a 500 instead."""
    with Wire(bad.port) as wire:
        wire.send(f"GET {target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
        data, _ = wire.read_to_close()
    assert b"X-Injected" not in data and b"x-injected" not in data.lower()
    assert data.startswith(b"HTTP/1.1 500 "), data[:100]


def test_content_length_too_short_for_the_body_closes(bad: ServerProcess) -> None:
    """More bytes than the app's Content-Length: never sent as the next
    response (no response splitting, RFC 9112 section 6.3); connection closed."""
    with Wire(bad.port) as wire:
        wire.send(b"GET /cl-more HTTP/1.1\r\nHost: t\r\n\r\n"
                  b"GET /ok HTTP/1.1\r\nHost: t\r\n\r\n")
        assert wire.closed_by_peer()
        data = wire.buf
    assert b"X-Smuggled" not in data
    assert data.count(b"HTTP/1.1 ") <= 1


def test_content_length_exceeded_in_a_later_message_closes(bad: ServerProcess) -> None:
    """The excess comes in a second body message: the bytes past the length
    are not sent and the connection closes."""
    with Wire(bad.port) as wire:
        wire.send(b"GET /cl-more-split HTTP/1.1\r\nHost: t\r\n\r\n")
        assert wire.closed_by_peer()
        data = wire.buf
    assert b"678" not in data


def test_content_length_too_long_for_the_body_closes(bad: ServerProcess) -> None:
    """Fewer bytes than the app's Content-Length: the connection closes, so the
    short body is never taken as complete (RFC 9112 section 8)."""
    with Wire(bad.port) as wire:
        wire.send(b"GET /cl-less HTTP/1.1\r\nHost: t\r\n\r\n")
        assert wire.closed_by_peer()
        data = wire.buf
    if data:
        head, _, body = data.partition(b"\r\n\r\n")
        assert b"content-length: 100" in head.lower()
        assert len(body) < 100


def test_invalid_content_length_value_is_refused(bad: ServerProcess) -> None:
    """RFC 9110 section 8.6: Content-Length is 1*DIGIT; "5, 6" is refused."""
    reply = get(bad.port, "/cl-bad")
    assert reply.status == 500
    assert reply.header("Content-Length") != "5, 6"


def test_return_without_response_is_500(bad: ServerProcess) -> None:
    """An app that returns without http.response.start: the server answers 500."""
    reply = get(bad.port, "/no-response")
    assert reply.status == 500 and reply.complete


def test_server_healthy_after_app_errors(bad: ServerProcess) -> None:
    with Wire(bad.port) as wire:
        for _ in range(3):
            wire.send(b"GET /raise-before HTTP/1.1\r\nHost: t\r\n\r\n")
            assert wire.response().status == 500
    reply = get(bad.port, "/ok")
    assert (reply.status, reply.body) == (200, b"ok")


# -- behind a proxy: --proxy-headers -------------------------------------------------


def test_proxy_headers_give_the_app_the_real_client_rfc7239(start_server: Any) -> None:
    """From a trusted proxy (127.0.0.1), X-Forwarded-For/-Proto and Forwarded name the
    client and the scheme; without --proxy-headers they are ignored."""
    trusting = serve(start_server, "asgi_echo:app", "--proxy-headers")
    reply = get(trusting.port, "/", "X-Forwarded-For: 203.0.113.7, 127.0.0.1\r\n"
                "X-Forwarded-Proto: https\r\n")
    scope = echoed(reply)["scope"]
    assert scope["client"][0] == "203.0.113.7"
    assert scope["scheme"] == "https"
    reply = get(trusting.port, "/", 'Forwarded: for="[2001:db8::1]:4711";proto=https\r\n')
    scope = echoed(reply)["scope"]
    assert list(scope["client"]) == ["2001:db8::1", 4711]
    plain = serve(start_server, "asgi_echo:app")
    scope = echoed(get(plain.port, "/", "X-Forwarded-For: 203.0.113.7\r\n"))["scope"]
    assert scope["client"][0] == "127.0.0.1" and scope["scheme"] == "http"


def test_proxy_headers_ignored_from_an_untrusted_peer(start_server: Any) -> None:
    server = serve(start_server, "asgi_echo:app", "--proxy-headers",
                   "--forwarded-allow-ips", "192.0.2.1")
    scope = echoed(get(server.port, "/", "X-Forwarded-For: 203.0.113.7\r\n"))["scope"]
    assert scope["client"][0] == "127.0.0.1"
