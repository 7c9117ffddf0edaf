"""Raw WSGI apps (PEP 3333), one per purpose.

* ``environ_app``: the environ as typed JSON (types named for each key).
* ``input_app``: reads ``wsgi.input`` the way PATH_INFO says (read, read(n),
  readline, readline(n), iteration) and reports the pieces and a digest.
* ``write_app``: the ``write()`` callable, then an iterable.
* ``closing_app``: an iterable with ``close()`` that records the call in the
  file named by ``?file=``.
* ``exc_info_app``: ``start_response`` with ``exc_info`` before and after the
  headers went out.
* ``file_app``: ``wsgi.file_wrapper`` over the file named by ``?path=``.
* ``slow_app``: ``/sleep`` sleeps 2 s, anything else answers at once.
* ``bad_app``: misbehaviour (raise before/after start, CR/LF headers,
  Content-Length lies, two start_response calls).
* ``validated``: a correct app inside ``wsgiref.validate.validator``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import parse_qs
from wsgiref.validate import validator

from typedjson import dumps

StartResponse = Callable[..., Callable[[bytes], None]]
Environ = dict[str, Any]


def _query(environ: Environ) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}


def _record(path: str, data: dict[str, Any]) -> None:
    with open(path + ".tmp", "w") as f:
        json.dump(data, f)
    os.replace(path + ".tmp", path)


def _json(start_response: StartResponse, value: Any, status: str = "200 OK") -> list[bytes]:
    body = json.dumps(value).encode()
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(body)))])
    return [body]


def environ_app(environ: Environ, start_response: StartResponse) -> list[bytes]:
    described: dict[str, Any] = {}
    for key, value in environ.items():
        described[key] = {"type": type(value).__name__,
                          "value": value if isinstance(value, str | bool | int | tuple)
                          else None}
    stream = environ["wsgi.input"]
    errors = environ["wsgi.errors"]
    described["wsgi.input"]["methods"] = [m for m in ("read", "readline", "readlines",
                                                       "__iter__") if hasattr(stream, m)]
    described["wsgi.errors"]["methods"] = [m for m in ("write", "writelines", "flush")
                                           if hasattr(errors, m)]
    errors.write("environ_app wrote to wsgi.errors\n")
    errors.flush()
    body_data = stream.read()
    described["_body"] = {"type": "bytes", "value": body_data.decode("latin-1")}
    body = dumps(described)
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]


def input_app(environ: Environ, start_response: StartResponse) -> list[bytes]:
    stream = environ["wsgi.input"]
    mode = environ["PATH_INFO"].strip("/")
    pieces: list[bytes] = []
    if mode == "read":
        pieces.append(stream.read())
        assert stream.read() == b""
    elif mode == "read-n":
        for _ in range(100_000):
            piece = stream.read(1000)
            if not piece:
                break
            assert len(piece) <= 1000
            pieces.append(piece)
    elif mode == "readline":
        for _ in range(100_000):
            line = stream.readline()
            if not line:
                break
            pieces.append(line)
    elif mode == "readline-n":
        for _ in range(100_000):
            line = stream.readline(7)
            if not line:
                break
            assert len(line) <= 7
            pieces.append(line)
    elif mode == "readlines":
        pieces = stream.readlines()
    elif mode == "iter":
        pieces = list(stream)
    else:
        raise ValueError(mode)
    body = b"".join(pieces)
    return _json(start_response, {
        "mode": mode, "len": len(body), "sha256": hashlib.sha256(body).hexdigest(),
        "count": len(pieces), "lines_ok": all(p.endswith(b"\n") for p in pieces[:-1]),
        "content_length": environ.get("CONTENT_LENGTH"),
    })


def write_app(environ: Environ, start_response: StartResponse) -> list[bytes]:
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    write(b"one ")
    write(b"two ")
    return [b"three ", b"four"]


class ClosingBody:
    """An iterable whose close() the server must call (PEP 3333), recorded in a file."""

    def __init__(self, marker: str, count: int, delay: float) -> None:
        self.marker = marker
        self.count = count
        self.delay = delay
        self.produced = 0
        self.started = time.monotonic()

    def __iter__(self) -> Iterator[bytes]:
        for i in range(self.count):
            self.produced += 1
            yield b"chunk %d\n" % i
            time.sleep(self.delay)

    def close(self) -> None:
        _record(self.marker, {"closed": True, "produced": self.produced,
                              "after": time.monotonic() - self.started,
                              "thread": threading.current_thread().name})


def closing_app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    query = _query(environ)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return ClosingBody(query["file"], int(query.get("n", "3")), float(query.get("delay", "0")))


def exc_info_app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    path = environ["PATH_INFO"]
    query = _query(environ)
    if path == "/before":
        # PEP 3333: before the headers are sent, start_response with exc_info
        # replaces the status and headers.
        start_response("200 OK", [("Content-Type", "text/plain"), ("X-First", "1")])
        try:
            raise ValueError("before the headers")
        except ValueError:
            start_response("503 Service Unavailable",
                           [("Content-Type", "text/plain"), ("Content-Length", "8")],
                           sys.exc_info())
        return [b"replaced"]
    if path == "/after":
        def body() -> Iterator[bytes]:
            start_response("200 OK", [("Content-Type", "text/plain")])
            yield b"first part\n"
            try:
                raise ValueError("after the headers")
            except ValueError as original:
                try:
                    start_response("500 Internal Server Error", [("Content-Type", "text/plain")],
                                   sys.exc_info())
                except ValueError as again:
                    _record(query["file"], {"reraised": again is original})
                    raise
                _record(query["file"], {"reraised": False})
            yield b"must not be sent\n"
        return body()
    if path == "/twice":
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            start_response("201 Created", [("Content-Type", "text/plain")])
        except Exception as exc:
            _record(query["file"], {"raised": type(exc).__name__})
            raise
        _record(query["file"], {"raised": None})
        return [b"second start_response accepted"]
    raise ValueError(path)


class CountingFile(io.FileIO):
    """A real file that notes whether anyone read() it (a sendfile does not)."""

    def __init__(self, path: str, marker: str) -> None:
        super().__init__(path, "r")
        self.marker = marker
        self.reads = 0

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        return super().read(size)

    def readinto(self, buffer: Any) -> int:
        self.reads += 1
        return super().readinto(buffer)

    def close(self) -> None:
        if not self.closed:
            _record(self.marker, {"closed": True, "reads": self.reads})
        super().close()


def file_app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    query = _query(environ)
    path = query["path"]
    # The file stays open past this function: the server closes it through
    # the wrapper's close() (PEP 3333).
    f = CountingFile(path, query["file"]) if "file" in query else open(path, "rb")  # noqa: SIM115
    size = os.path.getsize(path)
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(size))])
    return environ["wsgi.file_wrapper"](f, 32 * 1024)  # type: ignore[no-any-return]


def slow_app(environ: Environ, start_response: StartResponse) -> list[bytes]:
    if environ["PATH_INFO"] == "/sleep":
        time.sleep(2)
        body = b"slept"
    else:
        body = b"fast"
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body))),
                              ("X-Thread", threading.current_thread().name)])
    return [body]


SECRET = "wsgi-secret-9b2e"


def bad_app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    path = environ["PATH_INFO"]
    if path == "/ok":
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]
    if path == "/raise-before":
        raise RuntimeError(f"the app broke: {SECRET}")
    if path == "/raise-after":
        def body() -> Iterator[bytes]:
            start_response("200 OK", [("Content-Type", "text/plain")])
            yield b"partial "
            time.sleep(0.05)
            raise RuntimeError(f"broke mid-stream: {SECRET}")
        return body()
    if path == "/raise-after-length":
        def sized() -> Iterator[bytes]:
            start_response("200 OK", [("Content-Length", "100")])
            yield b"0123456789"
            time.sleep(0.05)
            raise RuntimeError(f"broke mid-body: {SECRET}")
        return sized()
    if path == "/crlf":
        start_response("200 OK", [("Content-Length", "2"), ("X-Note", "ok\r\nX-Injected: yes")])
        return [b"ok"]
    if path == "/lf":
        start_response("200 OK", [("Content-Length", "2"), ("X-Note", "ok\nX-Injected: yes")])
        return [b"ok"]
    if path == "/bad-name":
        start_response("200 OK", [("Content-Length", "2"), ("X Injected:", "yes")])
        return [b"ok"]
    if path == "/cl-more":
        start_response("200 OK", [("Content-Length", "5")])
        return [b"12345HTTP/1.1 200 OK\r\nX-Smuggled: yes\r\n\r\n"]
    if path == "/cl-more-iter":
        start_response("200 OK", [("Content-Length", "5")])
        return iter([b"123", b"45678"])
    if path == "/cl-less":
        start_response("200 OK", [("Content-Length", "100")])
        return [b"short"]
    if path == "/cl-less-iter":
        start_response("200 OK", [("Content-Length", "100")])
        return iter([b"sh", b"ort"])
    if path == "/no-start":
        return [b"body without start_response"]
    raise LookupError(path)


def _plain(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    method = environ["REQUEST_METHOD"]
    stream = environ["wsgi.input"]
    if method == "POST":
        length = environ.get("CONTENT_LENGTH")
        if length:
            data = stream.read(int(length))
        else:  # chunked: read to the end (wsgi.input_terminated)
            parts = []
            for _ in range(100_000):
                part = stream.read(4096)
                if not part:
                    break
                parts.append(part)
            data = b"".join(parts)
        line = stream.readline()
        assert line == b"", line
        body = b"got %d bytes: %s" % (len(data), hashlib.sha256(data).hexdigest().encode())
    else:
        body = b"hello from a validated app\n"
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]


validated = validator(_plain)
