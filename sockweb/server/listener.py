"""Bind, print the banner, serve, and shut down cleanly on Ctrl-C or SIGTERM.

``run`` is ``sockweb serve``. It opens the listening sockets first (sockets.py),
then either serves them in this process, or hands them to a supervisor:
``--workers N`` (workers.py, pre-forked processes) or ``--reload`` (reload.py,
a child restarted when the code changes). A supervised process serves the
same way, but stays quiet: the supervisor prints the banner and
``Shutting down...`` once, and tells it to stop with SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from .._loop import creates_tasks_plainly, loop_name, new_event_loop
from ..http.errors import RemoteProtocolError, SockwebError
from ..http.events import RequestHead
from .access_log import AccessLog
from .config import ServerConfig
from .protocol import AppRunner, Handler, HttpProtocol
from .sockets import BACKLOG, Listeners, StartupError, bind_sockets, open_listeners
from .wire import WireCache

__all__ = ["BACKLOG", "Server", "StartupError", "Supervised", "bind_sockets", "run", "serve"]

log = logging.getLogger("sockweb.server")
PARENT_CHECK_INTERVAL = 1.0  # seconds between a supervised process's looks at its parent
# On shutdown, how long a just-accepted connection has to send its first request:
# a few round trips on a slow network (nginx's lingering_time is for the other end).
FIRST_REQUEST_GRACE = 0.5


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
        self.wire_cache = WireCache()
        self.shutting_down = False
        # The loop's create_task() is asyncio's or uvloop's own (set by
        # start()): with no task factory, connections make an app's Task
        # themselves.
        self.plain_tasks = False

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


class Server:
    """A running sockweb server; ``await start()``, then ``await shutdown()``.

    Given ``listeners`` it serves those (opened by ``run`` or a supervisor);
    without, ``start()`` opens what the config asks for after the app's startup.
    """

    def __init__(self, config: ServerConfig, handler: Handler | None = None,
                 out: TextIO | None = None, listeners: Listeners | None = None) -> None:
        self.config = config
        self.app: AppRunner | None = None
        if config.app is not None and handler is None:
            from .apps import load_app

            self.app = load_app(config)
        self.handler = handler or make_handler(config)
        self.out = out or sys.stdout
        self.listeners = listeners
        self._owns_listeners = listeners is None
        self.port = config.port
        self._servers: list[asyncio.base_events.Server] = []
        self._state: ServerState | None = None
        self._sweeper: asyncio.TimerHandle | None = None
        self._stopped: asyncio.Event | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._state = state = ServerState(self.config, self.handler, loop, self.out)
        state.plain_tasks = creates_tasks_plainly(loop)
        state.app = self.app
        self._stopped = asyncio.Event()
        if self.app is not None:
            # Like uvicorn: the app's startup completes before connections are taken.
            try:
                await self.app.startup()
            except SockwebError as exc:  # a failed ASGI lifespan startup: its own words
                raise StartupError(str(exc)) from None
        if self.listeners is None:
            self.listeners = open_listeners(self.config)
        self.port = self.listeners.port
        tls = self.listeners.ssl
        for sock in self.listeners.sockets:
            if tls is None:
                server = await loop.create_server(lambda: HttpProtocol(state), sock=sock,
                                                  backlog=self.config.backlog)
            else:
                # The handshake gets the time a client has to send its head.
                server = await loop.create_server(
                    lambda: HttpProtocol(state), sock=sock, backlog=self.config.backlog, ssl=tls,
                    ssl_handshake_timeout=self.config.timeout_headers)
            self._servers.append(server)
        self._sweeper = loop.call_later(1.0, self._sweep)

    @property
    def url(self) -> str:
        if self.listeners is not None and self.listeners.urls:
            return self.listeners.urls[0]
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

    def abort_connections(self) -> None:
        for conn in list(self._state.connections if self._state else ()):
            conn.abort()

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
        # A connection accepted just before the close has its request on the way;
        # closing it now would reset a client that did nothing wrong (and with
        # --workers, a SIGHUP swap must turn no one away).
        grace = state.loop.time() + min(FIRST_REQUEST_GRACE, self.config.graceful_timeout)
        while any(c.fresh for c in state.connections) and state.loop.time() < grace:
            await asyncio.sleep(0.01)
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
        if self._owns_listeners and self.listeners is not None:
            self.listeners.close()


@dataclass(frozen=True)
class Supervised:
    """How a process run by a supervisor (a worker, the --reload child) differs.

    It prints no banner and no ``Shutting down...`` (the supervisor does, once),
    reports ``ready`` with its "Serving ..." line instead, stops on SIGTERM
    only (Ctrl-C reaches the whole process group; the supervisor decides), and
    stops by itself if its supervisor dies and leaves it orphaned.
    """

    parent: int
    ready: Callable[[str], None]


def describe(config: ServerConfig, server: Server, loop: asyncio.AbstractEventLoop) -> str:
    """The banner's second line without its tail: what is served, on which loop."""
    if server.app is not None:
        where = f"{config.app} ({server.app.interface})"
    elif config.hello:
        where = "Hello World"
    else:
        where = os.path.abspath(config.directory)
    return f"Serving {where} with {loop_name(loop)}"


def serve(config: ServerConfig, listeners: Listeners, out: TextIO,
          supervised: Supervised | None = None) -> int:
    """Serve ``listeners`` in this process until a signal says stop."""
    loop = new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        server = Server(config, out=out, listeners=listeners)
        loop.run_until_complete(server.start())
        interrupts = 0

        def on_signal() -> None:
            nonlocal interrupts
            interrupts += 1
            if interrupts == 1:
                server.request_shutdown()
            else:  # a second Ctrl-C: stop waiting for anyone
                server.abort_connections()

        signals = (signal.SIGTERM,) if supervised else (signal.SIGINT, signal.SIGTERM)

        async def announce_and_wait() -> None:
            # Handlers are added, and the banner printed, from inside the
            # running loop: whoever reads the banner may send SIGINT at once,
            # and a signal that lands while uvloop is not running can be lost.
            for sig in signals:
                # Not on every platform; KeyboardInterrupt below still works there.
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(sig, on_signal)
            # Everything imported and built so far lives as long as the process:
            # out of the collector's sight, a full collection has far less to
            # scan, which keeps its pauses (tail latency) short.
            gc.collect()
            gc.freeze()
            if supervised is None:
                for url in listeners.urls:
                    out.write(f"Access {url}\n")
                out.write(f"{describe(config, server, loop)}; press Ctrl-C to stop\n")
                out.flush()
            else:
                supervised.ready(describe(config, server, loop))

                def check_parent() -> None:
                    if os.getppid() != supervised.parent:
                        server.request_shutdown()  # orphaned: no one will send SIGTERM
                    else:
                        loop.call_later(PARENT_CHECK_INTERVAL, check_parent)

                loop.call_later(PARENT_CHECK_INTERVAL, check_parent)
            await server.wait_stopped()

        with contextlib.suppress(KeyboardInterrupt):
            loop.run_until_complete(announce_and_wait())
        if supervised is None:
            out.write("Shutting down...\n")
            out.flush()
        loop.run_until_complete(server.shutdown())
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
    return 0


def check_config(config: ServerConfig) -> None:
    """Settings that cannot work together, found before anything is opened."""
    if config.static and config.app is None:
        # Mounts are routed beside an app; alone they would be ignored in silence.
        raise StartupError("--static mounts files beside an --app; to serve a directory "
                           "alone: sockweb serve DIR")
    if not config.hello and config.app is None:
        check_directory(config.directory)
    if config.workers < 1:
        raise StartupError(f"--workers must be 1 or more, not {config.workers}")
    if config.reload and config.workers > 1:
        raise StartupError("--reload runs one server process; leave out --workers")
    if config.proxy_headers:
        from .proxy_headers import TrustedProxies

        try:
            TrustedProxies(config.forwarded_allow_ips)
        except ValueError as exc:
            raise StartupError(str(exc)) from None


# Descriptors besides connections and kept files: listening sockets, the
# event loop's, stdio, a reload pipe, a sendfile duplicate per response...
_FD_MARGIN = 64


def raise_fd_limit(config: ServerConfig) -> str | None:
    """Lift the soft limit on open files to what ``--limit-concurrency`` needs.

    Each connection is a descriptor, and so is each large file kept open or
    being sent: with Debian's default soft limit (1024) accept() would fail
    (EMFILE) before the 503 of ``--limit-concurrency`` could be given. Like
    Go's runtime and nginx's ``worker_rlimit_nofile``, the soft limit is
    raised as far as the hard limit lets it; the warning returned says when
    even that falls short.
    """
    try:
        import resource
    except ImportError:  # no such limit on this platform
        return None
    from .files import OPEN_FILES

    need = config.limit_concurrency + OPEN_FILES + _FD_MARGIN
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= need:
        return None
    target = need if hard == resource.RLIM_INFINITY else min(need, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):
        target = soft
    if target >= need:
        return None
    return (f"the open-file limit is {target} (ulimit -n; hard limit {hard}), below the "
            f"{need} that --limit-concurrency {config.limit_concurrency} needs: "
            f"connections past it will be refused")


def run(config: ServerConfig, out: TextIO | None = None) -> int:
    """``sockweb serve``: the seed's server loop, grown up. Returns the exit code."""
    out = out or sys.stdout
    check_config(config)
    short = raise_fd_limit(config)
    if short is not None:
        log.warning("%s", short)
    # Sockets first, before any app is imported or process forked: a port in
    # use or a bad certificate fails at once, every worker and every reloaded
    # child shares them, and connections made while an app starts up wait in
    # the backlog instead of being refused.
    listeners = open_listeners(config)
    try:
        if config.reload:
            from .reload import Reloader

            return Reloader(config, listeners, out).run()
        if config.workers > 1:
            from .workers import Supervisor

            return Supervisor(config, listeners, out).run()
        return serve(config, listeners, out)
    finally:
        listeners.close()
