"""``--static PREFIX=DIR`` beside an app, and directory listings, over real sockets.

Two servers on 127.0.0.1 with ephemeral ports: an ASGI app with ``/static``
mounted beside it, and plain ``sockweb serve DIR``. nginx, where installed,
is the reference for both: ``location /static/ { root ...; autoindex on; }``.

A mount is a URL prefix: every URL the files write (a redirect's Location, a
listing's title and links) must stay under it, as nginx's do. A listing has
no ETag and no Last-Modified, so of the preconditions only the ``*`` forms
can decide anything (RFC 9110 sections 13.1.1 and 13.1.2).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from tests.client.conftest import stop
from tests.conftest import ServerProcess
from tests.server.apphelp import Reply, Wire, get, module_server

BIG = bytes(range(256)) * 400 + b"tail"  # 102404 bytes: past the 64 KiB read into memory
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx")
                                  else None)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``base/static`` is the mounted directory (nginx's ``root`` is ``base``)."""
    base = tmp_path_factory.mktemp("mounts")
    root = base / "static"
    root.mkdir()
    (root / "top.txt").write_bytes(b"top\n")
    (root / "big.bin").write_bytes(BIG)
    (root / "sub").mkdir()
    (root / "sub" / "f.txt").write_bytes(b"f\n")
    (root / "site").mkdir()
    (root / "site" / "index.html").write_bytes(b"<!doctype html><title>site</title>\n")
    (base / "secret.txt").write_bytes(b"TOP SECRET outside the mount\n")
    return base


@pytest.fixture(scope="module")
def mounted(tree: Path) -> Iterator[ServerProcess]:
    server = module_server("--app", "asgi_echo:app", "--static", f"/static={tree / 'static'}")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def plain(tree: Path) -> Iterator[ServerProcess]:
    """``sockweb serve base``: the same files at the same URLs, with no app."""
    server = ServerProcess(["--no-access-log", str(tree)])
    yield server
    server.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def nginx(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """nginx with ``location /static/`` over the same tree; its port."""
    if NGINX is None:
        pytest.fail("nginx is not installed (.ci/run installs it)")
    work = tmp_path_factory.mktemp("nginx-mounts")
    for d in ("logs", "tmp"):
        (work / d).mkdir()
    port = _free_port()
    temp = " ".join(f"{k}_temp_path {work}/tmp;"
                    for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (work / "nginx.conf").write_text(f"""
daemon off; master_process off; worker_processes 1; pid {work}/nginx.pid;
error_log {work}/logs/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off; {temp}
    server {{
        listen 127.0.0.1:{port};
        location /static/ {{ root {tree}; autoindex on; }}
        location / {{ return 200 "app\\n"; }}
    }}
}}
""")
    proc = subprocess.Popen([NGINX, "-c", str(work / "nginx.conf"), "-p", str(work)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while True:
            if proc.poll() is not None:
                pytest.fail(f"nginx did not start: {proc.stderr.read()!r}")  # type: ignore[union-attr]
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                pytest.fail("nginx is not listening")
            time.sleep(0.05)
        yield port
    finally:
        stop(proc, signal.SIGQUIT)


def _location_path(reply: Reply) -> str:
    """The Location's path and query (nginx writes an absolute URI, sockweb a path)."""
    location = reply.header("Location")
    assert location is not None, reply
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _title(reply: Reply) -> str:
    match = re.search(rb"<title>([^<]*)</title>", reply.body)
    assert match is not None, reply.body[:300]
    return match[1].decode()


def _hrefs(reply: Reply) -> list[str]:
    return [h.decode() for h in re.findall(rb'href="([^"]*)"', reply.body)]


# -- the redirect of a directory asked for without its slash ----------------------------


@pytest.mark.parametrize(("target", "location"), [
    ("/static/sub", "/static/sub/"),
    ("/static/sub?a=1&b=%20", "/static/sub/?a=1&b=%20"),
    ("/static", "/static/"),
    ("/static?x=1", "/static/?x=1"),
])
def test_directory_redirect_stays_inside_the_mount_rfc9110_15_4_2(
    mounted: ServerProcess, target: str, location: str
) -> None:
    """RFC 9110 section 15.4.2 (301): the Location is the URL asked for plus "/",
    prefix included, query kept; "/static" itself is the mount's directory."""
    for method in ("GET", "HEAD"):
        reply = get(mounted.port, target, method=method)
        assert reply.status == 301, reply
        assert reply.header("Location") == location


@pytest.mark.parametrize("target", ["/static/sub", "/static/sub?a=1", "/static/site"])
def test_directory_redirect_matches_nginx(mounted: ServerProcess, nginx: int,
                                          target: str) -> None:
    ours, theirs = get(mounted.port, target), get(nginx, target)
    assert (ours.status, theirs.status) == (301, 301)
    assert _location_path(ours) == _location_path(theirs)


def test_redirect_under_a_mount_is_never_to_another_host(mounted: ServerProcess) -> None:
    """RFC 3986 section 4.2: a Location starting "//" would name another host."""
    for target in ("/static//sub", "/static/sub/..", "/static/.//sub"):
        reply = get(mounted.port, target)
        if reply.status == 301:
            location = reply.header("Location")
            assert location is not None
            assert location.startswith("/static/") and not location.startswith("//")


def test_other_methods_on_the_mount_itself_are_405_rfc9110_15_5_6(
    mounted: ServerProcess,
) -> None:
    reply = get(mounted.port, "/static", method="POST", headers="Content-Length: 0\r\n")
    assert reply.status == 405
    assert reply.header("Allow") == "GET, HEAD, OPTIONS"


# -- listings under the mount -----------------------------------------------------------


@pytest.mark.parametrize(("target", "title"), [
    ("/static/", "Index of /static/"),
    ("/static/sub/", "Index of /static/sub/"),
])
def test_listing_title_is_the_full_path(mounted: ServerProcess, target: str,
                                        title: str) -> None:
    reply = get(mounted.port, target)
    assert reply.status == 200
    assert _title(reply) == title


@pytest.mark.parametrize("target", ["/static/", "/static/sub/"])
def test_listing_matches_nginx_autoindex(mounted: ServerProcess, nginx: int,
                                         target: str) -> None:
    """The same title and the same links (nginx also links "../" at the mount's top)."""
    ours, theirs = get(mounted.port, target), get(nginx, target)
    assert (ours.status, theirs.status) == (200, 200)
    assert _title(ours) == _title(theirs)
    assert sorted(_hrefs(ours)) == sorted(_hrefs(theirs))


def test_listing_links_resolve_inside_the_mount(mounted: ServerProcess) -> None:
    """Every link but "../" of /static/, resolved per RFC 3986 section 5.2, is a
    file of the mount, not a path the app answers."""
    page = f"{mounted.url}/static/"
    reply = get(mounted.port, "/static/")
    links = [h for h in _hrefs(reply) if h != "../"]
    assert sorted(links) == ["big.bin", "site/", "sub/", "top.txt"]
    for href in links:
        path = urlsplit(urljoin(page, href)).path
        assert path.startswith("/static/")
        followed = get(mounted.port, path)
        assert followed.status == 200, (href, followed)
        assert followed.header("Content-Type") != "application/json"  # not the app's


# -- files under the mount: unchanged ---------------------------------------------------


def test_files_under_the_mount_are_byte_exact(mounted: ServerProcess, tree: Path) -> None:
    """Small (read into memory) and large (sendfile) files, twice on one connection
    (the second from the caches), a range, and the index.html of a directory."""
    with Wire(mounted.port) as wire:
        for _ in range(2):
            for name, data in (("top.txt", b"top\n"), ("big.bin", BIG),
                               ("sub/f.txt", b"f\n")):
                wire.send(f"GET /static/{name} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
                reply = wire.response()
                assert (reply.status, reply.complete) == (200, True), name
                assert reply.body == data, name
                assert reply.header("Content-Length") == str(len(data))
    ranged = get(mounted.port, "/static/big.bin", headers="Range: bytes=100-199\r\n")
    assert (ranged.status, ranged.body) == (206, BIG[100:200])
    index = get(mounted.port, "/static/site/")
    assert index.body == (tree / "static" / "site" / "index.html").read_bytes()


@pytest.mark.parametrize("target", [
    "/static/..%2f",
    "/static/..%2fsecret.txt",
    "/static/%2e%2e/secret.txt",
    "/static/%2e%2e",
    "/static/sub/..%2f..%2fsecret.txt",
    "/static/..",
    "/static/sub/../../secret.txt",
])
def test_traversal_out_of_the_mount_is_refused(mounted: ServerProcess, target: str) -> None:
    """RFC 3986 section 5.2.4: nothing outside DIR is served, listed or redirected to."""
    reply = get(mounted.port, target)
    assert reply.status in (400, 404), reply
    assert b"TOP SECRET" not in reply.body
    assert reply.header("Location") is None


# -- listings and preconditions (RFC 9110 section 13), mounted or not -------------------


LISTINGS = [("plain", "/static/sub/"), ("mounted", "/static/sub/")]
FUTURE = "Fri, 01 Jan 2100 00:00:00 GMT"
PAST = "Mon, 01 Jan 1990 00:00:00 GMT"


def _server(request: pytest.FixtureRequest, name: str) -> ServerProcess:
    server: ServerProcess = request.getfixturevalue(name)
    return server


@pytest.mark.parametrize(("server", "target"), LISTINGS)
@pytest.mark.parametrize(("fields", "status"), [
    # 13.1.1: false when no current representation's entity tag matches; a
    # listing has none, so every list of tags fails, and "*" holds.
    ('If-Match: "nope"\r\n', 412),
    ('If-Match: "a", W/"b"\r\n', 412),
    ("If-Match: *\r\n", 200),
    # 13.1.2: "*" is false for any current representation -> 304 for GET/HEAD;
    # a specific tag can never match one without an ETag.
    ("If-None-Match: *\r\n", 304),
    ('If-None-Match: "x"\r\n', 200),
    # 13.2.2: a failed If-Match wins over If-None-Match.
    ('If-Match: "nope"\r\nIf-None-Match: *\r\n', 412),
    # 13.1.3 and 13.1.4: no modification date available -> MUST ignore both
    # (nginx's autoindex answers 412 to any If-Unmodified-Since here).
    (f"If-Modified-Since: {FUTURE}\r\n", 200),
    (f"If-Unmodified-Since: {PAST}\r\n", 200),
    (f"If-Unmodified-Since: {FUTURE}\r\n", 200),
    # 13.2.2: If-None-Match is evaluated instead of If-Modified-Since.
    (f"If-None-Match: *\r\nIf-Modified-Since: {PAST}\r\n", 304),
])
def test_listing_preconditions_rfc9110_13_1(request: pytest.FixtureRequest, server: str,
                                            target: str, fields: str, status: int) -> None:
    port = _server(request, server).port
    for method in ("GET", "HEAD"):
        reply = get(port, target, headers=fields, method=method)
        assert reply.status == status, (method, fields, reply)
        if status == 304:
            # 15.4.5: no content, and no validators a listing does not have.
            assert reply.body == b""
            assert reply.header("ETag") is None and reply.header("Content-Type") is None
        if status == 200 and method == "GET":
            assert b"f.txt" in reply.body


@pytest.mark.parametrize("fields", [
    'If-Match: "nope"', "If-Match: *", "If-None-Match: *", 'If-None-Match: "x"',
    f"If-Modified-Since: {FUTURE}",
])
def test_listing_preconditions_match_nginx(mounted: ServerProcess, nginx: int,
                                           fields: str) -> None:
    """The fields where RFC 9110 and nginx agree (not If-Unmodified-Since, above)."""
    ours = get(mounted.port, "/static/sub/", headers=fields + "\r\n")
    theirs = get(nginx, "/static/sub/", headers=fields + "\r\n")
    assert ours.status == theirs.status


def test_index_html_keeps_the_file_preconditions(mounted: ServerProcess) -> None:
    """A directory with index.html is that file: its ETag and date decide."""
    first = get(mounted.port, "/static/site/")
    etag, modified = first.header("ETag"), first.header("Last-Modified")
    assert etag and modified
    assert get(mounted.port, "/static/site/", headers=f"If-None-Match: {etag}\r\n").status == 304
    assert get(mounted.port, "/static/site/",
               headers=f"If-Modified-Since: {modified}\r\n").status == 304
    assert get(mounted.port, "/static/site/",
               headers=f"If-Unmodified-Since: {PAST}\r\n").status == 412
    assert get(mounted.port, "/static/site/", headers='If-None-Match: "x"\r\n').status == 200
