"""Request bodies an app cannot have whole, over real sockets: refused by the
server (over --limit-body, RFC 9110 section 15.5.14; broken chunked framing,
RFC 9112 section 7.1) or cut short by the client (RFC 9112 section 8).

The server answers for them itself, as nginx does: 413 or 400 if the app's
response has not started, whatever the app answers after it (a 500 of its
own, or a 200 from an app that caught the error); a cut connection if it has.
A WSGI app's read of ``wsgi.input`` raises (an OSError) instead of ending as
if the body were complete; an ASGI app hears ``http.disconnect``.

The small apps these tests need are defined here, and the server imports
them from this module (``--app tests.server.test_app_bodies:NAME``).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerProcess
from tests.server.apphelp import APPS, Wire, chunked, get, wait_for_file

ROOT = Path(__file__).resolve().parents[2]
LIMIT = "1000"
OVER_LIMIT = (b"POST /read HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
              + chunked(b"y" * 3000, 500))
BROKEN_CHUNK = (b"POST /read HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"5\r\nhelloXX")


# -- the apps ------------------------------------------------------------------------

def wsgi_catcher(environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Reads the body, catches what the read raises, answers 200 anyway, and
    writes what it caught to the file named by the query string."""
    caught: dict[str, Any] = {}
    try:
        body = environ["wsgi.input"].read()
    except Exception as exc:
        body = b""
        caught = {"type": type(exc).__name__, "oserror": isinstance(exc, OSError),
                  "status": getattr(exc, "status", None)}
    if environ["QUERY_STRING"]:
        Path(environ["QUERY_STRING"]).write_text(json.dumps(caught))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"got %d bytes" % len(body)]


def wsgi_started(environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Starts its response (write()) before it reads the body."""
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    write(b"started\n")
    body = environ["wsgi.input"].read()
    return [b"got %d bytes\n" % len(body)]


async def asgi_strict(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the body as Starlette's Request.body() does: a disconnect raises."""
    if scope["type"] != "http":
        raise RuntimeError("http only")
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise RuntimeError("ClientDisconnect")
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"len=%d" % len(body)})


async def asgi_fails_after_first_piece(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Takes the first piece of the body, then fails without asking for more."""
    if scope["type"] != "http":
        raise RuntimeError("http only")
    await receive()
    import asyncio

    await asyncio.sleep(0.5)  # meanwhile the rest of the body breaks the limit
    raise RuntimeError("the app's own failure")


# -- helpers -------------------------------------------------------------------------

def _serve(start_server: Any, app: str, *args: str) -> ServerProcess:
    server: ServerProcess = start_server(
        "--app", app, "--app-dir", str(ROOT), "--no-access-log", "--limit-body", LIMIT,
        "--lifespan", "off", *args, cwd=str(ROOT))
    return server


def _refused(port: int, request: bytes, status: int) -> None:
    """``request`` is answered with ``status`` and the connection then closes."""
    with Wire(port) as wire:
        wire.send(request)
        reply = wire.response()
        assert (reply.status, reply.complete) == (status, True), (reply.status, reply.body)
        assert reply.header("Connection") == "close"
        assert wire.closed_by_peer()
    assert get(port, "/read").status < 500  # and the server goes on


def _half_closed(port: int) -> None:
    """Content-Length: 100, three bytes, then the client's end of file: a 400."""
    with Wire(port) as wire:
        wire.send(b"POST /read HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc")
        wire.sock.shutdown(socket.SHUT_WR)
        reply = wire.response()
        assert (reply.status, reply.complete) == (400, True), (reply.status, reply.body)
        assert wire.closed_by_peer()


# -- WSGI ----------------------------------------------------------------------------

@pytest.fixture
def wsgi_reader(start_server: Any) -> ServerProcess:
    """A plain WSGI callable that reads the whole body and lets errors through."""
    server: ServerProcess = start_server(
        "--app", "wsgi_apps:input_app", "--app-dir", str(APPS), "--no-access-log",
        "--limit-body", LIMIT)
    return server


def test_wsgi_chunked_body_over_the_limit_is_413_not_the_apps_answer_rfc9110_15_5_14(
        wsgi_reader: ServerProcess) -> None:
    """wsgi.input never hands over the first 1000 bytes as if they were the body."""
    _refused(wsgi_reader.port, OVER_LIMIT, 413)
    assert "Traceback" not in "\n".join(wsgi_reader.errors)


def test_wsgi_broken_chunk_framing_is_400_not_a_body_rfc9112_7_1(
        wsgi_reader: ServerProcess) -> None:
    """``5\\r\\nhelloXX``: "hello" is no complete body."""
    _refused(wsgi_reader.port, BROKEN_CHUNK, 400)


def test_wsgi_body_cut_short_by_the_client_is_400_rfc9112_8(
        wsgi_reader: ServerProcess) -> None:
    """RFC 9112 section 8: an incomplete message is not passed off as complete
    (wsgi.input_terminated: the read raises instead of returning EOF)."""
    _half_closed(wsgi_reader.port)


@pytest.mark.parametrize(("request_bytes", "status"), [(OVER_LIMIT, 413), (BROKEN_CHUNK, 400)],
                         ids=["over-limit", "broken-chunk"])
def test_wsgi_server_error_wins_over_an_app_that_caught_it_rfc9112_8(
        start_server: Any, tmp_path: Path, request_bytes: bytes, status: int) -> None:
    """The read raises an OSError with the status; the app's 200 after catching
    it is dropped, as nginx answers such a request itself."""
    server = _serve(start_server, "tests.server.test_app_bodies:wsgi_catcher")
    record = tmp_path / "caught.json"
    _refused(server.port, request_bytes.replace(b"/read", b"/read?" + str(record).encode()),
             status)
    assert json.loads(wait_for_file(record)) == {"type": "IncompleteBody", "oserror": True,
                                                 "status": status}


def test_wsgi_broken_body_after_the_response_started_cuts_it_rfc9112_8(
        start_server: Any) -> None:
    """The app's response began before it read the body: it cannot become a
    413/400 now, so it is cut off, never completed as if the request were whole."""
    server = _serve(start_server, "tests.server.test_app_bodies:wsgi_started")
    with Wire(server.port) as wire:
        wire.send(BROKEN_CHUNK)
        reply = wire.response()
        assert reply.status == 200
        assert not reply.complete
        assert wire.closed_by_peer()


def test_flask_broken_chunk_framing_is_400_not_flasks_500_rfc9112_7_1(
        start_server: Any) -> None:
    """Flask turns the read's error into its own 500; the client's error wins."""
    server: ServerProcess = start_server(
        "--app", "flask_app:app", "--app-dir", str(APPS), "--no-access-log")
    # The chunk is a whole JSON document: taken for the body, it would be a 201.
    _refused(server.port, b"POST /json HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
             b"Transfer-Encoding: chunked\r\n\r\n5\r\n\"abc\"XX", 400)
    # Flask takes the read's exception for Werkzeug's ClientDisconnected, the
    # client's error: no traceback at ERROR in the log for each refused body
    # (any client could fill the log so; found in review).
    _refused(server.port, b"POST /json HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
             b"Transfer-Encoding: chunked\r\n\r\n5\r\n\"abc\"XX", 400)
    assert get(server.port, "/nowhere").status == 404  # the log is flushed past them
    assert not [line for line in server.errors if "Traceback" in line or "Exception on" in line]


# -- ASGI ----------------------------------------------------------------------------

@pytest.mark.parametrize(("request_bytes", "status"), [(OVER_LIMIT, 413), (BROKEN_CHUNK, 400)],
                         ids=["over-limit", "broken-chunk"])
def test_asgi_app_raising_on_disconnect_gets_the_413_or_400_rfc9110_15_5_14_15_5_1(
        start_server: Any, request_bytes: bytes, status: int) -> None:
    """An app that raises on the ``http.disconnect`` it hears for a refused body
    (as Starlette's Request.body() does) does not turn the 413/400 into a 500."""
    server = _serve(start_server, "tests.server.test_app_bodies:asgi_strict")
    _refused(server.port, request_bytes, status)
    assert "Traceback" not in "\n".join(server.errors)


def test_asgi_app_failing_on_its_own_after_a_refused_body_gets_413_rfc9110_15_5_14(
        start_server: Any) -> None:
    """The app fails without hearing of the refusal: the client's error, not a 500."""
    server = _serve(start_server, "tests.server.test_app_bodies:asgi_fails_after_first_piece")
    with Wire(server.port) as wire:
        wire.send(b"POST /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"10\r\n" + b"a" * 16 + b"\r\n")
        wire.send(chunked(b"b" * 3000, 500))
        reply = wire.response()
        assert (reply.status, reply.complete) == (413, True)
        assert wire.closed_by_peer()


def test_asgi_body_cut_short_by_the_client_is_400_rfc9112_8(start_server: Any) -> None:
    server = _serve(start_server, "tests.server.test_app_bodies:asgi_strict")
    _half_closed(server.port)


def test_starlette_chunked_body_over_the_limit_is_413_not_its_500_rfc9110_15_5_14(
        start_server: Any) -> None:
    """Starlette's ServerErrorMiddleware sends a 500 for the ClientDisconnect its
    request.stream() raises; the server's 413 went first and stands."""
    server: ServerProcess = start_server(
        "--app", "starlette_app:app", "--app-dir", str(APPS), "--no-access-log",
        "--limit-body", LIMIT)
    _refused(server.port, OVER_LIMIT.replace(b"POST /read", b"POST /upload"), 413)
