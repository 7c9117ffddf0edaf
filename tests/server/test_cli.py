"""``sockweb serve`` as a user meets it: defaults, banner, errors, signals, drain."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.conftest import ServerProcess, raw_exchange, split_responses


def run_cli(*args: str, timeout: float = 10) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sockweb", *args], capture_output=True,
                          text=True, timeout=timeout)


def test_defaults_are_the_seeds() -> None:
    from sockweb.server.config import ServerConfig

    config = ServerConfig()
    assert (config.host, config.port, config.directory) == ("localhost", 9000, ".")


def test_console_script_and_module_agree() -> None:
    out = run_cli("--version")
    assert out.returncode == 0 and out.stdout.startswith("sockweb ")
    script = Path(sys.executable).with_name("sockweb")
    assert subprocess.run([str(script), "--version"], capture_output=True, text=True,
                          timeout=10).stdout == out.stdout


def test_missing_directory_is_one_line_exit_2(tmp_path: Path) -> None:
    out = run_cli("serve", str(tmp_path / "nope"), "--port", "0")
    assert out.returncode == 2
    assert out.stderr.strip() == f"sockweb: no such directory: {tmp_path / 'nope'}"
    assert "Traceback" not in out.stderr


def test_static_without_app_is_refused_not_ignored(tmp_path: Path) -> None:
    out = run_cli("serve", "--static", f"/static={tmp_path}", "--port", "0")
    assert out.returncode == 2
    assert out.stderr.strip() == ("sockweb: --static mounts files beside an --app; "
                                  "to serve a directory alone: sockweb serve DIR")


def test_file_as_directory_is_one_line_exit_2(tmp_path: Path) -> None:
    f = tmp_path / "f.txt"
    f.write_text("x")
    out = run_cli("serve", str(f), "--port", "0")
    assert out.returncode == 2
    assert out.stderr.strip() == f"sockweb: not a directory: {f}"


def test_port_in_use_is_one_line_exit_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = run_cli("serve", str(tmp_path), "--host", "127.0.0.1", "--port", str(port))
    assert out.returncode == 2
    assert out.stderr.strip() == (
        f"sockweb: cannot listen on 127.0.0.1:{port}: address already in use")


def test_unresolvable_host_is_one_line_exit_2(tmp_path: Path) -> None:
    out = run_cli("serve", str(tmp_path), "--host", "no-such-host.invalid", "--port", "0")
    assert out.returncode == 2
    assert out.stderr.startswith("sockweb: cannot resolve host 'no-such-host.invalid'")
    assert len(out.stderr.strip().splitlines()) == 1


def test_port_zero_banner_names_the_real_port(start_server, site: Path) -> None:  # type: ignore[no-untyped-def]
    server: ServerProcess = start_server(str(site))
    assert server.port > 0
    assert server.lines[0] == f"Access http://127.0.0.1:{server.port}"


def test_localhost_binds_every_address_on_one_port(tmp_path: Path) -> None:
    from sockweb.server.listener import bind_sockets

    sockets = bind_sockets("localhost", 0)
    try:
        ports = {s.getsockname()[1] for s in sockets}
        assert len(ports) == 1
    finally:
        for s in sockets:
            s.close()


def test_verbose_prints_request_head(start_server, site: Path) -> None:  # type: ignore[no-untyped-def]
    server: ServerProcess = start_server(str(site), "-v")
    raw_exchange(server.port, b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nX-Test: yes\r\n"
                 b"Connection: close\r\n\r\n")
    out = server.wait_for_output("X-Test: yes")
    assert "> GET /hello.txt HTTP/1.1" in out
    assert '"GET /hello.txt HTTP/1.1" 200 13' in out


def test_no_access_log(start_server, site: Path) -> None:  # type: ignore[no-untyped-def]
    server: ServerProcess = start_server(str(site), "--no-access-log")
    raw_exchange(server.port, b"GET /hello.txt HTTP/1.0\r\n\r\n")
    server.stop()
    assert not any("GET /hello.txt" in line for line in server.lines)


def test_sigterm_shuts_down_cleanly(start_server, site: Path) -> None:  # type: ignore[no-untyped-def]
    server: ServerProcess = start_server(str(site))
    idle = socket.create_connection(("127.0.0.1", server.port))
    raw_exchange(server.port, b"GET / HTTP/1.0\r\n\r\n")
    started = time.monotonic()
    assert server.stop(signal.SIGTERM) == 0
    # An idle keep-alive connection does not hold the shutdown up.
    assert time.monotonic() - started < 3
    assert "Shutting down..." in server.lines
    idle.settimeout(2)
    assert idle.recv(10) == b""
    idle.close()
    # The listening socket is closed: nobody answers any more.
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", server.port)) != 0


def test_response_in_flight_finishes_on_shutdown(start_server, site: Path) -> None:  # type: ignore[no-untyped-def]
    """Ctrl-C while a large body is being sent: the body still arrives whole."""
    # Larger than loopback's socket buffers, so the body is still going out
    # when the signal arrives.
    (site / "huge.bin").write_bytes(os.urandom(1024 * 1024) * 32)
    server: ServerProcess = start_server(str(site))
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    sock.sendall(b"GET /huge.bin HTTP/1.1\r\nHost: x\r\n\r\n")
    first = sock.recv(4096)
    assert first.startswith(b"HTTP/1.1 200 OK")
    os.kill(server.proc.pid, signal.SIGINT)
    time.sleep(0.3)
    data = [first]
    while chunk := sock.recv(65536):
        data.append(chunk)
    sock.close()
    ((status, headers, body),) = split_responses(b"".join(data))
    assert status == 200 and headers.get("connection") != "close"  # decided before the signal
    assert body == (site / "huge.bin").read_bytes()
    assert server.proc.wait(10) == 0


def _as_nobody(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``sockweb`` as uid 65534: root would be allowed everything."""
    if os.geteuid() == 0:
        prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    else:
        prefix = []
    return subprocess.run([*prefix, sys.executable, "-m", "sockweb", *args],
                          capture_output=True, text=True, timeout=10)


def test_unreadable_directory_is_one_line_exit_2() -> None:
    # Not under tmp_path: its parents are private to root, so nobody would
    # not even see the directory.
    with tempfile.TemporaryDirectory() as parent:
        os.chmod(parent, 0o755)
        locked = Path(parent) / "locked"
        locked.mkdir(mode=0o000)
        out = _as_nobody("serve", str(locked), "--port", "0")
        unseen = _as_nobody("serve", str(locked / "below"), "--port", "0")
        locked.chmod(0o755)
    assert out.returncode == 2
    assert out.stderr.strip() == f"sockweb: permission denied: {locked}"
    assert unseen.returncode == 2
    assert unseen.stderr.strip() == f"sockweb: permission denied: {locked / 'below'}"


def test_privileged_port_is_one_line_exit_2() -> None:
    out = _as_nobody("serve", "--hello", "--host", "127.0.0.1", "--port", "80")
    assert out.returncode == 2
    assert out.stderr.strip() == (
        "sockweb: cannot listen on 127.0.0.1:80: permission denied (ports below 1024 need root)")


def test_backlog_setting_reaches_listen(start_server: object) -> None:
    """--backlog is the listen() queue: ss shows it as the Send-Q of the socket."""
    import shutil

    assert shutil.which("ss"), "ss (iproute2) is needed; .ci/run installs it"
    for args, expected in ((["--hello"], 2048), (["--hello", "--backlog", "37"], 37)):
        server = start_server(*args)  # type: ignore[operator]
        out = subprocess.run(["ss", "-ltnH", f"sport = :{server.port}"], capture_output=True,
                             text=True, timeout=10).stdout
        queues = {int(line.split()[2]) for line in out.splitlines() if line.strip()}
        assert queues == {min(expected, somaxconn())}, out
        server.stop()


def somaxconn() -> int:
    with open("/proc/sys/net/core/somaxconn") as f:
        return int(f.read())


def _open_files_limit(pid: int) -> tuple[int, int]:
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                soft, hard = line.split()[3:5]
                return int(soft), int(hard)
    raise AssertionError("no open-files line")


def _serve_with_limit(limit: str, site: Path, *args: str) -> ServerProcess:
    """``sockweb serve`` started under ``prlimit --nofile=limit`` (util-linux)."""
    command = ["prlimit", f"--nofile={limit}", sys.executable, "-m", "sockweb", "serve",
               "--host", "127.0.0.1", "--port", "0", *args, str(site)]
    return ServerProcess([], command=command)


def test_a_low_open_files_limit_is_raised_for_limit_concurrency(site: Path) -> None:
    """1024 connections (the default --limit-concurrency) need as many descriptors:
    the soft limit is raised within the hard one, so the 503 past the limit is what
    a client gets, not a refused accept()."""
    server = _serve_with_limit("256:4096", site)
    try:
        soft, hard = _open_files_limit(server.pid)
        assert hard == 4096 and 1024 < soft <= 4096, (soft, hard)
        # 300 connections at once, past the limit the process started with.
        held = [socket.create_connection(("127.0.0.1", server.port), timeout=5)
                for _ in range(300)]
        try:
            answer = raw_exchange(server.port, b"GET /hello.txt HTTP/1.0\r\n\r\n")
            status, _, body = split_responses(answer)[0]
            assert (status, body) == (200, b"hello, world\n")
        finally:
            for sock in held:
                sock.close()
        assert not any("limit" in line for line in server.errors), server.errors
    finally:
        server.stop()


def test_a_hard_limit_too_low_for_limit_concurrency_is_said_at_start(site: Path) -> None:
    server = _serve_with_limit("256:512", site)
    try:
        assert _open_files_limit(server.pid) == (512, 512)
        time.sleep(0.2)
        assert any("open-file limit is 512" in line and "--limit-concurrency 1024" in line
                   for line in server.errors), server.errors
        assert server.proc.poll() is None  # a warning, not a failure
    finally:
        server.stop()
