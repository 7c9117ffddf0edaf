"""User-space instructions per request of sockweb's Python path, counted by callgrind.

    python3 benchmarks/count.py asgi-hello     # or hello, hello-close
    python3 benchmarks/count.py asgi-hello --sockweb-path /tmp/sw   # another copy

Timing the Python of one request in process moves by a few percent from one
run to the next on this machine, as much as most single changes to the hot
path. Counting instructions does not: valgrind's callgrind counts every
user-space instruction, the same to within about 0.2% from run to run. This
feeds the scenario's request to an ``HttpProtocol`` over a do-nothing
transport (no socket, no system calls: the Python path alone) N1 and then N2
times, each in a process of its own under callgrind, and prints
(count(N2) - count(N1)) / (N2 - N1), so start-up and imports cancel out.

- ``hello``: a kept-alive ``GET /`` answered by ``--hello``;
- ``hello-close``: a whole connection (made, one ``Connection: close``
  request, answered, lost) of ``--hello``;
- ``asgi-hello``: a kept-alive ``GET /`` answered by the raw ASGI app of
  benchmarks/harness/apps.py, each in its own Task as under ``sockweb serve``.

Under valgrind the clock runs some fifty times slower than the requests, so
work done once a second (the Date) weighs more here than under load. Needs
valgrind (``apt-get install -y valgrind``). Figures are in PROFILE.md.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SCENARIOS = ("hello", "hello-close", "asgi-hello")
REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"
CLOSING = b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: close\r\n\r\n"


class _Transport:
    """What HttpProtocol asks of a transport, doing nothing."""

    def __init__(self) -> None:
        self.closing = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 5555) if name in ("peername", "sockname") else default

    def write(self, data: bytes) -> None:
        pass

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    abort = close

    def can_write_eof(self) -> bool:
        return True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def inner(scenario: str, count: int) -> None:
    """Run ``count`` requests of ``scenario`` in this process."""
    try:
        import uvloop

        loop = uvloop.new_event_loop()
    except ImportError:
        loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    from sockweb.server.apps import load_app
    from sockweb.server.config import ServerConfig
    from sockweb.server.listener import ServerState, make_handler
    from sockweb.server.protocol import HttpProtocol

    if scenario == "asgi-hello":
        sys.path.insert(0, str(BENCH))
        config = ServerConfig(app="harness.apps:hello_asgi", access_log=False, interface="asgi")
    else:
        config = ServerConfig(hello=True, access_log=False)
    state = ServerState(config, make_handler(config), loop, io.StringIO())
    if config.app is not None:
        state.app = load_app(config)
    if hasattr(state, "plain_tasks"):
        # What Server.start() settles (since 2796d59): this loop is uvloop's
        # or asyncio's own.
        state.plain_tasks = True

    async def drive() -> None:
        if scenario == "hello-close":
            for _ in range(count):
                protocol = HttpProtocol(state)
                protocol.connection_made(_Transport())  # type: ignore[arg-type]
                protocol.data_received(CLOSING)
                protocol.connection_lost(None)
            return
        protocol = HttpProtocol(state)
        protocol.connection_made(_Transport())  # type: ignore[arg-type]
        for _ in range(count):
            protocol.data_received(REQUEST)
            while protocol._busy():  # the app's Task runs on the loop
                await asyncio.sleep(0)

    loop.run_until_complete(drive())


def _instructions(scenario: str, count: int, sockweb_path: Path) -> int:
    with tempfile.TemporaryDirectory(prefix="sockweb-count-") as tmp:
        out = Path(tmp) / "callgrind.out"
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(sockweb_path), str(BENCH)]))
        proc = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
             str(Path(__file__).resolve()), scenario, "--inner", str(count)],
            capture_output=True, text=True, env=env, check=False)
        for line in proc.stderr.splitlines():
            if "Collected :" in line:
                return int(line.rsplit(":", 1)[1].strip())
        raise SystemExit(f"callgrind gave no count:\n{proc.stderr[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", choices=SCENARIOS)
    parser.add_argument("--sockweb-path", type=Path, default=ROOT,
                        help="the directory holding the sockweb package (default: this tree)")
    parser.add_argument("--requests", type=int, nargs=2, default=(2000, 6000),
                        metavar=("N1", "N2"), help="the two runs' request counts")
    parser.add_argument("--inner", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner is not None:
        inner(args.scenario, args.inner)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("count.py needs valgrind: apt-get install -y valgrind")
    first, second = args.requests
    low = _instructions(args.scenario, first, args.sockweb_path)
    high = _instructions(args.scenario, second, args.sockweb_path)
    unit = "connection" if args.scenario == "hello-close" else "request"
    print(f"{args.scenario}: {(high - low) / (second - first):,.0f} user-space instructions "
          f"per {unit} ({args.sockweb_path}, {sys.executable})")


if __name__ == "__main__":
    main()
