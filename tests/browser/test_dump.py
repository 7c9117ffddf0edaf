"""`sockweb browse --dump` end to end: a real process against real servers and files.

Pages come from sockweb's own server (``start_server``), from nginx (with a
charset in its Content-Type and a redirect), from file:// URLs and bare
paths. Failures behave as lynx's do where a page exists (a 404 page is
printed, exit 0) and as ``sockweb get``'s where none does (one line on
stderr, curl's exit code).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.client.conftest import free_port, stop, wait_listening
from tests.wire import read_head

PAGE = """<!doctype html><html><head><title>Front page</title>
<style>.x { color: red }</style><script>var SCRIPTED = 1;</script></head>
<body><h1>Front   page</h1>
<p>See <a href="docs/guide.html">the guide</a> and <a href="/about.html#team">the team</a>.</p>
<ul><li>one</li><li>two</li></ul>
</body></html>
"""


def browse(*args: str, cwd: str | None = None,
           timeout: float = 30) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, COLUMNS="200")
    return subprocess.run([sys.executable, "-m", "sockweb", "browse", *args],
                          capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env)


@pytest.fixture
def pages(tmp_path: Path) -> Path:
    root = tmp_path / "pages"
    (root / "docs").mkdir(parents=True)
    (root / "index.html").write_text(PAGE)
    (root / "docs" / "guide.html").write_text(
        "<title>Guide</title><p>Back to <a href='../index.html'>the start</a>.</p>")
    (root / "notes.txt").write_text("plain\ttext\n  kept as it is\n")
    (root / "koi8.html").write_bytes("<p>Привет из nginx</p>".encode("koi8-r"))
    return root


def test_dump_from_sockweb_server(start_server: Callable[..., object], pages: Path) -> None:
    server = start_server(str(pages))
    url = server.url  # type: ignore[attr-defined]
    got = browse("--dump", f"{url}/")
    assert got.returncode == 0, got.stderr
    assert got.stdout == (
        "Front page\n\nSee [1]the guide and [2]the team.\n\n  * one\n  * two\n\n"
        f"References\n\n   1. {url}/docs/guide.html\n   2. {url}/about.html#team\n")
    assert "SCRIPTED" not in got.stdout and "color" not in got.stdout


def test_width_and_source(start_server: Callable[..., object], pages: Path) -> None:
    url = start_server(str(pages)).url  # type: ignore[attr-defined]
    narrow = browse("--dump", "--width", "20", f"{url}/").stdout
    assert "See [1]the guide and\n[2]the team." in narrow
    source = subprocess.run([sys.executable, "-m", "sockweb", "browse", "--source", f"{url}/"],
                            capture_output=True, timeout=30)
    assert source.returncode == 0 and source.stdout == PAGE.encode()


def test_404_page_is_printed_like_lynx(start_server: Callable[..., object],
                                       pages: Path) -> None:
    url = start_server(str(pages)).url  # type: ignore[attr-defined]
    got = browse("--dump", f"{url}/missing.html")
    assert got.returncode == 0
    assert "404" in got.stdout and "Not Found" in got.stdout
    assert got.stderr == ""


def test_plain_text_is_shown_as_text(start_server: Callable[..., object], pages: Path) -> None:
    url = start_server(str(pages)).url  # type: ignore[attr-defined]
    got = browse("--dump", f"{url}/notes.txt")
    assert got.stdout == "plain   text\n  kept as it is\n"


@pytest.fixture
def nginx_pages(tmp_path: Path, pages: Path) -> Iterator[str]:
    """nginx serving ``pages``: a charset in the Content-Type, a redirect into docs/."""
    assert shutil.which("nginx") is not None, "apt-get install nginx (.ci/run does)"
    work = tmp_path / "nginx"
    for d in ("logs", "tmp"):
        (work / d).mkdir(parents=True)
    port = free_port()
    (work / "nginx.conf").write_text(f"""
daemon off; master_process off; worker_processes 1;
pid {work}/nginx.pid; error_log {work}/logs/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {work}/tmp; proxy_temp_path {work}/tmp;
    fastcgi_temp_path {work}/tmp; uwsgi_temp_path {work}/tmp; scgi_temp_path {work}/tmp;
    types {{ text/html html; text/plain txt; }}
    gzip on; gzip_min_length 10; gzip_types text/html;
    server {{
        listen 127.0.0.1:{port};
        root {pages};
        location = /koi8.html {{ charset koi8-r; }}
        location = /start {{ return 302 /docs/guide.html; }}
    }}
}}
""")
    proc = subprocess.Popen(["nginx", "-c", str(work / "nginx.conf"), "-p", str(work)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_listening(port, proc)
    yield f"http://127.0.0.1:{port}"
    stop(proc, signal.SIGQUIT)


def test_dump_from_nginx(nginx_pages: str) -> None:
    got = browse("--dump", f"{nginx_pages}/index.html")
    assert got.returncode == 0, got.stderr
    assert got.stdout.startswith("Front page\n\nSee [1]the guide and [2]the team.")


def test_nginx_charset_header(nginx_pages: str) -> None:
    assert browse("--dump", f"{nginx_pages}/koi8.html").stdout == "Привет из nginx\n"


def test_redirect_is_followed_and_links_resolve_from_where_it_ended(nginx_pages: str) -> None:
    got = browse("--dump", f"{nginx_pages}/start")
    assert got.stdout == (f"Back to [1]the start.\n\nReferences\n\n"
                          f"   1. {nginx_pages}/index.html\n")


def test_file_url_and_bare_paths(pages: Path) -> None:
    by_url = browse("--dump", (pages / "index.html").as_uri())
    by_path = browse("--dump", str(pages / "index.html"))
    by_relative = browse("--dump", "index.html", cwd=str(pages))
    assert by_url.returncode == by_path.returncode == by_relative.returncode == 0
    assert by_url.stdout == by_path.stdout == by_relative.stdout
    assert f"   1. {(pages / 'docs' / 'guide.html').as_uri()}" in by_url.stdout
    assert "   2. file:///about.html#team" in by_url.stdout


def test_a_path_that_needs_percent_encoding(tmp_path: Path) -> None:
    """A bare path becomes a file URL as pathlib's as_uri() writes it: space, "#",
    "%", "?" and non-ASCII encoded, so that the name is not read as a fragment."""
    page = tmp_path / "a b#c%d?é.html"
    page.write_text('<p>Odd <a href="#x">name</a></p>', encoding="utf-8")
    by_path = browse("--dump", str(page))
    assert by_path.returncode == 0, by_path.stderr
    assert by_path.stdout == f"Odd [1]name\n\nReferences\n\n   1. {page.as_uri()}#x\n"
    assert browse("--dump", page.as_uri()).stdout == by_path.stdout


def test_a_directory_is_a_listing(pages: Path) -> None:
    got = browse("--dump", str(pages))
    assert got.returncode == 0
    assert "[2]docs/" in got.stdout and f"{(pages / 'docs').as_uri()}/" in got.stdout


@pytest.mark.parametrize(("target", "code", "words"), [
    ("/no/such/file.html", 37, "No such file"),
    ("http://127.0.0.1:1/", 7, "refused"),
    ("http://no-such-host.invalid/", 6, "resolve"),
    ("gopher://example.test/", 3, "scheme"),
    ("ftp://example.test/", 3, "unsupported scheme 'ftp'"),
    # not taken for a host and a port (they were: "could not resolve host: b")
    ("mailto:a@b", 3, "unsupported scheme 'mailto'"),
    ("javascript:alert(1)", 3, "unsupported scheme 'javascript'"),
    ("data:text/html,hi", 3, "unsupported scheme 'data'"),
])
def test_failures_are_one_line_and_an_exit_code(target: str, code: int, words: str) -> None:
    got = browse("--dump", target)
    assert got.returncode == code
    assert got.stdout == ""
    assert got.stderr.count("\n") == 1 and words in got.stderr, got.stderr


def test_binary_content_is_not_dumped(start_server: Callable[..., object],
                                      pages: Path) -> None:
    (pages / "blob.bin").write_bytes(bytes(range(256)))
    got = browse("--dump", f"{start_server(str(pages)).url}/blob.bin")  # type: ignore[attr-defined]
    assert got.returncode == 0 and got.stdout == ""
    assert "not a page" in got.stderr


def test_dump_to_a_closed_pipe_is_quiet(pages: Path) -> None:
    big = pages / "big.html"
    big.write_text("<p>" + "line<br>" * 50000)
    proc = subprocess.run(f"{sys.executable} -m sockweb browse --dump {big} | head -1",
                          shell=True, capture_output=True, text=True, timeout=60)
    assert proc.stdout == "line\n" and proc.stderr == ""


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_ctrl_c_ends_a_dump_stuck_in_the_parse_at_once(tmp_path: Path) -> None:
    """Lexbor's tree builder is quadratic in nesting depth and Python's SIGINT
    handler cannot run inside it: 150,000 nested <div>s keep it busy for
    seconds (about 20 here). Ctrl-C must end the dump at once, as it ends lynx."""
    page = tmp_path / "deep.html"
    page.write_text("<div>" * 150_000 + "x")
    proc = subprocess.Popen([sys.executable, "-m", "sockweb", "browse", "--dump", str(page)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # Past start-up and imports (a twentieth of a second of CPU): in the parse.
        deadline = time.monotonic() + 30
        while _cpu_seconds(proc.pid) < 1.0 and proc.poll() is None:
            assert time.monotonic() < deadline, "the dump never got busy"
            time.sleep(0.05)
        assert proc.poll() is None, "the parse ended before Ctrl-C could be tested"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(5) == -signal.SIGINT
        assert proc.stdout is not None and proc.stdout.read() == b""
    finally:
        stop(proc, signal.SIGKILL)

def test_usage_errors_and_lazy_imports() -> None:
    assert browse("--dump", "--width", "5", "x.html").returncode == 2
    code = ("import sys; from sockweb.cli import build_parser; build_parser('get'); "
            "print(any(m.startswith(('sockweb.browser', 'selectolax')) for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=30, check=True)
    assert out.stdout.strip() == "False"


def test_deeply_nested_page_is_laid_out(tmp_path: Path) -> None:
    """Hostile input is input: 20,000 nested elements (Python's recursion limit is
    about 1,000 frames) are laid out on a deeper stack, not a traceback (depth.py)."""
    page = tmp_path / "deep.html"
    page.write_text("<div>" * 20_000 + "deep <a href='x.html'>link</a>"
                    + "<blockquote>" * 2_000 + "quoted")
    got = browse("--dump", str(page))
    assert got.returncode == 0, got.stderr
    assert "Traceback" not in got.stderr
    words = got.stdout.split()
    assert words[:2] == ["deep", "[1]link"] and "quoted" in words
    assert f"file://{tmp_path}/x.html" in got.stdout


def test_a_page_too_deep_even_for_that_is_one_line(tmp_path: Path) -> None:
    """Past depth.DEEP_FRAMES the page is refused with one line and exit code 1. The
    limit is lowered here (a real process, the real command): a page deep enough
    for the default would take Lexbor's parser half a minute to build."""
    page = tmp_path / "deeper.html"
    page.write_text("<div>" * 6_000 + "deep")
    code = ("import sys; from sockweb.browser import depth; depth.DEEP_FRAMES = 4000; "
            "from sockweb.cli import main; sys.exit(main(sys.argv[1:]))")
    got = subprocess.run([sys.executable, "-c", code, "browse", "--dump", str(page)],
                         capture_output=True, text=True, timeout=60)
    assert got.returncode == 1
    assert got.stdout == ""
    assert got.stderr == ("sockweb: the page nests elements more than about 2,000 levels "
                          "deep: too deep to lay out\n")


def test_a_file_without_end_is_refused_at_the_page_cap() -> None:
    """/dev/zero as a page: read up to load.MAX_FILE_PAGE (the client's cap on a body
    held in memory, api.MAX_CONTENT), then one line and curl's exit 63, not a
    process that grows until memory runs out."""
    from sockweb.browser.load import MAX_FILE_PAGE
    from sockweb.client.api import MAX_CONTENT

    assert MAX_FILE_PAGE == MAX_CONTENT
    got = browse("--dump", "/dev/zero", timeout=60)
    assert got.returncode == 63, got.stderr
    assert got.stdout == ""
    assert got.stderr == (f"sockweb: /dev/zero is larger than {MAX_FILE_PAGE} bytes: "
                          "too large to show\n")


def test_file_page_cap_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sockweb.browser import load
    from sockweb.client.decoding import BodyTooLarge

    page = tmp_path / "page.html"
    page.write_bytes(b"<p>" + b"x" * 100)
    monkeypatch.setattr(load, "MAX_FILE_PAGE", 103)
    assert load.load(str(page)).body.endswith(b"x")
    monkeypatch.setattr(load, "MAX_FILE_PAGE", 102)
    with pytest.raises(BodyTooLarge):
        load.load(str(page))


def test_control_characters_never_reach_the_terminal(tmp_path: Path) -> None:
    """ESC, BEL, BS, DEL, NUL and C1 controls in a page would act on the reader's
    terminal (retitle it, move the cursor, recolour): dropped, as lynx and w3m do,
    from UTF-8 and windows-1252 pages, plain text, and the title."""
    from sockweb.browser import layout

    evil = "\x1b]0;owned\x07 \x1b[2J\x08\x7f\x00"
    utf8 = tmp_path / "utf8.html"
    utf8.write_bytes(f"<title>T{evil}</title><p>one{evil}\u009b31m two</p>".encode())
    cp1252 = tmp_path / "cp1252.html"
    cp1252.write_bytes(b"<meta charset=windows-1252><p>three\x1b[31m\x81\x8d four \x80</p>")
    text = tmp_path / "plain.txt"
    text.write_bytes(f"five{evil}\rsix\n".encode())
    for path, words in ((utf8, "one]0;owned [2J31m two"), (cp1252, "three[31m four \u20ac"),
                        (text, "five]0;owned [2J six")):
        got = browse("--dump", str(path))
        assert got.returncode == 0, got.stderr
        assert not any((c < " " and c not in "\n") or "\x7f" <= c <= "\x9f" for c in got.stdout)
        assert " ".join(got.stdout.split()).startswith(words), got.stdout
    page = layout.render(utf8.read_bytes(), utf8.as_uri())
    assert page.title == "T]0;owned [2J"


def _is_control(c: str) -> bool:
    return (c < " " and c != "\n") or "\x7f" <= c <= "\x9f"


CONTROL_REFS = (
    '<title>T&#27;]0;pwned&#7;</title>'
    '<p>text:&#27;[31mRED&#x1b;[0m bel:&#7; del:&#127; bs:&#8;&#8;X '
    'osc52:&#x1B;]52;c;aGVsbG8=&#x07; nosemi:&#27[1m zeros:&#0000027;&#x00001B; '
    'c1:[&#x81;][&#x8d;][&#x9d;][&#x90;][&#143;][&#X9D] kept:&#150;&#x80;&#9731;</p>'
    '<p><img alt="alt&#27;[5mblink" src=x></p>'
    '<form><input value="val&#27;[31mv"><input value=cr&#13;ff&#12;x>'
    '<textarea>ta&#27;[2J&#13;two</textarea>'
    '<select><option>o&#27;[7m</select></form>'
    '<pre>pre&#27;[41m&#12;ff&#13;cr&#13;&#10;crlf\x0craw</pre>'
    '<table><tr><td>td&#27;[42m</td></tr></table>'
    '<a href="x">link&#27;[1m</a> <a href="javascript:&#27;[2J">js</a> '
    '<a href="http://x/&#27;]52;c;Zm9v&#7;">osc</a>'
)


def test_control_character_references_never_reach_the_terminal(tmp_path: Path) -> None:
    """Numeric references to controls (``&#27;``, ``&#x9d;``...) are decoded by the
    parser, after the raw control characters were dropped: they become U+FFFD, in
    text, alt text, control values, <pre>, cells, link text and link URLs. &#12;
    is a space and &#13; a line break; &#150; and &#x80; stay the dash and euro
    sign that the standard's windows-1252 table makes of them."""
    from sockweb.browser import layout

    page = tmp_path / "refs.html"
    page.write_text(CONTROL_REFS)
    latin = tmp_path / "refs-1252.html"  # decoded to text before parsing: the other path
    latin.write_bytes(b"<meta charset=windows-1252>\xe9" + CONTROL_REFS.encode())
    for path in (page, latin):
        got = browse("--dump", str(path))
        assert got.returncode == 0, got.stderr
        assert not any(_is_control(c) for c in got.stdout), repr(got.stdout)
        out = got.stdout
        assert "text:\ufffd[31mRED\ufffd[0m bel:\ufffd del:\ufffd bs:\ufffd\ufffdX" in out
        assert "nosemi:\ufffd[1m zeros:\ufffd\ufffd" in out
        assert "c1:[\ufffd][\ufffd][\ufffd][\ufffd][\ufffd][\ufffd] kept:\u2013\u20ac\u2603" in out
        assert "[alt\ufffd[5mblink]" in out and "[cr ff x" in out
        assert "[ta\ufffd[2J___" in out and "[two___" in out
        assert "pre\ufffd[41m ff\ncr\ncrlf raw\n" in out
        assert "[3]osc" in out and "javascript:\ufffd[2J" in out
        rendered = layout.render(path.read_bytes(), path.as_uri())  # what the UI draws
        assert rendered.title == "T\ufffd]0;pwned\ufffd"
        texts = [span.text for line in rendered.lines for span in line.spans]
        links = [link.url for link in rendered.links]
        assert not any(_is_control(c) for c in "".join(texts + links))


def _raw_server(answer: bytes) -> Iterator[str]:
    """A server on an ephemeral port of 127.0.0.1 that answers every request with
    ``answer``, byte for byte, whatever it says."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                read_head(conn)
                conn.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()


@pytest.fixture
def c1_content_type() -> Iterator[str]:
    yield from _raw_server(b"HTTP/1.1 200 OK\r\nContent-Type: \x9b31mapplication/octet\r\n"
                           b"Content-Length: 3\r\nConnection: close\r\n\r\nabc")


def test_a_control_in_a_header_is_escaped_on_stderr(c1_content_type: str) -> None:
    """The "not a page" line quotes the server's Content-Type: its C1 CSI (the byte
    0x9b, U+009B as the header is read) is written as \\x9b, not sent to the terminal."""
    got = browse("--dump", f"{c1_content_type}/file")
    assert got.returncode == 0 and got.stdout == ""
    assert got.stderr == (f"sockweb: {c1_content_type}/file is \\x9b31mapplication/octet "
                          "(3 bytes), not a page: use sockweb get -o FILE to save it\n")


def test_file_names_that_are_not_utf8(tmp_path: Path) -> None:
    """A name with a byte that is not UTF-8 (Latin-1's é) is a file like any other,
    by path and by file:// URL (percent-decoded to bytes), and in a listing, where it
    shows as U+FFFD and links to its bytes, as lynx's listing does."""
    name = os.fsdecode(b"f\xe9.html")
    (tmp_path / name).write_text("<p>latin name</p>")
    by_path = browse("--dump", str(tmp_path / name))
    by_url = browse("--dump", f"file://{tmp_path}/f%E9.html")
    assert by_path.returncode == by_url.returncode == 0, by_path.stderr + by_url.stderr
    assert by_path.stdout == by_url.stdout == "latin name\n"
    (tmp_path / os.fsdecode(b"bad\xffutf8")).write_bytes(b"")
    listing = browse("--dump", str(tmp_path))
    assert listing.returncode == 0, listing.stderr
    assert "[2]bad\ufffdutf8" in listing.stdout and "[3]f\ufffd.html" in listing.stdout
    assert f"   2. file://{tmp_path}/bad%FFutf8\n" in listing.stdout
    assert f"   3. file://{tmp_path}/f%E9.html\n" in listing.stdout


def test_a_missing_relative_file_is_a_file_not_a_host(tmp_path: Path) -> None:
    """``nope.html`` names no host: it is the file that is missing, as lynx says."""
    got = browse("--dump", "nope.html", cwd=str(tmp_path))
    assert got.returncode == 37
    assert got.stderr == f"sockweb: cannot read {tmp_path}/nope.html: No such file or directory\n"


def test_map_canvas_video_audio_content_is_shown(tmp_path: Path) -> None:
    """A map is transparent; a canvas shows its fallback with scripts off; a video's
    or an audio's fallback is what a browser that plays nothing shows (lynx, w3m)."""
    page = tmp_path / "media.html"
    page.write_text(
        '<map name="nav"><p>Nav: <a href="home.html">Home</a></p>'
        '<area href="a1.html" alt="Area1"></map>'
        '<p>canvas: <canvas>No canvas; <a href="chart.png">the chart</a></canvas></p>'
        '<p>video: <video src=v.mp4><source src=v.webm><track src=t.vtt>'
        'VIDEO-FALLBACK <a href="v.mp4">download</a></video></p>'
        '<p>audio: <audio src=a.mp3>AUDIO-FALLBACK</audio> svg: <svg><text>SVG</text></svg></p>')
    got = browse("--dump", str(page))
    assert got.returncode == 0, got.stderr
    assert got.stdout == (
        "Nav: [1]Home\n\ncanvas: No canvas; [2]the chart\n\n"
        "video: VIDEO-FALLBACK [3]download\n\naudio: AUDIO-FALLBACK svg:\n\n"
        f"References\n\n   1. file://{tmp_path}/home.html\n"
        f"   2. file://{tmp_path}/chart.png\n   3. file://{tmp_path}/v.mp4\n")
