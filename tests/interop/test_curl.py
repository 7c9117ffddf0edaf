"""The real ``curl`` binary against ``sockweb serve DIR``.

curl is the reference client people reach for first: if it reuses the
connection, resumes a download, asks for ranges or sends ``Expect:
100-continue``, the server must answer the way RFC 9110/9112 say.
Every curl run is bounded by a subprocess timeout.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ServerProcess

CURL = "/usr/bin/curl"
CURL_TIMEOUT = 30.0
BIG = bytes(range(256)) * 4096  # what the `site` fixture writes to big.bin

Start = Callable[..., ServerProcess]


class CurlResult:
    def __init__(self, proc: subprocess.CompletedProcess[bytes]) -> None:
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr.decode("utf-8", "replace")


def curl(*args: str) -> CurlResult:
    """Run curl with a hard time limit (curl's own -m plus the subprocess bound)."""
    proc = subprocess.run(
        [CURL, "-sS", "-m", "20", *args],
        capture_output=True,
        timeout=CURL_TIMEOUT,
        check=False,
    )
    return CurlResult(proc)


def parse_head(text: bytes) -> tuple[int, dict[str, str]]:
    """The status and fields of the *last* head in a ``-D -`` dump (after any 1xx)."""
    heads = [h for h in text.split(b"\r\n\r\n") if h.startswith(b"HTTP/")]
    assert heads, f"no response head in {text[:300]!r}"
    lines = heads[-1].decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    fields: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        assert name.lower() not in fields, f"{name} repeated"
        fields[name.lower()] = value.strip()
    return status, fields


def fetch(url: str, *args: str) -> tuple[int, dict[str, str], bytes]:
    """GET ``url``: status, header fields and body, via ``-D`` to a separate stream."""
    result = curl("-D", "/dev/stderr", *args, url)
    assert result.returncode == 0, result.stderr
    status, fields = parse_head(result.stderr.encode("latin-1", "replace"))
    return status, fields, result.stdout


@pytest.fixture
def server(start_server: Start, site: Path) -> ServerProcess:
    return start_server(str(site))


# -- connections ---------------------------------------------------------------


def test_two_urls_reuse_one_connection(server: ServerProcess, site: Path) -> None:
    """RFC 9112 section 9.3: HTTP/1.1 connections persist unless "close" is sent."""
    result = curl("-v", f"{server.url}/hello.txt", f"{server.url}/docs/notes.md")
    assert result.returncode == 0, result.stderr
    expected = (site / "hello.txt").read_bytes() + (site / "docs/notes.md").read_bytes()
    assert result.stdout == expected
    assert "Re-using existing connection" in result.stderr
    assert result.stderr.count("Connected to 127.0.0.1") == 1


def test_http10_gets_file_and_connection_closes(server: ServerProcess, site: Path) -> None:
    """RFC 9112 section 9.3: an HTTP/1.0 request without keep-alive ends the connection."""
    result = curl("-v", "--http1.0", "-D", "-", "-o", "/dev/null", f"{server.url}/hello.txt")
    assert result.returncode == 0, result.stderr
    status, fields = parse_head(result.stdout)
    assert status == 200
    assert fields["connection"].lower() == "close"
    assert "> GET /hello.txt HTTP/1.0" in result.stderr
    assert "Closing connection" in result.stderr
    assert "left intact" not in result.stderr
    body = curl("--http1.0", f"{server.url}/hello.txt")
    assert body.stdout == (site / "hello.txt").read_bytes()


# -- ranges (RFC 9110 section 14) ---------------------------------------------


def test_range_first_100_bytes(server: ServerProcess) -> None:
    """RFC 9110 sections 14.1.2, 15.3.7: ``bytes=0-99`` is a 206 with Content-Range."""
    status, fields, body = fetch(f"{server.url}/big.bin", "-r", "0-99")
    assert status == 206
    assert fields["content-range"] == f"bytes 0-99/{len(BIG)}"
    assert fields["content-length"] == "100"
    assert body == BIG[:100]


def test_range_suffix_last_100_bytes(server: ServerProcess) -> None:
    """RFC 9110 section 14.1.2: a suffix range ``bytes=-100`` is the last 100 bytes."""
    status, fields, body = fetch(f"{server.url}/big.bin", "-r", "-100")
    assert status == 206
    assert fields["content-range"] == f"bytes {len(BIG) - 100}-{len(BIG) - 1}/{len(BIG)}"
    assert body == BIG[-100:]


def test_range_open_ended_from_100(server: ServerProcess) -> None:
    """RFC 9110 section 14.1.2: ``bytes=100-`` is everything from offset 100."""
    status, fields, body = fetch(f"{server.url}/big.bin", "-r", "100-")
    assert status == 206
    assert fields["content-range"] == f"bytes 100-{len(BIG) - 1}/{len(BIG)}"
    assert int(fields["content-length"]) == len(BIG) - 100
    assert body == BIG[100:]


@pytest.mark.parametrize("name", ["big.bin", "index.html"])
def test_multi_range_is_multipart_byteranges(
    server: ServerProcess, site: Path, name: str
) -> None:
    """RFC 9110 section 14.6: two ranges give multipart/byteranges, one part each."""
    data = (site / name).read_bytes()
    status, fields, body = fetch(f"{server.url}/{name}", "-r", "0-9,20-29")
    assert status == 206
    ctype = fields["content-type"]
    match = re.fullmatch(r"multipart/byteranges; boundary=(\S+)", ctype)
    assert match, ctype
    assert "content-range" not in fields
    assert int(fields["content-length"]) == len(body)
    boundary = match[1].encode()
    # Everything before the first delimiter is preamble; "--boundary--" ends it.
    chunks = body.split(b"--" + boundary)
    assert chunks[-1].startswith(b"--"), "no closing delimiter"
    parts = []
    for chunk in chunks[1:-1]:
        assert chunk.startswith(b"\r\n")
        head, sep, content = chunk[2:].partition(b"\r\n\r\n")
        assert sep
        assert content.endswith(b"\r\n")  # the CRLF belongs to the next delimiter
        part_fields = dict(
            (n.strip().lower(), v.strip())
            for n, _, v in (line.partition(b":") for line in head.split(b"\r\n"))
        )
        parts.append((part_fields[b"content-range"], content[:-2]))
    assert parts == [
        (f"bytes 0-9/{len(data)}".encode(), data[0:10]),
        (f"bytes 20-29/{len(data)}".encode(), data[20:30]),
    ]


def test_unsatisfiable_range_is_416(server: ServerProcess) -> None:
    """RFC 9110 section 15.5.17: no satisfiable range -> 416 with ``bytes */length``."""
    result = curl("-D", "-", "-o", "/dev/null", "-r", f"{len(BIG) + 10}-", f"{server.url}/big.bin")
    status, fields = parse_head(result.stdout)
    assert status == 416
    assert fields["content-range"] == f"bytes */{len(BIG)}"


# -- conditionals (RFC 9110 section 13) ---------------------------------------


def test_if_modified_since_with_curl_z_gives_304(server: ServerProcess) -> None:
    """RFC 9110 section 13.1.3: not modified since Last-Modified -> 304, no body."""
    status, fields, _ = fetch(f"{server.url}/hello.txt")
    assert status == 200
    last_modified = fields["last-modified"]
    result = curl("-v", "-z", last_modified, "-D", "-", f"{server.url}/hello.txt")
    assert result.returncode == 0, result.stderr
    assert f"> If-Modified-Since: {last_modified}" in result.stderr
    head, _, body = result.stdout.partition(b"\r\n\r\n")
    status304, fields304 = parse_head(head + b"\r\n\r\n")
    assert status304 == 304
    assert body == b""
    # Section 15.4.5: a 304 carries the validators a 200 would have had.
    assert fields304["etag"] == fields["etag"]


def test_if_modified_since_older_date_gives_200(server: ServerProcess, site: Path) -> None:
    """RFC 9110 section 13.1.3: modified after the date -> the full 200."""
    status, _, body = fetch(f"{server.url}/hello.txt", "-z", "Sat, 01 Jan 2000 00:00:00 GMT")
    assert status == 200
    assert body == (site / "hello.txt").read_bytes()


def test_if_none_match_with_etag_gives_304(server: ServerProcess) -> None:
    """RFC 9110 sections 13.1.2, 15.4.5: a matching If-None-Match on GET is 304."""
    status, fields, _ = fetch(f"{server.url}/big.bin", "-o", "/dev/null")
    assert status == 200
    etag = fields["etag"]
    status, fields304, body = fetch(f"{server.url}/big.bin", "-H", f"If-None-Match: {etag}")
    assert status == 304
    assert body == b""
    assert fields304["etag"] == etag
    assert "content-type" not in fields304
    # A different tag does not match.
    status, _, body = fetch(f"{server.url}/big.bin", "-H", 'If-None-Match: "nope"')
    assert status == 200
    assert body == BIG


# -- HEAD and downloads ---------------------------------------------------------


@pytest.mark.parametrize("path", ["/hello.txt", "/big.bin", "/", "/docs/"])
def test_head_has_get_headers_without_body(server: ServerProcess, path: str) -> None:
    """RFC 9110 section 9.3.2: HEAD is GET's header section without content."""
    got = curl("-D", "-", "-o", "/dev/null", f"{server.url}{path}")
    head = curl("-I", f"{server.url}{path}")
    assert got.returncode == 0 and head.returncode == 0, (got.stderr, head.stderr)
    status_get, fields_get = parse_head(got.stdout)
    assert head.stdout.endswith(b"\r\n\r\n"), "HEAD response had a body"
    status_head, fields_head = parse_head(head.stdout)
    assert status_head == status_get == 200
    fields_get.pop("date")
    fields_head.pop("date")
    assert fields_head == fields_get


@pytest.mark.parametrize("name", ["big.bin", "hello.txt", "index.html", "docs/a b.txt"])
def test_download_is_byte_identical(
    server: ServerProcess, site: Path, tmp_path: Path, name: str
) -> None:
    """RFC 9110 section 8.6: Content-Length frames exactly the file's bytes."""
    out = tmp_path / "download"
    url = f"{server.url}/{name.replace(' ', '%20')}"
    result = curl("-f", "-o", str(out), "-w", "%{http_code} %{size_download}", url)
    assert result.returncode == 0, result.stderr
    data = (site / name).read_bytes()
    assert result.stdout == f"200 {len(data)}".encode()
    assert out.read_bytes() == data


def test_resumed_download_with_continue_at(server: ServerProcess, tmp_path: Path) -> None:
    """RFC 9110 section 14.2: ``curl -C -`` resumes with a Range from the partial size."""
    out = tmp_path / "big.part"
    out.write_bytes(BIG[:300_000])
    result = curl("-f", "-C", "-", "-o", str(out), f"{server.url}/big.bin")
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == BIG


# -- directories and listings -------------------------------------------------


def test_directory_redirect_keeps_query(server: ServerProcess) -> None:
    """RFC 9110 section 15.4.2: ``/docs`` -> 301 ``Location: /docs/`` with the query."""
    result = curl("-D", "-", "-o", "/dev/null", f"{server.url}/docs?x=1&y=a%20b")
    status, fields = parse_head(result.stdout)
    assert status == 301
    assert fields["location"] == "/docs/?x=1&y=a%20b"
    followed = curl("-L", "-w", "%{url_effective}", "-o", "/dev/null", f"{server.url}/docs")
    assert followed.stdout.decode() == f"{server.url}/docs/"


def test_listing_escapes_names_and_encodes_links(server: ServerProcess) -> None:
    status, fields, body = fetch(f"{server.url}/docs/")
    assert status == 200
    assert fields["content-type"] == "text/html; charset=utf-8"
    page = body.decode("utf-8")
    assert "&lt;script&gt;.txt" in page
    assert "<script>" not in page
    assert 'href="a%20b.txt"' in page
    assert 'href="%3Cscript%3E.txt"' in page
    assert 'href="notes.md"' in page
    # Each link works.
    for href, expected in [("a%20b.txt", b"spaces\n"), ("%3Cscript%3E.txt", b"escaped\n")]:
        assert fetch(f"{server.url}/docs/{href}")[2] == expected


# -- what must never be served ---------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/docs/..%2f..%2f..%2fetc%2fpasswd",
        "/docs/../../../../etc/passwd",
        "/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/%2e%2e%5c%2e%2e%5cetc%5cpasswd",
        "/docs/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    ],
)
def test_traversal_never_serves_outside_root(server: ServerProcess, path: str) -> None:
    """Paths that climb out of the root (RFC 9110 section 17.3 risk) are never 200."""
    result = curl("--path-as-is", "-D", "-", f"{server.url}{path}")
    assert result.returncode == 0, result.stderr
    status, _ = parse_head(result.stdout)
    assert status != 200
    assert 400 <= status < 500
    assert b"root:" not in result.stdout
    passwd = Path("/etc/passwd").read_bytes()
    assert passwd[:40] not in result.stdout


def test_dotfile_hidden_by_default(server: ServerProcess) -> None:
    status, _, body = fetch(f"{server.url}/.secret")
    assert status == 404
    assert b"do not serve" not in body
    status, _, body = fetch(f"{server.url}/docs/%2e%2e/.secret", "--path-as-is")
    assert status == 404
    assert b"do not serve" not in body


def test_dotfile_served_with_flag(start_server: Start, site: Path) -> None:
    server = start_server(str(site), "--dotfiles")
    status, _, body = fetch(f"{server.url}/.secret")
    assert status == 200
    assert body == b"do not serve\n"


# -- Expect: 100-continue ---------------------------------------------------------


def test_expect_continue_put_gets_100_then_405(server: ServerProcess, tmp_path: Path) -> None:
    """RFC 9110 sections 10.1.1, 15.5.6: the 100 interim, then 405 with Allow."""
    payload = tmp_path / "payload"
    payload.write_bytes(b"x" * 5000)
    result = curl(
        "-v", "-X", "PUT", "--data-binary", f"@{payload}", "-H", "Expect: 100-continue",
        "-D", "-", f"{server.url}/hello.txt",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "< HTTP/1.1 100 Continue" in result.stderr
    assert "> Expect: 100-continue" in result.stderr
    status, fields = parse_head(result.stdout)
    assert status == 405
    allow = {m.strip() for m in fields["allow"].split(",")}
    assert allow == {"GET", "HEAD", "OPTIONS"}
