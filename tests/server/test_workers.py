"""--workers N: a pre-fork supervisor, driven with real signals to real processes."""

from __future__ import annotations

import os
import signal
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.server.test_sockets import TIMEOUT, Sockweb, launch, run_cli

__all__ = ["launch"]  # the fixture, shared with test_sockets

APP = '''
import os, time

def app(environ, start_response):
    if environ["PATH_INFO"] == "/slow":
        time.sleep(1.5)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(os.getpid()).encode()]
'''


def children(pid: int) -> set[int]:
    """The live child processes of ``pid``, from /proc."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after its ")".
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry))
    return found


def gone(pid: int) -> bool:
    """Exited (a zombie waiting for init counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def wait_until(check: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def get(server: Sockweb, path: str = "/") -> str:
    url = f"http://127.0.0.1:{server.port}{path}"
    with urllib.request.urlopen(url, timeout=TIMEOUT) as resp:
        body: bytes = resp.read()
    return body.decode()


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    (tmp_path / "pidapp.py").write_text(APP)
    return tmp_path


@pytest.fixture
def workers(launch: Callable[..., Sockweb], app_dir: Path) -> Sockweb:
    server = launch("--host", "127.0.0.1", "--port", "0", "--workers", "3", "--no-access-log",
                    "--app", "pidapp:app", "--app-dir", str(app_dir))
    wait_until(lambda: len(children(server.pid)) == 3)
    return server


def test_banner_once_and_every_worker_answers(workers: Sockweb) -> None:
    assert workers.access == [f"http://127.0.0.1:{workers.port}"]
    assert workers.lines[1].endswith(", 3 workers; press Ctrl-C to stop")
    assert len(workers.lines) == 2
    pids = children(workers.pid)
    seen = {int(get(workers)) for _ in range(60)}
    assert seen <= pids and seen, (seen, pids)


def test_a_killed_worker_is_replaced(workers: Sockweb) -> None:
    before = children(workers.pid)
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: len(now := children(workers.pid)) == 3 and victim not in now)
    after = children(workers.pid)
    assert len(after - before) == 1
    for _ in range(20):
        assert int(get(workers)) in after
    wait_until(lambda: any("was killed by SIGKILL" in line for line in workers.errors))


def test_sigterm_drains_requests_in_flight(workers: Sockweb) -> None:
    answers: list[str] = []
    slow = threading.Thread(target=lambda: answers.append(get(workers, "/slow")))
    slow.start()
    time.sleep(0.3)  # the request is in a worker's hands
    pids = children(workers.pid)
    os.kill(workers.pid, signal.SIGTERM)
    slow.join(TIMEOUT)
    assert answers and int(answers[0]) in pids, "the request in flight was answered"
    assert workers.stop(timeout=TIMEOUT) == 0
    assert workers.lines.count("Shutting down...") == 1
    assert workers.lines[2:] == ["Shutting down..."], "workers print nothing of their own"
    assert all(gone(pid) for pid in pids), "the parent exits after its workers"


def test_sigint_stops_everything(workers: Sockweb) -> None:
    pids = children(workers.pid)
    assert workers.stop(signal.SIGINT) == 0
    assert workers.lines[2:] == ["Shutting down..."]
    assert all(gone(pid) for pid in pids)


def test_sighup_replaces_the_workers_without_refusing_anyone(workers: Sockweb) -> None:
    old = children(workers.pid)
    failures: list[BaseException] = []
    answered: list[int] = []
    done = threading.Event()

    def hammer() -> None:
        while not done.is_set():
            try:
                answered.append(int(get(workers)))
            except (OSError, urllib.error.URLError) as exc:
                failures.append(exc)

    clients = [threading.Thread(target=hammer) for _ in range(4)]
    for client in clients:
        client.start()
    time.sleep(0.3)
    os.kill(workers.pid, signal.SIGHUP)
    try:
        wait_until(lambda: len(now := children(workers.pid)) == 3 and not now & old)
        time.sleep(0.5)  # and a while on the new generation alone
    finally:
        done.set()
        for client in clients:
            client.join(TIMEOUT)
    new = children(workers.pid)
    assert not failures, failures[:3]
    assert set(answered) & old and set(answered) & new, "both generations answered"
    assert set(answered) <= old | new
    assert len(workers.lines) == 2, "nothing printed for a SIGHUP"


def test_an_app_that_cannot_load_is_one_line_exit_2(tmp_path: Path) -> None:
    out = run_cli("--port", "0", "--workers", "2", "--app", "nosuchmodule:app",
                  "--app-dir", str(tmp_path))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert lines == [f"sockweb: cannot import app module 'nosuchmodule': no such module "
                     f"(looked in {tmp_path})"], lines
    assert "Access" not in out.stdout


def test_workers_must_be_positive() -> None:
    out = run_cli("--hello", "--port", "0", "--workers", "0")
    assert (out.returncode, out.stderr.strip()) == (2, "sockweb: --workers must be 1 or more, "
                                                       "not 0")


def test_orphaned_workers_stop_by_themselves(workers: Sockweb) -> None:
    pids = children(workers.pid)
    os.kill(workers.pid, signal.SIGKILL)  # the supervisor dies without a word
    workers.proc.wait(TIMEOUT)
    wait_until(lambda: all(gone(pid) for pid in pids))
