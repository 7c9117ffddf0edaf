"""--reload: edit the app's file, and the next answers come from the new code."""

from __future__ import annotations

import os
import signal
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from sockweb.server.config import ServerConfig
from sockweb.server.reload import decode_config, encode_config, poll_changes
from tests.server.test_sockets import TIMEOUT, Sockweb, launch, run_cli

__all__ = ["launch"]  # the fixture, shared with test_sockets

RELOAD_WITHIN = 15.0  # seconds from saving a file to the new code answering

WSGI = '''
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"%s"]
'''

ASGI = '''
async def app(scope, receive, send):
    assert scope["type"] == "http"
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"%s"})
'''


def get(server: Sockweb) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/", timeout=TIMEOUT) as resp:
        body: bytes = resp.read()
    return body.decode()


def wait_for_body(server: Sockweb, expected: str) -> None:
    deadline = time.monotonic() + RELOAD_WITHIN
    seen = []
    while time.monotonic() < deadline:
        seen.append(get(server))  # never refused: the socket stays open across restarts
        if seen[-1] == expected:
            return
        time.sleep(0.1)
    raise AssertionError(f"never answered {expected!r}: {seen[-3:]} {server.lines} "
                         f"{server.errors}")


@pytest.mark.parametrize("template", [WSGI, ASGI], ids=["wsgi", "asgi"])
def test_an_edit_is_served_after_a_restart(launch: Callable[..., Sockweb], tmp_path: Path,
                                           template: str) -> None:
    source = tmp_path / "devapp.py"
    source.write_text(template % "first")
    server = launch("--host", "127.0.0.1", "--port", "0", "--reload", "--app", "devapp:app",
                    "--app-dir", str(tmp_path))
    port = server.port
    assert server.lines[1].startswith(f"Watching {tmp_path} for changes to .py files")
    assert get(server) == "first"
    source.write_text(template % "second version")
    wait_for_body(server, "second version")
    server.wait_for("Reloading: devapp.py changed")
    server.wait_for("Serving devapp:app", count=2)
    assert server.port == port and server.access == [f"http://127.0.0.1:{port}"]
    assert server.stop() == 0
    assert server.lines.count("Shutting down...") == 1


def test_a_broken_edit_waits_for_the_fix(launch: Callable[..., Sockweb], tmp_path: Path) -> None:
    source = tmp_path / "devapp.py"
    source.write_text(WSGI % "one")
    server = launch("--host", "127.0.0.1", "--port", "0", "--reload", "--app", "devapp:app",
                    "--app-dir", str(tmp_path), "--no-access-log")
    assert get(server) == "one"
    source.write_text("def app(:\n")
    deadline = time.monotonic() + RELOAD_WITHIN
    while not any("SyntaxError" in line for line in server.errors):
        assert time.monotonic() < deadline, server.errors
        time.sleep(0.05)
    assert server.proc.poll() is None, "the reloader keeps watching"
    source.write_text(WSGI % "fixed")
    wait_for_body(server, "fixed")
    assert server.stop(signal.SIGTERM) == 0


def test_children_do_not_outlive_the_reloader(launch: Callable[..., Sockweb],
                                              tmp_path: Path) -> None:
    from tests.server.test_workers import children, gone, wait_until

    (tmp_path / "devapp.py").write_text(WSGI % "x")
    server = launch("--host", "127.0.0.1", "--port", "0", "--reload", "--app", "devapp:app",
                    "--app-dir", str(tmp_path))
    [child] = children(server.pid)
    assert server.stop() == 0
    wait_until(lambda: gone(child))


def test_reload_and_workers_do_not_mix() -> None:
    out = run_cli("--hello", "--port", "0", "--reload", "--workers", "2")
    assert out.returncode == 2
    assert out.stderr.strip() == ("sockweb: --reload runs one server process; "
                                  "leave out --workers")


def test_polling_watcher_sees_edits_additions_and_removals(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("a = 1\n")
    (tmp_path / "notes.txt").write_text("not python\n")
    cache = tmp_path / "__pycache__"
    cache.mkdir()
    stop = threading.Event()
    changes = poll_changes(str(tmp_path), stop, interval=0.05)
    found: list[set[str]] = []

    def collect() -> None:
        found.extend(changes)

    watcher = threading.Thread(target=collect)
    watcher.start()
    try:
        time.sleep(0.2)
        (tmp_path / "notes.txt").write_text("still not python\n")
        (cache / "a.cpython-311.py").write_text("")
        time.sleep(0.2)
        assert found == [], "only .py files outside caches count"
        (tmp_path / "a.py").write_text("a = 22\n")
        _wait(lambda: found == [{str(tmp_path / "a.py")}])
        (tmp_path / "b.py").write_text("")
        os.unlink(tmp_path / "a.py")
        _wait(lambda: set().union(*found[1:]) == {str(tmp_path / "a.py"),
                                                  str(tmp_path / "b.py")})
    finally:
        stop.set()
        watcher.join(TIMEOUT)


def _wait(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not check():
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_config_goes_to_the_child_whole() -> None:
    config = ServerConfig(app="x:y", static=("/s=.",), port=0, uds=None, fd=5,
                          forwarded_allow_ips="10.0.0.0/8")
    assert decode_config(encode_config(config)) == config
