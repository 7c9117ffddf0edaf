"""Where sockweb listens: --uds, --fd, systemd socket activation; each over real sockets.

``Sockweb`` here is conftest's ServerProcess with no --host/--port added, for
the tests that say where the server listens (TLS, workers, reload too).
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import ServerProcess, split_responses

TIMEOUT = 10.0
GET = b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


class Sockweb(ServerProcess):
    """``python -m sockweb serve ARGS`` with nothing added: where it listens is
    the test's to say (--uds, --fd, LISTEN_FDS, TLS)."""

    def __init__(self, *args: str, env: dict[str, str] | None = None,
                 pass_fds: tuple[int, ...] = (), cwd: str | None = None,
                 command: list[str] | None = None, wait: bool = True) -> None:
        super().__init__(list(args), cwd, env=env, pass_fds=pass_fds, command=command,
                         local=False, ready="Serving " if wait else None)


@pytest.fixture
def launch() -> Iterator[Callable[..., Sockweb]]:
    started: list[Sockweb] = []

    def start(*args: str, wait: bool = True, **kwargs: object) -> Sockweb:
        server = Sockweb(*args, wait=False, **kwargs)  # type: ignore[arg-type]
        started.append(server)  # stopped even if it never says "Serving"
        if wait:
            server.wait_for("Serving ")
        return server

    yield start
    for server in started:
        server.stop(signal.SIGKILL if server.proc.poll() is None else signal.SIGINT)


def exchange(address: str | tuple[str, int], data: bytes = GET) -> bytes:
    family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(TIMEOUT)
        sock.connect(address)
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def run_cli(*args: str, pass_fds: tuple[int, ...] = (),
            stdin: int | None = None) -> subprocess.CompletedProcess[str]:
    """``sockweb serve ARGS`` that is expected to fail at once."""
    return subprocess.run([sys.executable, "-m", "sockweb", "serve", *args], stdin=stdin,
                          capture_output=True, text=True, timeout=TIMEOUT, pass_fds=pass_fds)


def listening_socket(family: int = socket.AF_INET, where: str = "127.0.0.1") -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.bind((where, 0) if family == socket.AF_INET else where)
    sock.listen(16)
    return sock


# -- --uds ---------------------------------------------------------------------
def test_uds_serves_and_names_itself_in_the_banner(launch, site: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = str(tmp_path / "s.sock")
    server = launch("--uds", path, str(site))
    assert server.access == [f"unix:{path}"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666, "a proxy's user can connect"
    [(status, _, body)] = split_responses(exchange(path))
    assert (status, body) == (200, b"hello, world\n")
    out = subprocess.run(["curl", "-sS", "--unix-socket", path, "http://localhost/hello.txt"],
                         capture_output=True, timeout=TIMEOUT)
    assert out.stdout == b"hello, world\n"
    assert server.stop() == 0
    assert not os.path.exists(path), "the socket file is removed on exit"


def test_uds_replaces_a_stale_socket_file(launch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = str(tmp_path / "stale.sock")
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(path)  # a server that died without removing its file
    dead.close()
    assert os.path.exists(path)
    server = launch("--uds", path, "--hello")
    assert b"Hello World" in exchange(path, b"GET / HTTP/1.0\r\n\r\n")
    server.stop()


def test_uds_never_removes_a_regular_file(tmp_path: Path) -> None:
    path = tmp_path / "precious.txt"
    path.write_text("keep me")
    out = run_cli("--uds", str(path), "--hello")
    assert out.returncode == 2
    assert out.stderr.strip() == (
        f"sockweb: cannot listen on unix:{path}: a file that is not a socket is there")
    assert path.read_text() == "keep me"


def test_uds_in_use_is_one_line_exit_2(tmp_path: Path) -> None:
    path = str(tmp_path / "live.sock")
    with listening_socket(socket.AF_UNIX, path):
        out = run_cli("--uds", path, "--hello")
    assert out.returncode == 2
    assert out.stderr.strip() == f"sockweb: cannot listen on unix:{path}: address already in use"


def test_uds_in_a_missing_directory_is_one_line_exit_2(tmp_path: Path) -> None:
    path = str(tmp_path / "nope" / "s.sock")
    out = run_cli("--uds", path, "--hello")
    assert out.returncode == 2
    assert out.stderr.strip() == f"sockweb: cannot listen on unix:{path}: no such directory"


# -- --fd ------------------------------------------------------------------------
def test_fd_serves_an_inherited_socket(launch, site: Path) -> None:  # type: ignore[no-untyped-def]
    with listening_socket() as sock:
        port = sock.getsockname()[1]
        server = launch("--fd", str(sock.fileno()), str(site), pass_fds=(sock.fileno(),))
        assert server.access == [f"http://127.0.0.1:{port}"]
        [(status, _, body)] = split_responses(exchange(("127.0.0.1", port)))
        assert (status, body) == (200, b"hello, world\n")
        assert server.stop() == 0


def test_fd_that_is_bound_but_not_listening_is_listened_on(launch) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        server = launch("--fd", str(sock.fileno()), "--hello", pass_fds=(sock.fileno(),))
        assert b"Hello World" in exchange(("127.0.0.1", server.port), b"GET / HTTP/1.0\r\n\r\n")


def test_fd_that_is_no_socket_is_one_line_exit_2(tmp_path: Path) -> None:
    with open(tmp_path / "f", "w") as f:
        fd = f.fileno()
        out = run_cli("--fd", str(fd), "--hello", pass_fds=(fd,))
    assert out.returncode == 2
    assert out.stderr.strip() == f"sockweb: cannot listen on --fd {fd}: not a socket"
    out = run_cli("--fd", "99", "--hello")
    assert out.returncode == 2
    assert out.stderr.strip() == "sockweb: cannot listen on --fd 99: no such open descriptor"


def test_uds_and_fd_together_is_one_line_exit_2(tmp_path: Path) -> None:
    out = run_cli("--fd", "3", "--uds", str(tmp_path / "s"), "--hello")
    assert out.returncode == 2
    assert "--uds and --fd cannot be used together" in out.stderr


# -- systemd socket activation -------------------------------------------------
# As systemd does it: descriptors moved to 3, 4, ..., LISTEN_PID set to the pid
# that then exec()s the server (a tiny Python stand-in for systemd's fork+exec).
ACTIVATE = (
    "import fcntl, os, sys\n"
    "fds = [int(fd) for fd in sys.argv[1].split(',')]\n"
    "high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 100) for fd in fds]  # out of the way\n"
    "for i, fd in enumerate(high): os.dup2(fd, 3 + i)  # inheritable\n"
    "os.environ.update(LISTEN_FDS=str(len(fds)), LISTEN_PID=str(os.getpid()))\n"
    "os.execv(sys.executable, [sys.executable, '-m', 'sockweb', 'serve', *sys.argv[2:]])\n"
)


def activated(launch, socks: list[socket.socket], *args: str) -> Sockweb:  # type: ignore[no-untyped-def]
    fds = tuple(s.fileno() for s in socks)
    command = [sys.executable, "-c", ACTIVATE, ",".join(map(str, fds)), *args]
    return launch(command=command, pass_fds=fds)  # type: ignore[no-any-return]


def test_systemd_socket_activation(launch, site: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = str(tmp_path / "act.sock")
    with listening_socket() as tcp, listening_socket(socket.AF_UNIX, path) as unix:
        port = tcp.getsockname()[1]
        server = activated(launch, [tcp, unix], str(site), "--port", "1")
        assert server.access == [f"http://127.0.0.1:{port}", f"unix:{path}"]
        for address in (("127.0.0.1", port), path):
            [(status, _, body)] = split_responses(exchange(address))
            assert (status, body) == (200, b"hello, world\n")
        assert server.stop() == 0
        assert os.path.exists(path), "systemd's socket file is not ours to remove"


def test_systemd_variables_for_another_pid_are_ignored(launch) -> None:  # type: ignore[no-untyped-def]
    # LISTEN_PID names someone else (a parent that did not exec us): bind as asked.
    server = launch("--hello", "--host", "127.0.0.1", "--port", "0",
                    env={"LISTEN_FDS": "1", "LISTEN_PID": "1"})
    assert server.access[0].startswith("http://127.0.0.1:")
    assert b"Hello World" in exchange(("127.0.0.1", server.port), b"GET / HTTP/1.0\r\n\r\n")


def test_systemd_fds_are_taken_once() -> None:
    from sockweb.server.sockets import systemd_fds

    env = {"LISTEN_FDS": "2", "LISTEN_PID": str(os.getpid()), "LISTEN_FDNAMES": "a:b"}
    assert systemd_fds(env) == [3, 4]
    assert env == {}, "unset, so that workers and the app's children do not take them again"
    assert systemd_fds({"LISTEN_FDS": "2", "LISTEN_PID": str(os.getpid() + 1)}) == []
