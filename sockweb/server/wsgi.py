"""WSGI (PEP 3333) over sockweb's exchange, in a bounded thread pool.

The app runs in one of ``--threads`` threads so the event loop never blocks.
Its reads of ``wsgi.input`` and its streamed body chunks cross to the loop
with ``run_coroutine_threadsafe``: each waits for the loop, which gives
back-pressure both ways. A list body (the usual case) is handed back whole
and written by the loop, so a plain request crosses threads only twice.
The adapter never writes bytes itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import stat
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from queue import SimpleQueue
from types import TracebackType
from typing import Any
from urllib.parse import unquote_to_bytes

from ..http.errors import LocalProtocolError
from .config import ServerConfig
from .exchange import AppExchange
from .proxy_headers import TrustedProxies, client_view

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
StartResponse = Callable[..., Callable[[bytes], None]]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class ClientGone(OSError):
    """The client left: the app's iterable is closed and nothing more is sent."""


class IncompleteBody(OSError):
    """``wsgi.input`` cannot give the whole request body (gunicorn raises its
    NoMoreData and InvalidChunkSize for the same).

    The server refused the body (over --limit-body: 413; broken chunked
    framing: 400) or the client stopped sending it before its end (RFC 9112
    section 8: 400); ``status`` says which. A read that ends early never
    passes for the body's end (``wsgi.input_terminated``). By the time the
    app sees this the server has answered for it: with ``status`` if the
    app's response had not started, and an answer the app makes after
    catching it is dropped; by cutting the connection if it had.
    """

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


_werkzeug_kind: type[IncompleteBody] | None = None


def incomplete_body(message: str, status: int) -> IncompleteBody:
    """An IncompleteBody; for a Werkzeug app (Flask), one that is also its
    ClientDisconnected, a 400 to it: Flask then answers it as the client's
    error instead of logging a traceback at ERROR for every refused body,
    which any client could fill the log with. Werkzeug raises the same for
    a body that ends early. (The answer the client gets is the server's.)"""
    exceptions = sys.modules.get("werkzeug.exceptions")
    if exceptions is None:
        return IncompleteBody(message, status)
    global _werkzeug_kind
    if _werkzeug_kind is None:
        class WerkzeugIncompleteBody(IncompleteBody, exceptions.ClientDisconnected):  # type: ignore[misc, name-defined]
            def __init__(self, message: str, status: int) -> None:
                IncompleteBody.__init__(self, message, status)
                self.description = message
                self.response = None

        _werkzeug_kind = WerkzeugIncompleteBody
    return _werkzeug_kind(message, status)


class FileWrapper:
    """``wsgi.file_wrapper``: iterates a file in blocks (PEP 3333 optional extension)."""

    def __init__(self, filelike: Any, blksize: int = 64 * 1024) -> None:
        self.filelike = filelike
        self.blksize = blksize

    def __iter__(self) -> Iterator[bytes]:
        while True:
            block = self.filelike.read(self.blksize)
            if not block:
                return
            yield block

    def close(self) -> None:
        close = getattr(self.filelike, "close", None)
        if close is not None:
            close()


class InputStream(io.RawIOBase):
    """``wsgi.input``: the request body, read from the app's thread."""

    def __init__(self, exchange: AppExchange, loop: asyncio.AbstractEventLoop) -> None:
        self._exchange = exchange
        self._loop = loop
        self._buffer = b""
        self._eof = False

    # What a read raises once the body is known incomplete (a class
    # attribute: the usual request, reading nothing, pays nothing for it).
    _error: OSError | None = None

    def readable(self) -> bool:
        return True

    async def _next(self) -> tuple[bytes, bool]:
        """The next piece of the body, in the loop's thread (the app's waits)."""
        exchange = self._exchange
        data, more = await exchange.receive_body()
        if not more and (exchange.body_error is not None or not exchange.body_done):
            # Not the body's end: refused, or the client stopped sending.
            self._eof = True
            exchange.refuse_body()
            error = exchange.body_error
            self._error = (ClientGone("client disconnected during the request body")
                           if exchange.disconnected else
                           incomplete_body(str(error), error.status) if error is not None
                           else incomplete_body("incomplete request body", 400))
            raise self._error
        return data, more

    def _fill(self) -> bool:
        if self._eof:
            if self._error is not None:
                raise self._error
            return False
        data, more = asyncio.run_coroutine_threadsafe(self._next(), self._loop).result()
        self._buffer += data
        if not more:
            self._eof = True
        return bool(data) or more

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            while self._fill():
                pass
            data, self._buffer = self._buffer, b""
            return data
        while len(self._buffer) < size and self._fill():
            pass
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def readinto(self, target: Any) -> int:
        data = self.read(len(target))
        target[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        while 10 not in self._buffer and (size is None or size < 0
                                             or len(self._buffer) < size) and self._fill():
            pass
        end = self._buffer.find(b"\n") + 1 or len(self._buffer)
        if size is not None and size >= 0:
            end = min(end, size)
        data, self._buffer = self._buffer[:end], self._buffer[end:]
        return data

    def readlines(self, hint: int = -1) -> list[bytes]:
        return list(iter(self.readline, b""))

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")


# A response the app finished in its thread, written by the loop: the status,
# the fields and the whole body (a list body, the usual case).
Finished = tuple[int, list[tuple[bytes, bytes]], bytes]


class _Pool:
    """Threads running jobs for the event loop, with one wake-up per batch.

    Like a ThreadPoolExecutor, but a finished job does not each cost its own
    call_soon_threadsafe: results gather in a deque and the loop is woken
    once for all that finished while it was busy (under load, many).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, size: int) -> None:
        self._loop = loop
        self._size = size
        self._jobs: SimpleQueue[tuple[Callable[[], Any], asyncio.Future[Any]] | None] = \
            SimpleQueue()
        self._done: deque[tuple[asyncio.Future[Any], Any, BaseException | None]] = deque()
        self._lock = threading.Lock()
        self._woken = False
        self._idle = 0
        self._threads: list[threading.Thread] = []
        self._closed = False

    def submit(self, call: Callable[[], Any]) -> asyncio.Future[Any]:
        future = self._loop.create_future()
        self._jobs.put((call, future))
        with self._lock:
            grow = self._idle <= 0 and len(self._threads) < self._size
            if not grow:
                self._idle -= 1
        if grow:
            thread = threading.Thread(target=self._work, name="sockweb-wsgi", daemon=True)
            self._threads.append(thread)
            thread.start()
        return future

    def _work(self) -> None:
        jobs, done, lock = self._jobs, self._done, self._lock
        while True:
            job = jobs.get()
            if job is None:
                return
            call, future = job
            try:
                done.append((future, call(), None))
            except BaseException as exc:  # handed to the awaiting coroutine
                done.append((future, None, exc))
            with lock:
                self._idle += 1
                wake = not self._woken
                self._woken = True
            if wake and not self._closed:
                with contextlib.suppress(RuntimeError):  # the loop is closed
                    self._loop.call_soon_threadsafe(self._settle)

    def _settle(self) -> None:
        with self._lock:
            self._woken = False
        done = self._done
        while done:
            future, result, exc = done.popleft()
            if future.done():
                continue
            if exc is not None:
                future.set_exception(exc)
            else:
                future.set_result(result)

    def shutdown(self) -> None:
        self._closed = True
        for _ in self._threads:
            self._jobs.put(None)


# The environ key of a request field's name (PEP 3333 after CGI, RFC 3875
# section 4.1.18): b"User-Agent" -> "HTTP_USER_AGENT", and Content-Type and
# Content-Length without the prefix. A name with "_" gets "" and is left out,
# as nginx does (underscores_in_headers off) and gunicorn 22: it would land
# on the same key as its "-" twin, so "Content_Length: 0" beside
# "Content-Length: 5" would contradict the body's framing, and
# "X_Forwarded_For" would pass for a proxy's field. A request brings the same
# few names again and again: each is worked out once and kept (the table
# emptied when full), which costs less than the work it saves.
_ENV_KEYS: dict[bytes, str] = {}
_MAX_ENV_KEYS = 1024
# Keys whose repeats replace, not join: the last one stands.
_UNJOINED = frozenset(["CONTENT_TYPE", "CONTENT_LENGTH", "HTTP_HOST"])


def _env_key(name: bytes) -> str:
    if b"_" in name:
        key = ""
    else:
        key = name.decode("latin-1").upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
    if len(_ENV_KEYS) >= _MAX_ENV_KEYS:
        _ENV_KEYS.clear()
    _ENV_KEYS[name] = key
    return key


class WSGIRunner:
    interface = "WSGI"

    def __init__(self, app: WSGIApp, config: ServerConfig) -> None:
        self.app = app
        self.config = config
        self._pool: _Pool | None = None
        self.trusted = (TrustedProxies(config.forwarded_allow_ips)
                        if config.proxy_headers else None)

    async def startup(self) -> None:
        pass

    async def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()

    async def run(self, exchange: AppExchange) -> None:
        loop = asyncio.get_running_loop()
        pool = self._pool
        if pool is None:
            pool = self._pool = _Pool(loop, self.config.threads)
        # ClientGone: the connection is gone and the exchange settles the rest.
        with contextlib.suppress(ClientGone):
            finished: Finished | None = await pool.submit(
                lambda: self._call(exchange, loop))
            if finished is not None:
                # Written from here, the loop's thread: no second crossing.
                status, fields, body = finished
                exchange.start(status, fields)
                await exchange.send(body, False)

    def environ(self, exchange: AppExchange, loop: asyncio.AbstractEventLoop) -> dict[str, Any]:
        head = exchange.head
        transport = exchange.conn.transport
        sock = transport.get_extra_info("sockname") if transport is not None else None
        client, scheme = client_view(transport, head.headers, self.trusted)
        host = head.headers.get("host")
        server_name, server_port = (str(sock[0]), str(sock[1])) if isinstance(sock, tuple) \
            else ("localhost", "80")
        path = unquote_to_bytes(exchange.path).decode("latin-1")  # PEP 3333: bytes as latin-1
        env: dict[str, Any] = {
            "REQUEST_METHOD": head.method.decode("ascii"),
            "SCRIPT_NAME": self.config.root_path,
            "PATH_INFO": path,
            "QUERY_STRING": exchange.query.decode("latin-1"),
            "SERVER_NAME": server_name,
            "SERVER_PORT": server_port,
            "SERVER_PROTOCOL": f"HTTP/{head.http_version}",
            "REMOTE_ADDR": client[0] if client else "",
            "REMOTE_PORT": str(client[1]) if client and client[1] else "",
            "RAW_URI": exchange.path.decode("latin-1") + (
                "?" + exchange.query.decode("latin-1") if exchange.query else ""),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": scheme,
            "wsgi.input": InputStream(exchange, loop),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "wsgi.file_wrapper": FileWrapper,
            "wsgi.input_terminated": True,
        }
        if host:
            env["HTTP_HOST"] = host
        keys = _ENV_KEYS
        for name, value in head.headers.raw:
            key = keys.get(name)
            if key is None:
                key = _env_key(name)
            if not key:
                continue  # a name with "_"
            text = value.decode("latin-1")
            # RFC 9110 section 5.3: repeated fields join with a comma.
            env[key] = f"{env[key]},{text}" if key in env and key not in _UNJOINED else text
        return env

    @staticmethod
    def _send_file(wrapper: FileWrapper, exchange: AppExchange,
                   loop: asyncio.AbstractEventLoop,
                   head: tuple[int, list[tuple[bytes, bytes]]]) -> bool:
        """A file_wrapper around a regular file goes out with sendfile."""
        try:
            fd = wrapper.filelike.fileno()
            st = os.fstat(fd)
            offset = wrapper.filelike.tell() if hasattr(wrapper.filelike, "tell") else 0
        except (AttributeError, OSError, ValueError):
            return False
        if not stat.S_ISREG(st.st_mode):
            return False
        status, fields = head
        if not any(n.lower() == b"content-length" for n, _ in fields):
            fields = [*fields, (b"Content-Length", b"%d" % (st.st_size - offset))]
        exchange.start(status, fields)
        asyncio.run_coroutine_threadsafe(
            exchange.send_file(fd, offset, st.st_size - offset), loop).result()
        return True

    def _call(self, exchange: AppExchange, loop: asyncio.AbstractEventLoop) -> Finished | None:
        """Run the app in this worker thread; a whole response is returned, not sent."""
        env = self.environ(exchange, loop)
        pending: list[tuple[int, list[tuple[bytes, bytes]]]] = []
        sent_head = False

        def send(data: bytes, more: bool) -> None:
            nonlocal sent_head
            if not sent_head:
                if not pending:
                    raise LocalProtocolError("body before start_response()")
                status, fields = pending[-1]
                exchange.start(status, fields)
                sent_head = True
            asyncio.run_coroutine_threadsafe(exchange.send(data, more), loop).result()
            if (exchange.disconnected or exchange.refused) and more:
                # Stop producing for nobody; the finally below calls close().
                raise ClientGone("client disconnected" if exchange.disconnected
                                 else "the server answered for the request body")

        def write(data: bytes) -> None:
            if not isinstance(data, bytes):
                raise TypeError("write() takes bytes")
            send(data, True)

        def start_response(status: str, headers: list[tuple[str, str]],
                           exc_info: ExcInfo | None = None) -> Callable[[bytes], None]:
            if exc_info is not None:
                try:
                    if sent_head:
                        # PEP 3333: too late to change the status; re-raise.
                        raise exc_info[1].with_traceback(exc_info[2])
                finally:
                    exc_info = None
            elif pending:
                raise AssertionError("start_response() called twice without exc_info")
            code = status.split(" ", 1)[0]
            if len(code) != 3 or not code.isdigit():
                raise LocalProtocolError(f"invalid status {status!r}")
            fields = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in headers]
            pending.append((int(code), fields))
            return write

        result = self.app(env, start_response)
        try:
            if (isinstance(result, FileWrapper) and pending and not sent_head
                    and self._send_file(result, exchange, loop, pending[-1])):
                sent_head = True
                send(b"", False)
                return None
            if isinstance(result, list | tuple) and pending and not sent_head:
                # A list body (the usual case) goes out in one write with a
                # Content-Length, instead of one chunk per item.
                body = b"".join(result)
                status, fields = pending[-1]
                if not any(n.lower() == b"content-length" for n, _ in fields):
                    fields = [*fields, (b"Content-Length", b"%d" % len(body))]
                return status, fields, body
            for data in result:
                if data:
                    send(data, True)
                elif not sent_head and pending:
                    pass  # an empty chunk before the head sends nothing (PEP 3333)
            send(b"", False)
            return None
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
