"""``--workers N``: a pre-fork supervisor over one set of listening sockets.

The parent opened the sockets (listener.run) and never runs an event loop or
imports the app: it forks N workers, each of which loads the app and serves
the inherited sockets, and then only watches them. The kernel shares each
socket's accept queue among the workers, so a connection waits in the backlog
while a worker is replaced instead of being refused.

    parent                               worker (one of N)
    ------                               ------------------
    fork N ─────────────────────────────▶ load app, start serving
    read "R pid Serving ..." ◀─── pipe ── ready (or "E pid message": cannot start)
    print the banner once
    SIGCHLD: a worker died ─▶ fork another (not while stopping)
    SIGHUP: fork N new; when all are ready, SIGTERM the old ones (they drain)
    SIGINT/SIGTERM: print "Shutting down...", SIGTERM all ─▶ drain, exit 0
      a second one: SIGTERM again ──────────────────────────▶ drop connections
      still running after --graceful-timeout + 5 s: SIGKILL

Workers ignore SIGINT and SIGHUP: Ctrl-C and a terminal hang-up reach the
whole process group, and the parent alone decides what they mean. A worker
whose parent is gone stops by itself (listener.Supervised).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import sys
import time
import traceback
from dataclasses import dataclass
from typing import NoReturn, TextIO

from ..http.errors import SockwebError
from .config import ServerConfig
from .listener import Supervised, serve
from .sockets import Listeners, StartupError

BOOT_ERROR = 3  # gunicorn's exit code for a worker that cannot load the app
KILL_MARGIN = 5.0  # seconds past --graceful-timeout before a worker is killed
QUICK_DEATH = 1.0  # a worker dying younger than this is restarted after a pause...
RESPAWN_PAUSE = 1.0  # ...so that a crash at start does not become a fork loop
HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD)


@dataclass
class Worker:
    pid: int
    generation: int
    started: float
    ready: bool = False
    error: str | None = None
    kill_at: float | None = None  # set once told to stop


class Supervisor:
    def __init__(self, config: ServerConfig, listeners: Listeners, out: TextIO) -> None:
        self.config = config
        self.listeners = listeners
        self.out = out
        self.workers: dict[int, Worker] = {}
        self.generation = 0  # the workers that are restarted when they die
        self.pending: int | None = None  # the generation a SIGHUP is starting
        self.starting = True  # until the first banner
        self.stopping = False
        self.failure: str | None = None
        self.respawns: list[tuple[float, int]] = []  # (when, generation)
        self._buffer = b""

    # -- the parent's loop -----------------------------------------------------
    def run(self) -> int:
        # set_wakeup_fd needs a write end that never blocks; the workers' writes
        # to the ready pipe may block (a line is written whole, or not at all).
        wake_r, wake_w = _pipe(block_writes=False)
        self._ready_r, self._ready_w = _pipe(block_writes=True)
        self._parent_fds = (wake_r, wake_w, self._ready_r)
        old_handlers = {sig: signal.signal(sig, _note) for sig in HANDLED}
        # Signal numbers arrive as bytes on this pipe, so select() wakes for them.
        old_wakeup = signal.set_wakeup_fd(wake_w)
        selector = selectors.DefaultSelector()
        selector.register(wake_r, selectors.EVENT_READ)
        selector.register(self._ready_r, selectors.EVENT_READ)
        try:
            for _ in range(self.config.workers):
                self._spawn(self.generation)
            while not (self.stopping and not self.workers):
                for key, _ in selector.select(timeout=0.5):
                    if key.fd == wake_r:
                        for signum in _drain(wake_r):
                            self._on_signal(signum)
                    else:
                        self._read_messages()
                self._reap()
                self._tick()
        finally:
            signal.set_wakeup_fd(old_wakeup)
            for sig, handler in old_handlers.items():
                signal.signal(sig, handler)
            selector.close()
            for fd in (wake_r, wake_w, self._ready_r, self._ready_w):
                os.close(fd)
        if self.failure is not None:
            raise StartupError(self.failure)
        return 0

    def _on_signal(self, signum: int) -> None:
        if signum in (signal.SIGINT, signal.SIGTERM):
            if not self.stopping and not self.starting:
                self.out.write("Shutting down...\n")
                self.out.flush()
            # A second signal is sent on too: a worker drops its connections then.
            self._stop_all()
        elif signum == signal.SIGHUP and not (self.stopping or self.starting or self.pending):
            self.pending = self.generation + 1
            for _ in range(self.config.workers):
                self._spawn(self.pending)

    def _stop_all(self) -> None:
        self.stopping = True
        self.respawns.clear()
        for worker in self.workers.values():
            self._terminate(worker)

    def _terminate(self, worker: Worker) -> None:
        if worker.kill_at is None:
            worker.kill_at = time.monotonic() + self.config.graceful_timeout + KILL_MARGIN
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker.pid, signal.SIGTERM)

    def _read_messages(self) -> None:
        self._buffer += _drain(self._ready_r)
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            kind, pid_text, text = [*line.decode("utf-8", "replace").split(" ", 2), "", ""][:3]
            worker = self.workers.get(int(pid_text)) if pid_text.isdigit() else None
            if worker is None:
                continue
            if kind == "R":
                worker.ready = True
                self._on_ready(worker, text)
            else:
                worker.error = text

    def _on_ready(self, worker: Worker, serving: str) -> None:
        if self.starting and self._all_ready(self.generation):
            self.starting = False
            for url in self.listeners.urls:
                self.out.write(f"Access {url}\n")
            self.out.write(f"{serving}, {self.config.workers} workers; press Ctrl-C to stop\n")
            self.out.flush()
        elif worker.generation == self.pending and self._all_ready(self.pending):
            # The new generation serves: the old one finishes its requests and goes.
            for old in self.workers.values():
                if old.generation != self.pending:
                    self._terminate(old)
            self.generation, self.pending = self.pending, None

    def _all_ready(self, generation: int) -> bool:
        return all(w.ready for w in self.workers.values() if w.generation == generation)

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self._read_messages()  # a worker's last words arrive before its exit
            worker = self.workers.pop(pid, None)
            if worker is not None:
                self._on_exit(worker, status)

    def _on_exit(self, worker: Worker, status: int) -> None:
        if self.stopping or worker.kill_at is not None:
            return  # told to stop, and did
        if worker.error is not None:
            if self.starting:
                self.failure = worker.error
                self._stop_all()
                return
            if worker.generation == self.pending:
                print(f"sockweb: new workers cannot start ({worker.error}); "
                      "the old ones keep serving", file=sys.stderr, flush=True)
                for new in self.workers.values():
                    if new.generation == self.pending:
                        self._terminate(new)
                self.pending = None
                return
            print(f"sockweb: a worker cannot start: {worker.error}", file=sys.stderr, flush=True)
        else:
            code = os.waitstatus_to_exitcode(status)
            how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited ({code})"
            print(f"sockweb: worker {worker.pid} {how}; starting another",
                  file=sys.stderr, flush=True)
        when = time.monotonic()
        if worker.error is not None or when - worker.started < QUICK_DEATH:
            when += RESPAWN_PAUSE
        self.respawns.append((when, worker.generation))

    def _tick(self) -> None:
        now = time.monotonic()
        due = [gen for when, gen in self.respawns if when <= now]
        self.respawns = [(when, gen) for when, gen in self.respawns if when > now]
        for generation in due:
            if generation in (self.generation, self.pending):
                self._spawn(generation)
        for worker in self.workers.values():
            if worker.kill_at is not None and now > worker.kill_at:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.pid, signal.SIGKILL)

    # -- forking ---------------------------------------------------------------
    def _spawn(self, generation: int) -> None:
        # Output still buffered here would be written once more by the child.
        self.out.flush()
        sys.stdout.flush()
        sys.stderr.flush()
        # Blocked across fork(): a signal must not run the parent's handler in
        # the child before the child has set up its own dispositions.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED)
        pid = os.fork()
        if pid == 0:
            self._worker(mask)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        self.workers[pid] = Worker(pid, generation, time.monotonic())

    def _worker(self, mask: set[int | signal.Signals]) -> NoReturn:
        code = 1
        try:
            signal.set_wakeup_fd(-1)
            for fd in self._parent_fds:
                os.close(fd)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)  # until the event loop takes it
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            ready_w, pid = self._ready_w, os.getpid()

            def ready(serving: str) -> None:
                _send(ready_w, f"R {pid} {serving}")

            try:
                code = serve(self.config, self.listeners, self.out,
                             Supervised(parent=os.getppid(), ready=ready))
            except SockwebError as exc:  # StartupError, a failed ASGI lifespan startup
                _send(ready_w, f"E {pid} {exc}")
                code = BOOT_ERROR
        except BaseException:
            traceback.print_exc()
        finally:
            with contextlib.suppress(Exception):
                self.out.flush()
                sys.stdout.flush()
                sys.stderr.flush()
            # Never return into the parent's code, nor run its atexit handlers.
            os._exit(code)


def _note(signum: int, frame: object) -> None:
    """The handler's only job is to exist: set_wakeup_fd passes the number on."""


def _pipe(block_writes: bool) -> tuple[int, int]:
    r, w = os.pipe()
    os.set_blocking(r, False)
    os.set_blocking(w, block_writes)
    return r, w


def _drain(fd: int) -> bytes:
    """Everything readable on the non-blocking ``fd`` now."""
    chunks = []
    with contextlib.suppress(BlockingIOError):
        while chunk := os.read(fd, 4096):
            chunks.append(chunk)
    return b"".join(chunks)


def _send(fd: int, message: str) -> None:
    # One write under PIPE_BUF (4096) is atomic: lines from workers never interleave.
    os.write(fd, message.replace("\n", " ")[:1000].encode("utf-8", "replace") + b"\n")
