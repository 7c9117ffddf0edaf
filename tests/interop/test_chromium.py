"""Headless Debian Chromium loads pages and listings from sockweb.

``/usr/bin/chromium`` is a shell wrapper that starts the real browser and its
helpers, so each run gets its own session (process group) and, if it does not
finish within ``CHROMIUM_TIMEOUT``, that group, whose id is the wrapper's
pid, is killed. CI installs Chromium (``.ci/run``): a missing binary fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import ServerProcess

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_TIMEOUT = 60.0
SHOT_FOR_LEAD = Path("/tmp/listing.png")


def run_chromium(tmp_path: Path, *args: str) -> tuple[int, bytes, bytes]:
    assert os.path.exists(CHROMIUM), f"{CHROMIUM} is missing (CI installs the chromium package)"
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    cmd = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={profile}", *args,
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=CHROMIUM_TIMEOUT)
    except subprocess.TimeoutExpired:
        _kill_group(proc.pid)
        out, err = proc.communicate(timeout=10)
        pytest.fail(f"chromium did not finish within {CHROMIUM_TIMEOUT}s: {err[-2000:]!r}")
    finally:
        # Helpers (zygote, renderer) that outlived the browser share its group.
        _kill_group(proc.pid)
    return proc.returncode, out, err


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


class DomText(HTMLParser):
    """Links (href, text), headings, the title and every element name of a DOM dump."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.h1: list[str] = []
        self.title = ""
        self.tags: list[str] = []
        self._href: str | None = None
        self._text: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "a":
            self._href = dict(attrs).get("href") or ""
            self._text = []
        elif tag in ("h1", "title"):
            self._in = tag
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._text)))
            self._href = None
        elif tag == self._in == "h1":
            self.h1.append("".join(self._text).strip())
            self._in = None
        elif tag == self._in == "title":
            self.title = "".join(self._text).strip()
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._href is not None or self._in is not None:
            self._text.append(data)


def dump_dom(tmp_path: Path, url: str) -> DomText:
    code, out, err = run_chromium(tmp_path, "--dump-dom", url)
    assert code == 0, err[-2000:]
    dom = DomText()
    dom.feed(out.decode("utf-8"))
    dom.close()
    return dom


@pytest.fixture
def server(start_server, site: Path) -> ServerProcess:  # type: ignore[no-untyped-def]
    server: ServerProcess = start_server(str(site))
    return server


def test_chromium_renders_html_page(server: ServerProcess, tmp_path: Path) -> None:
    """``/`` is index.html, sent as text/html; charset=utf-8 (RFC 9110 section 8.3)."""
    dom = dump_dom(tmp_path, f"{server.url}/")
    assert dom.title == "Home"
    assert dom.h1 == ["Home"]
    server.wait_for_output('"GET / HTTP/1.1" 200')


def test_chromium_listing_links(server: ServerProcess, tmp_path: Path) -> None:
    dom = dump_dom(tmp_path, f"{server.url}/docs/")
    assert dom.h1 == ["Index of /docs/"]
    assert dom.title == "Index of /docs/"
    # Every file, by its exact name as text, with a percent-encoded relative href.
    assert sorted(dom.links) == sorted([
        ("../", "../"),
        ("%3Cscript%3E.txt", "<script>.txt"),
        ("a%20b.txt", "a b.txt"),
        ("notes.md", "notes.md"),
    ])  # fmt: skip
    # "<script>.txt" stayed text: no element was made of a file name.
    assert "script" not in dom.tags


def test_chromium_screenshot_of_listing(server: ServerProcess, tmp_path: Path) -> None:
    shot = tmp_path / "x.png"
    code, _, err = run_chromium(
        tmp_path, f"--screenshot={shot}", "--window-size=1024,768", f"{server.url}/docs/"
    )
    assert code == 0, err[-2000:]
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1024, 768)
    # Not a blank page: the decoded pixels take more than a handful of values.
    pixels = zlib.decompress(b"".join(_chunks(data, b"IDAT")))
    assert len(set(pixels)) > 16
    shutil.copyfile(shot, SHOT_FOR_LEAD)
    # The page asked for and nothing else went wrong on the server's side.
    server.wait_for_output('"GET /docs/ HTTP/1.1" 200')
    assert not any("Traceback" in line for line in server.errors)


def _chunks(png: bytes, kind: bytes) -> list[bytes]:
    out = []
    pos = 8
    while pos + 8 <= len(png):
        length, name = struct.unpack(">I4s", png[pos : pos + 8])
        if name == kind:
            out.append(png[pos + 8 : pos + 8 + length])
        pos += 12 + length
    return out
