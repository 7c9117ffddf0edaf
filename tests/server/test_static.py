"""StaticFiles.handle on real directories: real files, symlinks and FIFOs, no sockets."""

from __future__ import annotations

import calendar
import os
import shutil
import signal
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

import pytest

from sockweb.http.dates import http_date
from sockweb.http.headers import Headers
from sockweb.server import files, static
from sockweb.server.listing import human_size
from sockweb.server.response import FileSlice, Response
from sockweb.server.static import ALLOWED_METHODS, MAX_MULTIPART_RANGES, StaticFiles

MTIME_NS = 1_700_000_000_123_456_789
MTIME = MTIME_NS // 1_000_000_000
HELLO = b"hello, world\n"
BIG = bytes(range(256)) * 40  # 10240 bytes, above the limit the `big` app uses
SMALL_LIMIT = 1024

Serve = Callable[..., Response]


def etag_of(size: int) -> bytes:
    return f'"{MTIME_NS:x}-{size:x}"'.encode()


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    os.utime(path, ns=(MTIME_NS, MTIME_NS))
    return path


def field(response: Response, name: str) -> bytes | None:
    values = [v for n, v in response.headers if n.lower() == name.lower().encode()]
    assert len(values) <= 1, f"{name} repeated"
    return values[0] if values else None


def content(response: Response) -> bytes:
    """The body as the exchange would send it (FileSlices read with pread)."""
    if isinstance(response.body, bytes):
        return response.body
    out = []
    for part in response.body:
        if isinstance(part, FileSlice):
            chunk = os.pread(part.fd, part.count, part.offset)
            assert len(chunk) == part.count
            out.append(chunk)
        else:
            out.append(part)
    return b"".join(out)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "secret.txt").write_bytes(b"TOP SECRET\n")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "x.txt").write_bytes(b"TOP SECRET\n")
    root = tmp_path / "root"
    root.mkdir()
    write(root / "hello.txt", HELLO)
    write(root / "big.bin", BIG)
    write(root / "empty.txt", b"")
    (root / "sub").mkdir()
    write(root / "sub" / "inner.txt", b"inner\n")
    return root


@pytest.fixture
def serve(root: Path) -> Iterator[Serve]:
    """Call handle(); every response is closed when the test ends, like the exchange does."""
    responses: list[Response] = []
    default = StaticFiles(root)

    def call(
        path: bytes,
        *fields: tuple[str, str],
        method: str = "GET",
        query: bytes = b"",
        app: StaticFiles | None = None,
    ) -> Response:
        headers = Headers([(n.encode(), v.encode("latin-1")) for n, v in fields])
        response = (app or default).handle(method, path, query, headers)
        responses.append(response)
        return response

    yield call
    for response in responses:
        response.close()


@pytest.fixture
def big(root: Path) -> StaticFiles:
    return StaticFiles(root, small_file_limit=SMALL_LIMIT)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


# -- construction and methods ------------------------------------------------


def test_root_must_be_a_directory(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError):
        StaticFiles(tmp_path / "missing")
    write(tmp_path / "f", b"")
    with pytest.raises(NotADirectoryError):
        StaticFiles(tmp_path / "f")


def test_allowed_methods_constant() -> None:
    assert frozenset({"GET", "HEAD", "OPTIONS"}) == ALLOWED_METHODS


def test_options_is_204_with_allow_rfc9110_9_3_7(serve: Serve) -> None:
    response = serve(b"/hello.txt", method="OPTIONS")
    assert response.status == 204
    assert field(response, "Allow") == b"GET, HEAD, OPTIONS"
    assert response.body == b""


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "TRACE", "CONNECT", "get"])
def test_other_methods_are_405_with_allow_rfc9110_15_5_6(serve: Serve, method: str) -> None:
    # Methods are case-sensitive (RFC 9110 section 9.1): "get" is not GET.
    response = serve(b"/hello.txt", method=method)
    assert response.status == 405
    assert field(response, "Allow") == b"GET, HEAD, OPTIONS"
    assert b"405 Method Not Allowed" in content(response)


# -- plain files -------------------------------------------------------------


def test_get_small_file(serve: Serve) -> None:
    response = serve(b"/hello.txt")
    assert response.status == 200
    assert response.body == HELLO
    assert response.file is None
    assert field(response, "Content-Type") == b"text/plain; charset=utf-8"
    assert field(response, "ETag") == etag_of(len(HELLO))
    assert field(response, "Last-Modified") == http_date(MTIME)
    assert field(response, "Accept-Ranges") == b"bytes"
    # The exchange owns framing and Date.
    assert field(response, "Content-Length") is None
    assert field(response, "Date") is None


def test_etag_is_mtime_and_size_in_hex_like_nginx(serve: Serve) -> None:
    assert field(serve(b"/big.bin"), "ETag") == f'"{MTIME_NS:x}-2800"'.encode()


def test_head_is_exactly_get_rfc9110_9_3_2(serve: Serve) -> None:
    for path, fields in [
        (b"/hello.txt", ()),
        (b"/hello.txt", (("Range", "bytes=0-4"),)),
        (b"/hello.txt", (("If-None-Match", "*"),)),
        (b"/sub/", ()),
        (b"/missing", ()),
    ]:
        get, head = serve(path, *fields), serve(path, *fields, method="HEAD")
        assert (get.status, get.headers, get.body) == (head.status, head.headers, head.body)


def test_empty_file(serve: Serve) -> None:
    response = serve(b"/empty.txt")
    assert response.status == 200
    assert response.body == b""


def test_large_file_is_a_file_slice_from_fstat(serve: Serve, big: StaticFiles) -> None:
    response = serve(b"/big.bin", app=big)
    assert response.status == 200
    assert response.file is not None
    assert isinstance(response.body, list)
    (part,) = response.body
    assert isinstance(part, FileSlice)
    assert (part.fd, part.offset, part.count) == (response.file.fileno(), 0, len(BIG))
    assert os.pread(part.fd, part.count, part.offset) == BIG


def test_small_file_limit_is_inclusive(root: Path, serve: Serve) -> None:
    write(root / "edge.bin", b"x" * SMALL_LIMIT)
    app = StaticFiles(root, small_file_limit=SMALL_LIMIT)
    assert serve(b"/edge.bin", app=app).body == b"x" * SMALL_LIMIT
    app = StaticFiles(root, small_file_limit=SMALL_LIMIT - 1)
    response = serve(b"/edge.bin", app=app)
    assert isinstance(response.body, list)
    assert content(response) == b"x" * SMALL_LIMIT


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")
def test_no_descriptor_leaks_on_any_path(serve: Serve) -> None:
    before = open_fds()
    for path, fields in [
        (b"/hello.txt", ()),
        (b"/hello.txt", (("If-None-Match", "*"),)),
        (b"/hello.txt", (("If-Match", '"nope"'),)),
        (b"/hello.txt", (("Range", "bytes=100-"),)),
        (b"/hello.txt", (("Range", "bytes=0-1,3-4"),)),
        (b"/sub/", ()),
        (b"/missing", ()),
    ]:
        serve(path, *fields)
    assert open_fds() == before


def test_file_with_trailing_slash_is_404(serve: Serve) -> None:
    assert serve(b"/hello.txt/").status == 404
    assert serve(b"/hello.txt%2f").status == 404


def test_missing_and_file_as_directory_are_404(serve: Serve) -> None:
    assert serve(b"/nope.txt").status == 404
    assert serve(b"/hello.txt/x").status == 404


def test_error_pages_are_small_html(serve: Serve) -> None:
    response = serve(b"/nope.txt")
    assert field(response, "Content-Type") == b"text/html; charset=utf-8"
    assert b"<h1>404 Not Found</h1>" in content(response)


def test_name_too_long_is_404_not_an_exception(serve: Serve) -> None:
    assert serve(b"/" + b"a" * 5000).status == 404
    assert serve(b"/" + b"/".join([b"a" * 200] * 40)).status == 404


# -- content types -----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.html", "text/html; charset=utf-8"),
        ("a.htm", "text/html; charset=utf-8"),
        ("a.css", "text/css; charset=utf-8"),
        ("a.js", "text/javascript; charset=utf-8"),
        ("a.mjs", "text/javascript; charset=utf-8"),
        ("a.json", "application/json; charset=utf-8"),
        ("a.txt", "text/plain; charset=utf-8"),
        ("a.md", "text/markdown; charset=utf-8"),
        ("a.svg", "image/svg+xml; charset=utf-8"),
        ("a.png", "image/png"),
        ("a.jpg", "image/jpeg"),
        ("a.jpeg", "image/jpeg"),
        ("a.gif", "image/gif"),
        ("a.webp", "image/webp"),
        ("a.ico", "image/vnd.microsoft.icon"),
        ("a.wasm", "application/wasm"),
        ("a.pdf", "application/pdf"),
        ("a.xml", "application/xml; charset=utf-8"),
        ("a.csv", "text/csv; charset=utf-8"),
        ("a.woff", "font/woff"),
        ("a.woff2", "font/woff2"),
        ("a.mp4", "video/mp4"),
        ("a.webm", "video/webm"),
        ("a.mp3", "audio/mpeg"),
        ("a.zip", "application/zip"),
        ("a.gz", "application/gzip"),
        ("a.tar.gz", "application/gzip"),
        ("a.tar", "application/x-tar"),
        ("A.PNG", "image/png"),
        ("a.unknown-ext", "application/octet-stream"),
        ("noext", "application/octet-stream"),
    ],
)
def test_content_type(root: Path, serve: Serve, name: str, expected: str) -> None:
    write(root / name, b"data")
    response = serve(b"/" + name.encode())
    assert response.status == 200
    assert field(response, "Content-Type") == expected.encode()
    # A .gz is a download, never something the browser should unpack.
    assert field(response, "Content-Encoding") is None


def test_content_type_follows_the_requested_name(root: Path, serve: Serve) -> None:
    os.symlink("hello.txt", root / "alias.bin")
    response = serve(b"/alias.bin")
    assert response.body == HELLO
    assert field(response, "Content-Type") == b"application/octet-stream"


# -- path safety -------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        b"/../secret.txt",
        b"/../etc/passwd",
        b"/%2e%2e/secret.txt",
        b"/%2E%2E/secret.txt",
        b"/%2e%2e/",
        b"/..%2fsecret.txt",
        b"/..%2f..%2fetc/passwd",
        b"/%2e%2e%2fsecret.txt",
        b"/sub/..%2f..%2fsecret.txt",
        b"/sub/../../secret.txt",
        b"/a/../../x",
        b"/..",
        b"/../outside/x.txt",
        b"/%2e%2e/outside/",
    ],
)
def test_climbing_above_root_is_404(serve: Serve, path: bytes) -> None:
    response = serve(path)
    assert response.status == 404
    assert b"SECRET" not in content(response)


def test_dot_dot_that_stays_inside_is_fine(serve: Serve) -> None:
    assert serve(b"/sub/../hello.txt").body == HELLO
    assert serve(b"/./sub//./inner.txt").body == b"inner\n"


def test_percent_decoding_happens_exactly_once(root: Path, serve: Serve) -> None:
    write(root / "100%25.txt", b"literal\n")
    assert serve(b"/100%2525.txt").body == b"literal\n"
    # "%252e%252e" is the literal name "%2e%2e", not "..".
    assert serve(b"/%252e%252e/secret.txt").status == 404


@pytest.mark.parametrize("path", [b"/%00", b"/hello.txt%00.html", b"/sub/%00/x"])
def test_nul_byte_is_400(serve: Serve, path: bytes) -> None:
    assert serve(path).status == 400


def test_request_target_must_start_with_slash(serve: Serve) -> None:
    assert serve(b"hello.txt").status == 400


def test_prefix_is_a_path_without_trailing_slash(root: Path) -> None:
    for bad in (b"static", b"/static/"):
        with pytest.raises(ValueError):
            StaticFiles(root, prefix=bad)
    # Without a prefix an empty path is no request target; with one it is the
    # mount's own URL, a directory asked for without its slash.
    assert StaticFiles(root).handle("GET", b"", b"", Headers()).status == 400
    mounted = StaticFiles(root, prefix=b"/static")
    redirect = mounted.handle("GET", b"", b"a=1", Headers())
    assert (redirect.status, field(redirect, "Location")) == (301, b"/static/?a=1")
    assert field(mounted.handle("GET", b"/sub", b"", Headers()), "Location") == b"/static/sub/"


@pytest.mark.parametrize(
    "path", [b"/..\\secret.txt", b"/%5c..%5csecret.txt", b"/sub\\inner.txt", b"/hello.txt%5C"]
)
def test_backslash_is_404(serve: Serve, path: bytes) -> None:
    assert serve(path).status == 404


def test_symlink_out_of_root_is_404(root: Path, tmp_path: Path, serve: Serve) -> None:
    os.symlink(tmp_path / "secret.txt", root / "leak.txt")
    os.symlink(tmp_path / "outside", root / "leakdir")
    os.symlink("../secret.txt", root / "relative.txt")
    for path in [b"/leak.txt", b"/leakdir/", b"/leakdir", b"/leakdir/x.txt", b"/relative.txt"]:
        response = serve(path)
        assert response.status == 404, path
        assert b"SECRET" not in content(response)


def test_symlink_inside_root_is_served(root: Path, serve: Serve) -> None:
    os.symlink("hello.txt", root / "alias.txt")
    os.symlink("sub", root / "subalias")
    assert serve(b"/alias.txt").body == HELLO
    assert serve(b"/subalias/inner.txt").body == b"inner\n"


def test_broken_and_looping_symlinks_are_404(root: Path, serve: Serve) -> None:
    os.symlink("nowhere", root / "broken")
    os.symlink("loop2", root / "loop1")
    os.symlink("loop1", root / "loop2")
    assert serve(b"/broken").status == 404
    assert serve(b"/loop1").status == 404


def test_root_reached_through_a_symlink(root: Path, tmp_path: Path, serve: Serve) -> None:
    os.symlink(root, tmp_path / "link")
    assert serve(b"/hello.txt", app=StaticFiles(tmp_path / "link")).body == HELLO


def test_dotfiles_are_404_by_default(root: Path, serve: Serve) -> None:
    write(root / ".env", b"SECRET=1\n")
    (root / ".git").mkdir()
    write(root / ".git" / "config", b"[core]\n")
    for path in [b"/.env", b"/%2eenv", b"/.git/config", b"/.git/", b"/sub/../.env"]:
        assert serve(path).status == 404, path


def test_dotfiles_served_when_enabled(root: Path, serve: Serve) -> None:
    write(root / ".env", b"SECRET=1\n")
    assert serve(b"/.env", app=StaticFiles(root, dotfiles=True)).body == b"SECRET=1\n"


class _Timeout(Exception):
    pass


@pytest.fixture
def alarm() -> Iterator[None]:
    """Turn a blocking open() of a FIFO into a failure instead of a hung test run."""

    def ring(signum: int, frame: FrameType | None) -> None:
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, ring)
    signal.alarm(5)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_fifo_is_404_and_never_opened(root: Path, serve: Serve, alarm: None) -> None:
    os.mkfifo(root / "pipe")
    assert serve(b"/pipe").status == 404


def test_fifo_swapped_in_after_stat_does_not_block(root: Path, alarm: None) -> None:
    # The race the O_NONBLOCK open and the fstat re-check are for.
    os.mkfifo(root / "pipe")
    assert files.open_regular(str(root / "pipe")) is None


def test_fifo_named_index_html_falls_back_to_listing(root: Path, serve: Serve, alarm: None) -> None:
    os.mkfifo(root / "sub" / "index.html")
    response = serve(b"/sub/")
    assert response.status == 200
    assert b"Index of /sub/" in content(response)


def test_device_through_symlink_is_404(root: Path, serve: Serve) -> None:
    os.symlink("/dev/zero", root / "zero")
    assert serve(b"/zero").status == 404


def _status_without_privileges(root: Path, path: bytes) -> int:
    """handle() run as an ordinary user: root ignores file modes."""
    if os.geteuid() != 0:
        return StaticFiles(root).handle("GET", path, b"", Headers()).status
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            os.setgid(65534)
            os.setuid(65534)
            response = StaticFiles(root).handle("GET", path, b"", Headers())
            response.close()
            os.write(write_end, str(response.status).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        result = pipe.read()
    os.waitpid(pid, 0)
    return int(result)


@pytest.fixture
def public_root() -> Iterator[Path]:
    # tmp_path lives in a 0700 directory an unprivileged child cannot enter.
    path = Path(tempfile.mkdtemp(prefix="sockweb-static-"))
    path.chmod(0o755)
    yield path
    for dirpath, dirnames, _ in os.walk(path):
        for name in dirnames:
            os.chmod(os.path.join(dirpath, name), 0o755)
    shutil.rmtree(path)


def test_permission_denied_is_403(public_root: Path) -> None:
    write(public_root / "locked.txt", b"no\n").chmod(0)
    (public_root / "unlistable").mkdir()
    (public_root / "unlistable").chmod(stat.S_IWUSR | stat.S_IXUSR | stat.S_IXOTH)
    (public_root / "closed").mkdir()
    write(public_root / "closed" / "f.txt", b"x")
    (public_root / "closed").chmod(stat.S_IRUSR | stat.S_IROTH)
    assert _status_without_privileges(public_root, b"/locked.txt") == 403
    assert _status_without_privileges(public_root, b"/unlistable/") == 403
    assert _status_without_privileges(public_root, b"/closed/f.txt") == 403


# -- directories -------------------------------------------------------------


def test_directory_without_slash_redirects_rfc9110_15_4_2(serve: Serve) -> None:
    response = serve(b"/sub")
    assert response.status == 301
    assert field(response, "Location") == b"/sub/"


def test_redirect_keeps_the_query(serve: Serve) -> None:
    assert field(serve(b"/sub", query=b"a=1&b=%20"), "Location") == b"/sub/?a=1&b=%20"


def test_redirect_is_never_to_another_host(serve: Serve) -> None:
    # "//sub/" would be a network-path reference to host "sub" (CVE-2021-28861).
    assert field(serve(b"//sub"), "Location") == b"/sub/"
    assert field(serve(b"///sub"), "Location") == b"/sub/"


def test_redirect_location_is_percent_encoded(root: Path, serve: Serve) -> None:
    (root / "déjà").mkdir()
    response = serve("/déjà".encode())
    assert field(response, "Location") == b"/d%C3%A9j%C3%A0/"
    assert serve(b"/d%C3%A9j%C3%A0").status == 301


def test_directory_with_index_html_serves_it(root: Path, serve: Serve) -> None:
    write(root / "sub" / "index.html", b"<h1>hi</h1>")
    response = serve(b"/sub/")
    assert response.status == 200
    assert response.body == b"<h1>hi</h1>"
    assert field(response, "Content-Type") == b"text/html; charset=utf-8"
    assert field(response, "ETag") == etag_of(11)


def test_index_html_symlinked_out_of_root_is_not_served(
    root: Path, tmp_path: Path, serve: Serve
) -> None:
    os.symlink(tmp_path / "secret.txt", root / "sub" / "index.html")
    response = serve(b"/sub/")
    assert response.status == 200
    assert b"SECRET" not in content(response)
    assert b"Index of /sub/" in content(response)


@pytest.fixture
def docs(root: Path) -> Path:
    docs = root / "docs"
    docs.mkdir()
    write(docs / "b.txt", b"x" * 1300)
    write(docs / "A.txt", b"a")
    write(docs / "<script>.txt", b"s")
    write(docs / "a b.txt", b"s")
    write(docs / ".hidden", b"h")
    (docs / "zdir").mkdir()
    os.symlink("nowhere", docs / "broken")
    when = calendar.timegm((2026, 11, 25, 10, 3, 59))
    os.utime(docs / "b.txt", (when, when))
    return docs


def test_listing_page(docs: Path, serve: Serve) -> None:
    response = serve(b"/docs/")
    assert response.status == 200
    assert field(response, "Content-Type") == b"text/html; charset=utf-8"
    assert field(response, "ETag") is None
    page = content(response).decode()
    assert '<meta charset="utf-8">' in page
    assert '<meta name="viewport"' in page
    assert "<style>" in page
    assert "<title>Index of /docs/</title>" in page
    assert '<a href="../">' in page
    assert "1.3 KiB" in page
    assert "2026-11-25 10:03" in page


def test_listing_escapes_names_and_quotes_links(docs: Path, serve: Serve) -> None:
    page = content(serve(b"/docs/")).decode()
    assert "<script>" not in page
    assert ">&lt;script&gt;.txt</a>" in page
    assert 'href="%3Cscript%3E.txt"' in page
    assert 'href="a%20b.txt"' in page
    assert 'href="zdir/">zdir/</a>' in page


def test_listing_order_directories_first_then_name(docs: Path, serve: Serve) -> None:
    page = content(serve(b"/docs/")).decode()
    # Case-insensitive: "a b.txt" < "A.txt" because " " < ".".
    order = ['"zdir/"', '"%3Cscript%3E.txt"', '"a%20b.txt"', '"A.txt"', '"b.txt"', '"broken"']
    positions = [page.index("href=" + href) for href in order]
    assert positions == sorted(positions)


def test_listing_hides_dotfiles_unless_enabled(docs: Path, root: Path, serve: Serve) -> None:
    assert ".hidden" not in content(serve(b"/docs/")).decode()
    page = content(serve(b"/docs/", app=StaticFiles(root, dotfiles=True))).decode()
    assert 'href=".hidden"' in page


def test_listing_survives_broken_symlinks(docs: Path, serve: Serve) -> None:
    page = content(serve(b"/docs/")).decode()
    row = next(line for line in page.splitlines() if 'href="broken"' in line)
    assert '<td class="s">-</td>' in row


def test_root_listing_has_no_parent_link(serve: Serve) -> None:
    page = content(serve(b"/")).decode()
    assert "<title>Index of /</title>" in page
    assert 'href="../"' not in page
    assert 'href="sub/"' in page


def test_listing_title_is_escaped(root: Path, serve: Serve) -> None:
    (root / "<b>&").mkdir()
    page = content(serve(b"/%3Cb%3E%26/")).decode()
    assert "<title>Index of /&lt;b&gt;&amp;/</title>" in page


def test_listing_of_undecodable_names(root: Path, serve: Serve) -> None:
    with open(os.fsencode(root) + b"/caf\xe9.txt", "wb") as f:
        f.write(b"latin-1 name")
    page = content(serve(b"/")).decode()
    assert 'href="caf%E9.txt">caf\ufffd.txt</a>' in page
    assert serve(b"/caf%E9.txt").body == b"latin-1 name"


def test_listing_ignores_range(docs: Path, serve: Serve) -> None:
    response = serve(b"/docs/", ("Range", "bytes=0-1"))
    assert response.status == 200
    assert field(response, "Content-Range") is None


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1229, "1.2 KiB"),
        (1048575, "1.0 MiB"),
        (5 * 2**30, "5.0 GiB"),
        (3 * 2**40, "3.0 TiB"),
    ],
)
def test_human_size(size: int, text: str) -> None:
    assert human_size(size) == text


# -- conditionals, RFC 9110 section 13.2.2 order --------------------------------

ETAG = etag_of(len(HELLO)).decode()
WEAK = "W/" + ETAG
LAST_MODIFIED = http_date(MTIME).decode()
EARLIER = http_date(MTIME - 1).decode()
LATER = http_date(MTIME + 1).decode()


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ((("If-Match", ETAG),), 200),
        ((("If-Match", f'"x", {ETAG}'),), 200),
        ((("If-Match", "*"),), 200),
        ((("If-Match", '"other"'),), 412),
        ((("If-Match", WEAK),), 412),  # strong comparison
        ((("If-Match", "garbage"),), 412),
    ],
)
def test_if_match_rfc9110_13_1_1(serve: Serve, fields: tuple[tuple[str, str]], status: int) -> None:
    assert serve(b"/hello.txt", *fields).status == status


def test_if_match_list_over_several_fields_rfc9110_5_3(serve: Serve) -> None:
    assert serve(b"/hello.txt", ("If-Match", '"x"'), ("If-Match", ETAG)).status == 200


@pytest.mark.parametrize(
    ("value", "status"),
    [(LAST_MODIFIED, 200), (LATER, 200), (EARLIER, 412), ("not a date", 200)],
)
def test_if_unmodified_since_rfc9110_13_1_4(serve: Serve, value: str, status: int) -> None:
    assert serve(b"/hello.txt", ("If-Unmodified-Since", value)).status == status


def test_if_unmodified_since_ignored_when_if_match_present_rfc9110_13_2_2(serve: Serve) -> None:
    response = serve(b"/hello.txt", ("If-Match", ETAG), ("If-Unmodified-Since", EARLIER))
    assert response.status == 200


@pytest.mark.parametrize("value", [ETAG, WEAK, "*", f'"a", {WEAK}'])
def test_if_none_match_weak_comparison_rfc9110_13_1_2(serve: Serve, value: str) -> None:
    response = serve(b"/hello.txt", ("If-None-Match", value))
    assert response.status == 304


def test_304_has_validators_but_no_content_rfc9110_15_4_5(serve: Serve) -> None:
    response = serve(b"/hello.txt", ("If-None-Match", ETAG))
    assert response.status == 304
    assert response.body == b""
    assert response.file is None
    assert field(response, "ETag") == ETAG.encode()
    assert field(response, "Last-Modified") == LAST_MODIFIED.encode()
    assert field(response, "Content-Type") is None


def test_if_none_match_mismatch_is_200(serve: Serve) -> None:
    assert serve(b"/hello.txt", ("If-None-Match", '"other"')).status == 200


def test_if_none_match_overrides_if_modified_since_rfc9110_13_2_2(serve: Serve) -> None:
    fields = (("If-None-Match", '"other"'), ("If-Modified-Since", LATER))
    assert serve(b"/hello.txt", *fields).status == 200


def test_if_match_failure_wins_over_if_none_match_rfc9110_13_2_2(serve: Serve) -> None:
    fields = (("If-Match", '"other"'), ("If-None-Match", ETAG))
    assert serve(b"/hello.txt", *fields).status == 412


@pytest.mark.parametrize(
    ("value", "status"),
    [(LAST_MODIFIED, 304), (LATER, 304), (EARLIER, 200), ("yesterday", 200), ("", 200)],
)
def test_if_modified_since_rfc9110_13_1_3(serve: Serve, value: str, status: int) -> None:
    assert serve(b"/hello.txt", ("If-Modified-Since", value)).status == status
    assert serve(b"/hello.txt", ("If-Modified-Since", value), method="HEAD").status == status


def test_if_modified_since_list_is_ignored_rfc9110_13_1_3(serve: Serve) -> None:
    fields = (("If-Modified-Since", LATER), ("If-Modified-Since", LATER))
    assert serve(b"/hello.txt", *fields).status == 200


def test_sub_second_mtime_still_matches_its_own_last_modified(serve: Serve) -> None:
    # Last-Modified drops the 0.123456789 s; If-Modified-Since must not see that as newer.
    assert serve(b"/hello.txt", ("If-Modified-Since", LAST_MODIFIED)).status == 304


def test_preconditions_ignored_for_missing_files_rfc9110_13_2_1(serve: Serve) -> None:
    assert serve(b"/nope", ("If-Match", '"x"')).status == 404


# -- ranges, RFC 9110 section 14 ---------------------------------------------


def test_single_range_is_206_rfc9110_15_3_7(serve: Serve) -> None:
    response = serve(b"/hello.txt", ("Range", "bytes=0-4"))
    assert response.status == 206
    assert response.body == b"hello"
    assert field(response, "Content-Range") == b"bytes 0-4/13"
    assert field(response, "Content-Type") == b"text/plain; charset=utf-8"
    assert field(response, "ETag") == ETAG.encode()
    assert field(response, "Accept-Ranges") == b"bytes"


def test_suffix_range_rfc9110_14_1_2(serve: Serve) -> None:
    response = serve(b"/hello.txt", ("Range", "bytes=-6"))
    assert (response.status, response.body) == (206, b"world\n")
    assert field(response, "Content-Range") == b"bytes 7-12/13"


def test_open_range_rfc9110_14_1_2(serve: Serve) -> None:
    response = serve(b"/hello.txt", ("Range", "bytes=7-"))
    assert (response.status, response.body) == (206, b"world\n")


def test_range_end_clamped_rfc9110_14_1_2(serve: Serve) -> None:
    response = serve(b"/hello.txt", ("Range", "bytes=7-999"))
    assert field(response, "Content-Range") == b"bytes 7-12/13"


def test_unsatisfiable_range_is_416_rfc9110_15_5_17(serve: Serve) -> None:
    response = serve(b"/hello.txt", ("Range", "bytes=13-"))
    assert response.status == 416
    assert field(response, "Content-Range") == b"bytes */13"
    assert serve(b"/empty.txt", ("Range", "bytes=0-")).status == 416


@pytest.mark.parametrize("value", ["bytes=5-1", "bytes=x", "items=0-1", "bytes=0-1" + "9" * 19])
def test_invalid_range_is_ignored_rfc9110_14_2(serve: Serve, value: str) -> None:
    response = serve(b"/hello.txt", ("Range", value))
    assert (response.status, response.body) == (200, HELLO)
    assert field(response, "Content-Range") is None


def expected_multipart(
    boundary: bytes, data: bytes, ctype: bytes, spans: list[tuple[int, int]]
) -> bytes:
    out = b""
    for start, end in spans:
        out += b"--" + boundary + b"\r\n"
        out += b"Content-Type: " + ctype + b"\r\n"
        out += b"Content-Range: bytes %d-%d/%d\r\n\r\n" % (start, end, len(data))
        out += data[start : end + 1] + b"\r\n"
    return out + b"--" + boundary + b"--\r\n"


def boundary_of(response: Response) -> bytes:
    ctype = field(response, "Content-Type")
    assert ctype is not None
    prefix = b"multipart/byteranges; boundary="
    assert ctype.startswith(prefix)
    return ctype[len(prefix) :]


def test_multiple_ranges_are_multipart_byteranges_rfc9110_14_6(serve: Serve) -> None:
    response = serve(b"/hello.txt", ("Range", "bytes=7-11,0-4"))
    assert response.status == 206
    assert field(response, "Content-Range") is None
    boundary = boundary_of(response)
    assert boundary and boundary not in HELLO
    expected = expected_multipart(boundary, HELLO, b"text/plain; charset=utf-8", [(7, 11), (0, 4)])
    assert response.body == expected


def test_overlapping_ranges_get_the_whole_file_rfc9110_14_2(serve: Serve) -> None:
    response = serve(b"/hello.txt", ("Range", "bytes=0-5,3-8"))
    assert (response.status, response.body) == (200, HELLO)


def test_too_many_ranges_get_the_whole_file_rfc9110_14_2(serve: Serve) -> None:
    many = ",".join(f"{i}-{i}" for i in range(MAX_MULTIPART_RANGES + 1))
    response = serve(b"/big.bin", ("Range", "bytes=" + many))
    assert (response.status, response.body) == (200, BIG)
    few = ",".join(f"{i}-{i}" for i in range(MAX_MULTIPART_RANGES))
    assert serve(b"/big.bin", ("Range", "bytes=" + few)).status == 206


def test_unsatisfiable_members_are_dropped(serve: Serve) -> None:
    response = serve(b"/hello.txt", ("Range", "bytes=100-,0-4"))
    assert (response.status, response.body) == (206, b"hello")


def test_range_on_large_file_is_a_file_slice(serve: Serve, big: StaticFiles) -> None:
    response = serve(b"/big.bin", ("Range", "bytes=1000-2999"), app=big)
    assert response.status == 206
    assert response.file is not None
    assert isinstance(response.body, list)
    (part,) = response.body
    assert isinstance(part, FileSlice)
    assert (part.fd, part.offset, part.count) == (response.file.fileno(), 1000, 2000)
    assert os.pread(part.fd, part.count, part.offset) == BIG[1000:3000]
    assert field(response, "Content-Range") == b"bytes 1000-2999/10240"


def test_multipart_on_large_file_mixes_bytes_and_slices(serve: Serve, big: StaticFiles) -> None:
    response = serve(b"/big.bin", ("Range", "bytes=0-9,5000-5999,-10"), app=big)
    assert response.status == 206
    assert isinstance(response.body, list)
    slices = [p for p in response.body if isinstance(p, FileSlice)]
    assert [(s.offset, s.count) for s in slices] == [(0, 10), (5000, 1000), (10230, 10)]
    assert response.file is not None
    assert all(s.fd == response.file.fileno() for s in slices)
    spans = [(0, 9), (5000, 5999), (10230, 10239)]
    ctype = b"application/octet-stream"
    assert content(response) == expected_multipart(boundary_of(response), BIG, ctype, spans)


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def _served_and_kept(serve: Serve, app: StaticFiles) -> int:
    """GET /big.bin once, done with it: the descriptor the cache keeps open."""
    response = serve(b"/big.bin", app=app)
    assert response.file is not None
    fd = response.file.fileno()
    response.close()
    assert _is_open(fd)
    return fd


def test_a_large_file_stays_open_for_the_next_request(serve: Serve, big: StaticFiles) -> None:
    """Like nginx's open_file_cache: the second request reuses the descriptor."""
    fd = _served_and_kept(serve, big)
    second = serve(b"/big.bin", app=big)
    assert second.file is not None and second.file.fileno() == fd
    assert content(second) == BIG
    second.close()
    big.close()
    assert not _is_open(fd)


def test_a_kept_file_closes_only_when_its_last_response_is_done(
        serve: Serve, big: StaticFiles) -> None:
    sending = serve(b"/big.bin", app=big)
    assert sending.file is not None
    fd = sending.file.fileno()
    big.close()  # the cache lets go while a response still sends the file
    assert _is_open(fd) and content(sending) == BIG
    sending.close()
    assert not _is_open(fd)
    sending.close()  # twice is harmless


def test_a_replaced_file_is_opened_again_and_the_old_one_closed(
        root: Path, serve: Serve, big: StaticFiles) -> None:
    old_fd = _served_and_kept(serve, big)
    new = b"N" * len(BIG)
    (root / "new.bin").write_bytes(new)
    os.replace(root / "new.bin", root / "big.bin")  # same size, another inode
    second = serve(b"/big.bin", app=big)
    assert content(second) == new
    # The old descriptor was closed (its number may now be the new file's).
    assert not _is_open(old_fd) or os.fstat(old_fd).st_ino == os.stat(root / "big.bin").st_ino


def test_a_response_sending_the_old_file_keeps_it_after_a_replacement(
        root: Path, serve: Serve, big: StaticFiles) -> None:
    sending = serve(b"/big.bin", app=big)  # still being sent...
    new = b"N" * len(BIG)
    (root / "new.bin").write_bytes(new)
    os.replace(root / "new.bin", root / "big.bin")
    assert content(serve(b"/big.bin", app=big)) == new  # ...when the new one is asked for
    assert content(sending) == BIG  # its descriptor was not closed, nor reused


def test_a_file_changed_in_place_is_served_as_it_is_now(
        root: Path, serve: Serve, big: StaticFiles) -> None:
    serve(b"/big.bin", app=big).close()
    changed = bytes(reversed(BIG)) + b"tail"
    with open(root / "big.bin", "r+b") as f:  # same inode, new size and mtime
        f.write(changed)
    response = serve(b"/big.bin", app=big)
    assert content(response) == changed
    now = os.stat(root / "big.bin")
    assert field(response, "ETag") == f'"{now.st_mtime_ns:x}-{now.st_size:x}"'.encode()


def test_a_deleted_kept_file_is_404_and_let_go(
        root: Path, serve: Serve, big: StaticFiles) -> None:
    fd = _served_and_kept(serve, big)
    (root / "big.bin").unlink()
    assert serve(b"/big.bin", app=big).status == 404
    assert not _is_open(fd)  # a deleted file's space is not held on to


def test_a_kept_file_whose_name_becomes_a_directory_is_let_go(
        root: Path, serve: Serve, big: StaticFiles) -> None:
    fd = _served_and_kept(serve, big)
    (root / "big.bin").unlink()
    (root / "big.bin").mkdir()
    assert serve(b"/big.bin", app=big).status == 301
    assert not _is_open(fd)


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")
def test_out_of_descriptors_is_503_not_404(root: Path, serve: Serve, big: StaticFiles) -> None:
    """A file that exists is never called missing: with no descriptor left to
    open it, the answer is 503 and Retry-After (RFC 9110 section 15.6.4)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    held: list[int] = []
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (open_fds() + 8, hard))
        with pytest.raises(OSError):
            while True:  # use up every descriptor left
                held.append(os.open(os.devnull, os.O_RDONLY))
        response = serve(b"/big.bin", app=big)
        assert response.status == 503
        assert field(response, "Retry-After") == b"1"
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert content(serve(b"/big.bin", app=big)) == BIG  # and served once there are


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")
def test_kept_open_files_are_bounded(root: Path, serve: Serve) -> None:
    app = StaticFiles(root, small_file_limit=SMALL_LIMIT)
    for i in range(files.OPEN_FILES + 20):
        write(root / f"many{i}.bin", BIG)
    before = open_fds()
    for i in range(files.OPEN_FILES + 20):
        serve(f"/many{i}.bin".encode(), app=app).close()
    assert open_fds() - before == files.OPEN_FILES
    app.close()
    assert open_fds() == before


@pytest.mark.parametrize(
    ("if_range", "status"),
    [
        (ETAG, 206),
        ('"other"', 200),
        (WEAK, 200),  # strong comparison
        (LAST_MODIFIED, 206),
        (LATER, 200),  # must equal Last-Modified exactly
        (EARLIER, 200),
        ("not a date", 200),
    ],
)
def test_if_range_rfc9110_13_1_5(serve: Serve, if_range: str, status: int) -> None:
    response = serve(b"/hello.txt", ("Range", "bytes=0-4"), ("If-Range", if_range))
    assert response.status == status
    assert response.body == (b"hello" if status == 206 else HELLO)


def test_if_range_without_range_is_ignored_rfc9110_13_1_5(serve: Serve) -> None:
    assert serve(b"/hello.txt", ("If-Range", '"other"')).status == 200


def test_range_only_when_status_would_be_200_rfc9110_13_2_2(serve: Serve) -> None:
    assert serve(b"/hello.txt", ("Range", "bytes=0-4"), ("If-None-Match", ETAG)).status == 304
    assert serve(b"/hello.txt", ("Range", "bytes=0-4"), ("If-Match", '"x"')).status == 412
    assert serve(b"/hello.txt", ("Range", "bytes=99-"), ("If-None-Match", ETAG)).status == 304


# -- the small-file cache: an entry serves only the very same file ------------
# Each case is run after one plain GET (the file is then cached) and after
# three (the third is served from a ready response, one stat and no reading).

WARM_UPS = pytest.mark.parametrize("warm_ups", [1, 3], ids=["cached", "ready"])


def warm(serve: Serve, times: int, path: bytes = b"/hello.txt") -> Response:
    for _ in range(times):
        response = serve(path)
    assert response.status == 200
    return response


@WARM_UPS
def test_cached_file_rewritten_with_same_size_and_mtime_is_served_fresh(
    root: Path, serve: Serve, warm_ups: int
) -> None:
    assert content(warm(serve, warm_ups)) == HELLO
    write(root / "hello.txt", b"HELLO, WORLD\n")  # same size, same mtime: ctime moves
    assert content(serve(b"/hello.txt")) == b"HELLO, WORLD\n"


@WARM_UPS
def test_cached_file_replaced_by_symlink_out_of_root_is_refused(
    root: Path, tmp_path: Path, serve: Serve, warm_ups: int
) -> None:
    warm(serve, warm_ups)
    (root / "hello.txt").unlink()
    os.symlink(tmp_path / "secret.txt", root / "hello.txt")
    response = serve(b"/hello.txt")
    assert response.status == 404
    assert b"SECRET" not in content(response)


@WARM_UPS
def test_cached_file_removed_is_404(root: Path, serve: Serve, warm_ups: int) -> None:
    warm(serve, warm_ups)
    (root / "hello.txt").unlink()
    assert serve(b"/hello.txt").status == 404


@WARM_UPS
def test_cached_file_replaced_by_directory_redirects(
    root: Path, serve: Serve, warm_ups: int
) -> None:
    warm(serve, warm_ups)
    (root / "hello.txt").unlink()
    (root / "hello.txt").mkdir()
    assert serve(b"/hello.txt").status == 301


@WARM_UPS
def test_conditionals_and_ranges_still_apply_when_cached_rfc9110_13_14(
    serve: Serve, warm_ups: int
) -> None:
    warm(serve, warm_ups)
    assert serve(b"/hello.txt", ("If-None-Match", ETAG)).status == 304
    ranged = serve(b"/hello.txt", ("Range", "bytes=0-4"))
    assert (ranged.status, ranged.body) == (206, b"hello")
    assert serve(b"/hello.txt", ("If-Match", '"x"')).status == 412
    assert content(serve(b"/hello.txt")) == HELLO


def test_ready_response_is_the_same_object_for_plain_repeats(serve: Serve) -> None:
    first, second = warm(serve, 3), serve(b"/hello.txt")
    assert first is second and first.shared
    assert content(second) == HELLO


def test_cache_holds_a_bounded_number_of_files(tmp_path: Path) -> None:
    for i in range(static.CACHE_ENTRIES + 10):
        (tmp_path / f"f{i}.txt").write_bytes(b"x")
    files = StaticFiles(tmp_path)
    for i in range(static.CACHE_ENTRIES + 10):
        assert files.handle("GET", f"/f{i}.txt".encode(), b"", Headers()).status == 200
    assert len(files._cache) == static.CACHE_ENTRIES


def test_ready_responses_are_bounded(tmp_path: Path) -> None:
    files = StaticFiles(tmp_path)
    for i in range(static.CACHE_ENTRIES + 10):
        (tmp_path / f"f{i}.txt").write_bytes(b"x")
        for _ in range(2):
            files.handle("GET", f"/f{i}.txt".encode(), b"", Headers())
    assert len(files._ready) == static.CACHE_ENTRIES
