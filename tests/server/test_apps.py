"""Real frameworks and the ``--app`` command line, end to end.

Flask (WSGI, PEP 3333) and Starlette (ASGI 3) apps served by ``sockweb serve``
and driven by httpx, http.client and curl; then the CLI's app loading
(``--app``, ``--factory``, ``--interface``) and ``--static`` beside an app.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ServerProcess
from tests.server.apphelp import (
    Wire,
    get,
    module_server,
    run_serve,
    serve,
    wait_for_file,
)

CURL = shutil.which("curl") or "/usr/bin/curl"


def curl(*args: str, timeout: float = 15) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([CURL, "-sS", "--max-time", "10", *args], capture_output=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def flask_server() -> Iterator[ServerProcess]:
    server = module_server("--app", "flask_app:app", "--limit-body", str(16 * 1024 * 1024))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def starlette_server() -> Iterator[ServerProcess]:
    server = module_server("--app", "starlette_app:app", "--limit-body",
                           str(16 * 1024 * 1024))
    yield server
    server.stop()


# -- Flask (WSGI) --------------------------------------------------------------------------


def test_flask_form_post(flask_server: ServerProcess) -> None:
    """An application/x-www-form-urlencoded POST (HTML forms) through httpx."""
    r = httpx.post(f"{flask_server.url}/form",
                   data={"name": "Ada Lovelace", "langs": ["py", "c"], "note": "a&b=c é"})
    assert r.status_code == 200
    assert r.json()["form"] == {"name": ["Ada Lovelace"], "langs": ["py", "c"],
                                "note": ["a&b=c é"]}
    assert r.json()["content_type"] == "application/x-www-form-urlencoded"


def test_flask_file_upload_with_httpx(flask_server: ServerProcess) -> None:
    """multipart/form-data (RFC 7578): a 2 MiB file and a field arrive intact."""
    data = os.urandom(2 * 1024 * 1024)
    r = httpx.post(f"{flask_server.url}/upload",
                   files={"doc": ("report.bin", data, "application/octet-stream")},
                   data={"title": "quarterly"}, timeout=10)
    assert r.status_code == 200
    doc = r.json()["files"]["doc"]
    assert doc == {"filename": "report.bin", "size": len(data),
                   "sha256": hashlib.sha256(data).hexdigest(),
                   "content_type": "application/octet-stream"}
    assert r.json()["fields"] == {"title": "quarterly"}


def test_flask_file_upload_with_curl(flask_server: ServerProcess, tmp_path: Path) -> None:
    """curl -F: a multipart upload that curl sends with Expect: 100-continue
    (bodies over 1 MiB), so the server's 100 Continue is part of the test."""
    path = tmp_path / "photo.jpg"
    data = os.urandom(1536 * 1024)
    path.write_bytes(data)
    out = curl("-F", f"photo=@{path};type=image/jpeg", "-F", "caption=sunset",
               f"{flask_server.url}/upload")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["files"]["photo"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert result["files"]["photo"]["filename"] == "photo.jpg"
    assert result["files"]["photo"]["content_type"] == "image/jpeg"
    assert result["fields"] == {"caption": "sunset"}


def test_flask_json_with_http_client(flask_server: ServerProcess) -> None:
    """An application/json POST through http.client; the 201 and JSON back."""
    conn = http.client.HTTPConnection("127.0.0.1", flask_server.port, timeout=5)
    try:
        payload = {"items": [1, 2, 3], "name": "naïve", "nested": {"ok": True}}
        conn.request("POST", "/json", body=json.dumps(payload),
                     headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        assert response.status == 201
        assert response.getheader("Content-Type") == "application/json"
        assert json.loads(response.read()) == {"got": payload, "is_json": True}
    finally:
        conn.close()


def test_flask_streaming_generator(flask_server: ServerProcess) -> None:
    """A generator response goes out as it is produced: chunked (RFC 9112 7.1)."""
    with httpx.stream("GET", f"{flask_server.url}/stream?n=50") as r:
        assert r.headers.get("transfer-encoding") == "chunked"
        body = b"".join(r.iter_bytes())
    assert body == "".join(f"row {i}\n" for i in range(50)).encode()


def test_flask_redirects_followed_by_httpx_and_curl(flask_server: ServerProcess) -> None:
    """RFC 9110 15.4.3 (302) and 15.4.4 (303 turns a POST into a GET)."""
    r = httpx.get(f"{flask_server.url}/old", follow_redirects=True)
    assert [h.status_code for h in r.history] == [302]
    assert r.json()["via"] == "old"
    r = httpx.post(f"{flask_server.url}/post-redirect", data={"x": "1"}, follow_redirects=True)
    assert [h.status_code for h in r.history] == [303]
    assert r.request.method == "GET" and r.json()["via"] == "post"
    out = curl("-L", f"{flask_server.url}/old")
    assert json.loads(out.stdout)["via"] == "old"


def test_flask_cookies(flask_server: ServerProcess, tmp_path: Path) -> None:
    """RFC 6265 section 3: each cookie in its own Set-Cookie field (never
    folded into one line), and sent back by httpx's and curl's jars."""
    with httpx.Client(base_url=flask_server.url) as client:
        r = client.get("/cookie/set")
        set_cookies = r.headers.get_list("set-cookie")
        assert len(set_cookies) == 2
        assert any(c.startswith("flavour=oatmeal") and "HttpOnly" in c for c in set_cookies)
        assert client.get("/cookie/get").json() == {"flavour": "oatmeal", "size": "large"}
    jar = tmp_path / "jar.txt"
    curl("-c", str(jar), f"{flask_server.url}/cookie/set")
    out = curl("-b", str(jar), f"{flask_server.url}/cookie/get")
    assert json.loads(out.stdout) == {"flavour": "oatmeal", "size": "large"}


def test_flask_under_a_root_path(start_server: Any) -> None:
    """--root-path is SCRIPT_NAME (PEP 3333): Flask builds its URLs under it."""
    server = serve(start_server, "flask_app:app", "--root-path", "/shop")
    r = httpx.get(f"{server.url}/old")
    assert r.status_code == 302
    assert r.headers["location"] == "/shop/target?via=old"
    r = httpx.get(f"{server.url}/target")
    assert r.json()["script_root"] == "/shop"
    assert r.json()["url"].endswith("/shop/target")


# -- Starlette (ASGI) ----------------------------------------------------------------------


def test_starlette_routes(starlette_server: ServerProcess) -> None:
    base = starlette_server.url
    assert httpx.get(f"{base}/").text == "starlette home\n"
    assert httpx.get(f"{base}/items/42?q=x y").json() == {"id": 42, "q": "x y"}
    assert httpx.get(f"{base}/items/notanint").status_code == 404
    assert httpx.post(f"{base}/").status_code == 405


def test_starlette_request_stream_receives_a_chunked_upload(
        starlette_server: ServerProcess) -> None:
    """request.stream() yields the body as the server hands it over in
    more_body pieces (ASGI "Request - receive event"); httpx sends a
    generator chunked."""
    blocks = [os.urandom(64 * 1024) for _ in range(48)]  # 3 MiB

    def body() -> Iterator[bytes]:
        yield from blocks

    r = httpx.post(f"{starlette_server.url}/upload", content=body(), timeout=10)
    data = b"".join(blocks)
    assert r.json()["size"] == len(data)
    assert r.json()["sha256"] == hashlib.sha256(data).hexdigest()
    assert r.json()["chunks"] > 1


def test_starlette_upload_with_curl(starlette_server: ServerProcess, tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    data = os.urandom(1024 * 1024 + 7)
    path.write_bytes(data)
    out = curl("-T", str(path), f"{starlette_server.url}/upload")
    assert json.loads(out.stdout)["sha256"] == hashlib.sha256(data).hexdigest()


def test_starlette_json(starlette_server: ServerProcess) -> None:
    r = httpx.post(f"{starlette_server.url}/json", json={"a": [1, "two", None]})
    assert r.status_code == 201
    assert r.json() == {"got": {"a": [1, "two", None]}, "content_type": "application/json"}


def test_starlette_streaming_response(starlette_server: ServerProcess) -> None:
    """StreamingResponse: many body messages, chunked, in order."""
    with httpx.stream("GET", f"{starlette_server.url}/stream?n=80") as r:
        assert r.headers.get("transfer-encoding") == "chunked"
        lines = list(r.iter_lines())
    assert lines == [f"line {i}" for i in range(80)]
    out = curl(f"{starlette_server.url}/stream?n=5")
    assert out.stdout == b"line 0\nline 1\nline 2\nline 3\nline 4\n"


def test_starlette_request_state_from_lifespan(starlette_server: ServerProcess) -> None:
    """ASGI Lifespan spec "Lifespan State": the dict the lifespan yields
    reaches every request's scope["state"], so request.state."""
    r = httpx.get(f"{starlette_server.url}/state")
    assert r.json()["db"] == "connected"
    assert r.json()["pid"] == r.json()["server_pid"]


def test_starlette_redirect_and_cookies(starlette_server: ServerProcess) -> None:
    with httpx.Client(base_url=starlette_server.url, follow_redirects=True) as client:
        r = client.get("/redirect")
        assert [h.status_code for h in r.history] == [303]
        assert r.json() == {"id": 7, "q": "redirected"}
        client.get("/cookie/set")
        assert client.get("/cookie/get").json() == {"session": "abc123"}


def test_starlette_keep_alive_with_http_client(starlette_server: ServerProcess) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", starlette_server.port, timeout=5)
    try:
        for i in range(5):
            conn.request("GET", f"/items/{i}")
            assert json.loads(conn.getresponse().read())["id"] == i
            conn.request("GET", "/stream?n=3")
            assert conn.getresponse().read() == b"line 0\nline 1\nline 2\n"
    finally:
        conn.close()


def test_starlette_under_a_root_path(start_server: Any) -> None:
    """ASGI root_path (--root-path): Starlette routes below it and builds URLs
    with it."""
    server = serve(start_server, "starlette_app:app", "--root-path", "/api")
    r = httpx.get(f"{server.url}/where")
    assert r.status_code == 200, r.text
    assert r.json()["root_path"] == "/api"
    assert r.json()["path"] == "/api/where"
    assert r.json()["url_for"].endswith("/api/items/3")


def test_starlette_lifespan_shutdown_on_sigint(start_server: Any, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """ASGI Lifespan spec: SIGINT runs the lifespan's exit (after the yield)."""
    marker = tmp_path / "shutdown.txt"
    monkeypatch.setenv("SOCKWEB_TEST_SHUTDOWN", str(marker))
    server = serve(start_server, "starlette_app:app")
    assert httpx.get(f"{server.url}/state").json()["db"] == "connected"
    assert server.stop(signal.SIGINT) == 0
    assert wait_for_file(marker) == "starlette shutdown\n"


def test_starlette_failing_lifespan_stops_the_server() -> None:
    """A lifespan that raises: Starlette sends lifespan.startup.failed; the
    server stops with one clear line and a non-zero exit."""
    out = run_serve("--app", "starlette_app:failing")
    assert out.returncode != 0
    assert "Traceback" not in out.stderr, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach the database" in lines[0], out.stderr
    assert "Access http" not in out.stdout


# -- the command line -------------------------------------------------------------------


def _refused(out: subprocess.CompletedProcess[str], *words: str) -> str:
    assert out.returncode == 2, (out.returncode, out.stderr)
    assert "Traceback" not in out.stderr, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("sockweb: ")
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def test_cli_no_such_module() -> None:
    _refused(run_serve("--app", "nosuchmodule_sockweb_test:app"),
             "nosuchmodule_sockweb_test")


def test_cli_missing_attribute() -> None:
    _refused(run_serve("--app", "factory:missing"), "factory", "missing")


def test_cli_no_colon() -> None:
    _refused(run_serve("--app", "factory"), "module:attribute")


def test_cli_not_callable() -> None:
    _refused(run_serve("--app", "factory:not_callable"), "not_callable")


def test_cli_error_raised_while_importing() -> None:
    _refused(run_serve("--app", "raises_on_import:app"), "kaboom while importing the app")


def test_cli_missing_dependency_inside_the_module() -> None:
    """An ImportError inside the app module names the missing dependency."""
    _refused(run_serve("--app", "missingdep:app"),
             "missingdep", "sockweb_test_not_installed_dependency")


def test_cli_missing_dependency_whose_name_prefixes_the_module() -> None:
    """``brokenimport`` imports a missing ``broken``: the message must name
    ``broken`` rather than claim that ``brokenimport`` does not exist."""
    line = _refused(run_serve("--app", "brokenimport:app"))
    assert "'broken'" in line, line


def test_cli_factory(start_server: Any) -> None:
    """--factory: the named callable is called once to make the app."""
    server = serve(start_server, "factory:create_app", "--factory")
    assert get(server.port, "/").body == b"made by the factory (call 1)"
    assert get(server.port, "/").body == b"made by the factory (call 1)"
    server.wait_for_output("(ASGI)")


def test_cli_interface_wsgi_forced(start_server: Any) -> None:
    server = serve(start_server, "factory:plain_wsgi", "--interface", "wsgi")
    server.wait_for_output("(WSGI)")
    reply = get(server.port, "/path", method="DELETE")
    assert reply.body == b"wsgi says DELETE /path"


def test_cli_interface_asgi_forced_for_a_plain_function(start_server: Any) -> None:
    """A plain function returning a coroutine looks like WSGI to detection;
    --interface asgi says otherwise."""
    auto = serve(start_server, "factory:disguised")
    auto.wait_for_output("(WSGI)")
    assert get(auto.port, "/").status == 500
    forced = serve(start_server, "factory:disguised", "--interface", "asgi")
    forced.wait_for_output("(ASGI)")
    assert get(forced.port, "/").body == b"asgi, though it does not look it"


@pytest.fixture(scope="module")
def static_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    base = tmp_path_factory.mktemp("mount")
    root = base / "public"
    root.mkdir()
    (root / "hello.txt").write_text("static hello\n")
    (root / "css").mkdir()
    (root / "css" / "site.css").write_text("body { color: red }\n")
    (base / "secret.txt").write_text("TOP SECRET outside the mount\n")
    server = module_server("--app", "asgi_echo:app", "--static", f"/static={root}")
    yield server
    server.stop()


def test_static_mount_beside_an_app(static_server: ServerProcess) -> None:
    """--static /static=DIR: files under the prefix, everything else to the app."""
    base = static_server.url
    r = httpx.get(f"{base}/static/hello.txt")
    assert (r.status_code, r.text) == (200, "static hello\n")
    assert httpx.get(f"{base}/static/css/site.css").text == "body { color: red }\n"
    assert httpx.get(f"{base}/static/nope.txt").status_code == 404
    app = httpx.get(f"{base}/other?x=1")
    assert app.headers["content-type"] == "application/json"
    assert "/other" in app.text
    # A prefix is a path segment: /staticky is the app's.
    assert httpx.get(f"{base}/staticky").headers["content-type"] == "application/json"
    out = curl("-I", f"{base}/static/hello.txt")
    assert b"200" in out.stdout.split(b"\r\n")[0]
    assert b"content-length: 13" in out.stdout.lower()


@pytest.mark.parametrize("target", [
    "/static/../secret.txt",
    "/static/%2e%2e/secret.txt",
    "/static/..%2fsecret.txt",
    "/static/%2e%2e%2fsecret.txt",
    "/static/css/../../secret.txt",
    "/static/..\\secret.txt",
    "/static/../public/../secret.txt",
])
def test_static_mount_cannot_escape(static_server: ServerProcess, target: str) -> None:
    """RFC 3986 section 5.2.4 (dot segments): no request reaches a file outside DIR."""
    with Wire(static_server.port) as wire:
        wire.send(f"GET {target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
        data, _ = wire.read_to_close()
    assert data.startswith(b"HTTP/1.1 "), data[:100]
    assert b"TOP SECRET" not in data
