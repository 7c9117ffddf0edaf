"""``--reload``: serve from a child process, and restart it when the code changes.

For development. The parent opened the listening sockets (listener.run) and
keeps them; it never imports the app. It starts a child, a fresh interpreter
so that every module is imported anew, which serves the inherited sockets;
it watches the ``.py`` files under ``--app-dir``; on a change it stops the
child with SIGTERM (requests in flight finish) and starts another.
Connections made in between wait in the listen backlog: none is refused,
and the port never changes, even with ``--port 0``.

The watching is done by watchfiles (inotify and friends, in Rust) when it is
installed, and otherwise by looking at every file's mtime twice a second.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any, TextIO

from ..http.errors import SockwebError
from ..http.limits import Limits
from .config import ServerConfig
from .listener import Supervised, serve
from .sockets import Listeners, adopt_all

POLL_INTERVAL = 0.5  # seconds between two looks at the files without watchfiles
KILL_MARGIN = 5.0  # seconds past --graceful-timeout before the child is killed
# Directories no one edits by hand, skipped by the polling watcher (watchfiles'
# PythonFilter skips the same and more).
SKIPPED = frozenset({"__pycache__", "node_modules", "site-packages", "venv"})
CONFIG_ENV = "SOCKWEB_RELOAD_CONFIG"
FDS_ENV = "SOCKWEB_RELOAD_FDS"


def snapshot(root: str) -> dict[str, tuple[int, int]]:
    """(mtime in ns, size) of every .py file under ``root``."""
    found: dict[str, tuple[int, int]] = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in SKIPPED]
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                with contextlib.suppress(OSError):  # deleted while we looked
                    st = os.stat(path)
                    found[path] = (st.st_mtime_ns, st.st_size)
    return found


def poll_changes(root: str, stop: threading.Event,
                 interval: float = POLL_INTERVAL) -> Iterator[set[str]]:
    """The paths added, changed or removed since the last look, until ``stop``."""
    before = snapshot(root)
    while not stop.wait(interval):
        now = snapshot(root)
        changed = {path for path in before.keys() | now.keys() if before.get(path) != now.get(path)}
        before = now
        if changed:
            yield changed


def watch_changes(root: str, stop: threading.Event) -> tuple[str, Iterator[set[str]]]:
    """The watcher's name and its changes: watchfiles if installed, else polling."""
    try:
        import watchfiles
    except ImportError:
        return "polling", poll_changes(root, stop)

    def changes() -> Iterator[set[str]]:
        for batch in watchfiles.watch(root, watch_filter=watchfiles.PythonFilter(),
                                      stop_event=stop, raise_interrupt=False):
            yield {path for _, path in batch}

    return "watchfiles", changes()


def encode_config(config: ServerConfig) -> str:
    return json.dumps(dataclasses.asdict(config))


def decode_config(text: str) -> ServerConfig:
    data = json.loads(text)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(ServerConfig):
        value, default = data[f.name], f.default
        if isinstance(default, Limits):  # a nested dataclass, a dict in JSON
            value = Limits(**value)
        elif isinstance(default, tuple):  # JSON has lists only
            value = tuple(value)
        values[f.name] = value
    return ServerConfig(**values)


class Reloader:
    def __init__(self, config: ServerConfig, listeners: Listeners, out: TextIO) -> None:
        self.config = config
        self.listeners = listeners
        self.out = out
        self.root = os.path.abspath(config.app_dir)
        # Signal handlers and the watcher thread both post here; SimpleQueue.put
        # is safe to call from a signal handler, Queue.put is not.
        self.events: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self.stopping = False

    def run(self) -> int:
        stop = threading.Event()
        old = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        name, changes = watch_changes(self.root, stop)
        watcher = threading.Thread(target=self._watch, args=(changes,), daemon=True,
                                   name="sockweb-reload")
        watcher.start()
        for url in self.listeners.urls:
            self.out.write(f"Access {url}\n")
        self.out.write(f"Watching {self.root} for changes to .py files ({name})\n")
        self.out.flush()
        try:
            child = self._start()
            while not self.stopping:
                try:
                    kind, value = self.events.get(timeout=1.0)
                except queue.Empty:
                    continue
                if kind == "signal":
                    self._begin_shutdown()
                    self._stop(child)
                elif kind == "change":
                    names = sorted(os.path.relpath(path, self.root) for path in value)
                    self.out.write(f"Reloading: {', '.join(names[:3])}"
                                   f"{' and more' if len(names) > 3 else ''} changed\n")
                    self.out.flush()
                    self._stop(child)
                    if not self.stopping:
                        child = self._start()
        finally:
            stop.set()
            for sig, handler in old.items():
                signal.signal(sig, handler)
        return 0

    def _begin_shutdown(self) -> None:
        self.stopping = True
        self.out.write("Shutting down...\n")
        self.out.flush()

    def _on_signal(self, signum: int, frame: object) -> None:
        self.events.put(("signal", signum))

    def _watch(self, changes: Iterator[set[str]]) -> None:
        for changed in changes:
            self.events.put(("change", changed))

    def _start(self) -> subprocess.Popen[bytes]:
        config = dataclasses.replace(self.config, reload=False)
        env = dict(os.environ)
        env[CONFIG_ENV] = encode_config(config)
        env[FDS_ENV] = ",".join(map(str, self.listeners.fds()))
        # A .pyc is trusted when the source's mtime (in whole seconds) and size
        # match: an edit within the same second that keeps the size would be
        # served from the stale .pyc. Writing none keeps every reload honest.
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        self.out.flush()
        return subprocess.Popen(
            [sys.executable, "-c", "from sockweb.server.reload import child; child()"],
            env=env, pass_fds=self.listeners.fds())

    def _stop(self, child: subprocess.Popen[bytes]) -> None:
        """SIGTERM, then wait while the child drains, still listening for signals:
        Ctrl-C during a reload stops everything, a second one cuts the drain short."""
        if child.poll() is not None:
            return  # it died on its own (say, a syntax error at import)
        child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.config.graceful_timeout + KILL_MARGIN
        while child.poll() is None:
            if time.monotonic() > deadline:
                child.kill()
                break
            try:
                kind, _ = self.events.get(timeout=0.05)
            except queue.Empty:
                continue
            if kind != "signal":
                continue  # the next child reads the newest code anyway
            if self.stopping:
                child.send_signal(signal.SIGTERM)  # a second time: it drops its connections
            else:
                self._begin_shutdown()
        child.wait()


def child() -> None:
    """The reloaded process: serve the inherited sockets until the reloader says stop."""
    config = decode_config(os.environ.pop(CONFIG_ENV))
    fds = [int(fd) for fd in os.environ.pop(FDS_ENV).split(",")]
    # Ctrl-C reaches the whole process group; the reloader alone decides.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The same logging as `sockweb serve` sets up (cli.py).
    logging.basicConfig(stream=sys.stderr, format="sockweb: %(message)s",
                        level=logging.INFO if config.verbose else logging.WARNING)

    def ready(serving: str) -> None:
        print(f"{serving}; press Ctrl-C to stop", flush=True)

    try:
        listeners = adopt_all(fds, "the reloader's socket", config)
        code = serve(config, listeners, sys.stdout, Supervised(os.getppid(), ready))
    except SockwebError as exc:
        print(f"sockweb: {exc}; waiting for a change", file=sys.stderr, flush=True)
        code = 2
    sys.exit(code)
