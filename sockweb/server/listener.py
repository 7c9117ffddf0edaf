"""Bind, print the banner, serve, and shut down cleanly on Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import signal
import socket
import stat
import sys
from typing import TextIO

from .._loop import loop_name, new_event_loop
from ..http.errors import RemoteProtocolError, SockwebError
from ..http.events import RequestHead
from .config import ServerConfig
from .exchange import AccessLog
from .protocol import AppRunner, Handler, HttpProtocol

log = logging.getLogger("sockweb.server")

BACKLOG = 1024  # nginx listen backlog default on Linux is 511; the kernel caps it anyway


class StartupError(SockwebError):
    """The server cannot start; the message is one line for the user (exit code 2)."""


class ServerState:
    """What every connection of one server shares."""

    def __init__(
        self,
        config: ServerConfig,
        handler: Handler,
        loop: asyncio.AbstractEventLoop,
        out: TextIO,
    ) -> None:
        self.config = config
        self.handler = handler
        self.loop = loop
        self.connections: set[HttpProtocol] = set()
        self.access_log = AccessLog(out) if (config.access_log or config.verbose) else None
        self.app: AppRunner | None = None
        self._out = AccessLog(out)
        self.shutting_down = False

    def log_protocol_error(self, peer: str, error: RemoteProtocolError) -> None:
        log.info("%s: %d %s", peer, error.status, error)

    def print_head(self, peer: str, head: RequestHead) -> None:
        lines = [f"{peer} > {head.request_line}"]
        lines += [f"{peer} > {n}: {v}" for n, v in head.headers.items()]
        self._out.write("\n".join(lines) + "\n")


def make_handler(config: ServerConfig) -> Handler:
    """The handler for what no app answers: Hello World, or the directory, or
    (with --app) the --static mounts and a 404 for the rest."""
    if config.app is not None:
        from .apps import Mounts

        return Mounts(config)
    if config.hello:
        from .hello import HelloWorld

        return HelloWorld()
    from .static import StaticFiles

    return StaticFiles(config.directory, dotfiles=config.dotfiles,
                       small_file_limit=config.small_file_limit)


def check_directory(path: str) -> None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise StartupError(f"no such directory: {path}") from None
    except PermissionError:
        raise StartupError(f"permission denied: {path}") from None
    except OSError as exc:
        raise StartupError(f"cannot use {path}: {exc.strerror}") from None
    if not stat.S_ISDIR(st.st_mode):
        raise StartupError(f"not a directory: {path}")
    if not os.access(path, os.R_OK | os.X_OK):
        raise StartupError(f"permission denied: {path}")


def bind_sockets(host: str, port: int) -> list[socket.socket]:
    """Listening sockets for every address of ``host``, all on one port.

    With port 0 the first bind picks the port and the others take the same,
    so the banner's one address reaches all of them.
    """
    try:
        infos = socket.getaddrinfo(host, port, socket.AF_UNSPEC, socket.SOCK_STREAM,
                                   0, socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise StartupError(f"cannot resolve host {host!r}: {exc.strerror}") from None
    seen: set[tuple[int, object]] = set()
    addresses = []
    for family, _, _, _, sockaddr in infos:
        if (family, sockaddr[0]) not in seen:
            seen.add((family, sockaddr[0]))
            addresses.append((family, sockaddr))
    sockets: list[socket.socket] = []
    chosen = port
    try:
        for family, sockaddr in addresses:
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind((sockaddr[0], chosen, *sockaddr[2:]))
            sock.listen(BACKLOG)
            sock.setblocking(False)
            chosen = sock.getsockname()[1]
    except OSError as exc:
        for sock in sockets:
            sock.close()
        where = f"{host}:{chosen}"
        if exc.errno == errno.EADDRINUSE:
            raise StartupError(f"cannot listen on {where}: address already in use") from None
        if exc.errno == errno.EACCES:
            raise StartupError(
                f"cannot listen on {where}: permission denied (ports below 1024 need root)"
            ) from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise StartupError(f"cannot listen on {where}: no such local address") from None
        raise StartupError(f"cannot listen on {where}: {exc.strerror}") from None
    return sockets


class Server:
    """A running sockweb server; ``await start()``, then ``await shutdown()``."""

    def __init__(self, config: ServerConfig, handler: Handler | None = None,
                 out: TextIO | None = None) -> None:
        self.config = config
        self.app: AppRunner | None = None
        if config.app is not None and handler is None:
            from .apps import load_app

            self.app = load_app(config)
        self.handler = handler or make_handler(config)
        self.out = out or sys.stdout
        self.port = config.port
        self._servers: list[asyncio.base_events.Server] = []
        self._state: ServerState | None = None
        self._sweeper: asyncio.TimerHandle | None = None
        self._stopped: asyncio.Event | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._state = state = ServerState(self.config, self.handler, loop, self.out)
        state.app = self.app
        self._stopped = asyncio.Event()
        if self.app is not None:
            # Like uvicorn: the app's startup completes before a port is bound.
            await self.app.startup()
        sockets = bind_sockets(self.config.host, self.config.port)
        self.port = sockets[0].getsockname()[1]
        for sock in sockets:
            server = await loop.create_server(lambda: HttpProtocol(state), sock=sock,
                                              backlog=BACKLOG)
            self._servers.append(server)
        self._sweeper = loop.call_later(1.0, self._sweep)

    @property
    def url(self) -> str:
        return f"http://{self.config.display_host}:{self.port}"

    def _sweep(self) -> None:
        state = self._state
        assert state is not None
        now = state.loop.time()
        for conn in list(state.connections):
            conn.check_timeout(now)
        self._sweeper = state.loop.call_later(1.0, self._sweep)

    def request_shutdown(self) -> None:
        if self._stopped is not None:
            self._stopped.set()

    async def wait_stopped(self) -> None:
        assert self._stopped is not None
        await self._stopped.wait()

    async def shutdown(self) -> None:
        """Stop accepting, let answers in flight finish, then close everything."""
        state = self._state
        assert state is not None
        state.shutting_down = True
        for server in self._servers:
            server.close()
        for conn in list(state.connections):
            conn.shutdown()
        deadline = state.loop.time() + self.config.graceful_timeout
        while state.connections and state.loop.time() < deadline:
            await asyncio.sleep(0.05)
        for conn in list(state.connections):
            conn.abort()
        if self._sweeper is not None:
            self._sweeper.cancel()
        for server in self._servers:
            await server.wait_closed()
        if self.app is not None:
            await self.app.shutdown()
        if state.access_log is not None:
            state.access_log.flush()


def run(config: ServerConfig, out: TextIO | None = None) -> int:
    """``sockweb serve``: the seed's server loop, grown up. Returns the exit code."""
    out = out or sys.stdout
    if not config.hello and config.app is None:
        check_directory(config.directory)
    loop = new_event_loop()
    asyncio.set_event_loop(loop)
    server = Server(config, out=out)
    try:
        loop.run_until_complete(server.start())
        if server.app is not None:
            where = f"{config.app} ({server.app.interface})"
        elif config.hello:
            where = "Hello World"
        else:
            where = os.path.abspath(config.directory)
        out.write(f"Access {server.url}\n")
        out.write(f"Serving {where} with {loop_name(loop)}; press Ctrl-C to stop\n")
        out.flush()
        interrupts = 0

        def on_signal() -> None:
            nonlocal interrupts
            interrupts += 1
            if interrupts == 1:
                server.request_shutdown()
            else:  # a second Ctrl-C: stop waiting for anyone
                for conn in list(server._state.connections if server._state else ()):
                    conn.abort()

        for sig in (signal.SIGINT, signal.SIGTERM):
            # Not on every platform; KeyboardInterrupt below still works there.
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, on_signal)
        with contextlib.suppress(KeyboardInterrupt):
            loop.run_until_complete(server.wait_stopped())
        out.write("Shutting down...\n")
        out.flush()
        loop.run_until_complete(server.shutdown())
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
    return 0
