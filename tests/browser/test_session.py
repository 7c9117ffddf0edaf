"""The browsing session against real servers on 127.0.0.1, no terminal.

Pages are served by sockweb's own server from a temporary directory; form
posts, cookies and redirects go to the Flask app of the client's tests, whose
/echo answers with the request it got as JSON.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sockweb.browser import forms
from sockweb.browser.session import Document, Session, resolve
from sockweb.client.api import Client
from tests.client.conftest import Peer, flask_app  # noqa: F401  (a fixture, used by name)
from tests.conftest import ServerProcess

INDEX = """<!doctype html><html><head><title>Index</title></head><body>
<h1>Index page</h1>
<p>Go to <a href="second.html">the second page</a> or
<a href="second.html#deep">deep in it</a> or <a href="#bottom">the bottom</a>.</p>
<p>The quick brown fox jumps over the lazy dog. The Fox again.</p>
""" + "<p>filler line</p>\n" * 40 + """<p id="bottom">Bottom of the index, fox.</p>
</body></html>
"""
SECOND = """<!doctype html><title>Second</title><h1>Second page</h1>
<p><a href="index.html">back to the index</a></p>
""" + "<p>more filler</p>\n" * 40 + """<h2 id="deep">Deep section</h2><p>deep text</p>
"""


def form_page(action: str, method: str = "get", enctype: str = "") -> str:
    enc = f' enctype="{enctype}"' if enctype else ""
    return f"""<!doctype html><title>Form</title>
<form action="{action}" method="{method}"{enc}>
<label>Query <input name="q" value="start"></label>
<input type="hidden" name="token" value="t0k">
<input type="checkbox" name="box" value="yes"> box
<input type="checkbox" name="plain" checked> plain
<input type="radio" name="color" value="red" checked> red
<input type="radio" name="color" value="blue"> blue
<select name="size"><option>small</option><option value="L">large</option></select>
<input name="off" value="never sent" disabled>
<textarea name="notes">line one</textarea>
<input type="file" name="upload">
<input type="submit" name="go" value="Search">
<input type="submit" name="other" value="Other">
</form>"""


@pytest.fixture
def site(tmp_path: Path, flask_app: Peer) -> Path:  # noqa: F811
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_text(INDEX)
    (root / "second.html").write_text(SECOND)
    (root / "notes.txt").write_text("plain text, not HTML <b>kept</b>\n")
    (root / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    (root / "search.html").write_text(form_page("results.html"))
    (root / "results.html").write_text("<title>Results</title><p>Results page</p>")
    (root / "post.html").write_text(form_page(f"{flask_app.url}/echo", "post"))
    (root / "multipart.html").write_text(
        form_page(f"{flask_app.url}/echo", "post", "multipart/form-data"))
    return root


@pytest.fixture
def server(site: Path, start_server: Callable[..., ServerProcess]) -> ServerProcess:
    return start_server(str(site), "--no-access-log")


@pytest.fixture
def session() -> Iterator[Session]:
    s = Session(width=80)
    yield s
    s.close()


def link_number(doc: Document, text: str) -> int:
    return next(link.number for link in doc.page.links if text in link.text)


def control_named(doc: Document, name: str, value: str | None = None) -> int:
    return next(c.number for c in doc.page.controls
                if c.name == name and (value is None or c.value == value))


def echoed(doc: Document) -> dict[str, object]:
    assert doc.status == 200, doc.error
    data: dict[str, object] = json.loads(doc.body)
    return data


# -- opening and moving about ---------------------------------------------------------


def test_open_a_page(server: ServerProcess, session: Session, site: Path) -> None:
    doc = session.open(f"{server.url}/index.html")
    assert (doc.status, doc.reason, doc.error) == (200, "OK", None)
    assert doc.title == "Index" and doc.elapsed > 0
    assert "Index page" in doc.page.lines[0].text
    assert doc.body == (site / "index.html").read_bytes()
    assert ("content-type", "text/html") in [(n.lower(), v.split(";")[0]) for n, v in doc.headers]
    assert [link.url for link in doc.page.links][:2] == [
        f"{server.url}/second.html", f"{server.url}/second.html#deep"]


def test_follow_back_and_forward(server: ServerProcess, session: Session) -> None:
    index = session.open(f"{server.url}/index.html")
    index.top = 7  # where the reader had scrolled to
    second = session.follow(link_number(index, "the second page"))
    assert second.url == f"{server.url}/second.html" and second.title == "Second"
    assert session.can_go_back and not session.can_go_forward
    assert session.back() is index and index.top == 7
    assert session.back() is None
    assert session.forward() is second and session.forward() is None
    session.back()
    third = session.open(f"{server.url}/notes.txt")  # opening drops what was forward
    assert [d.url for d in session.history] == [index.url, third.url]


def test_fragment_links(server: ServerProcess, session: Session) -> None:
    index = session.open(f"{server.url}/index.html")
    bottom = session.follow(link_number(index, "the bottom"))
    assert bottom.page is index.page  # an in-page link fetches nothing
    assert "Bottom of the index" in bottom.page.lines[bottom.top].text
    assert session.back() is index
    deep = session.follow(link_number(index, "deep in it"))
    assert "Deep section" in deep.page.lines[deep.top].text


def test_reload_fetches_again(server: ServerProcess, session: Session, site: Path) -> None:
    session.open(f"{server.url}/results.html")
    (site / "results.html").write_text("<title>Changed</title><p>New results</p>")
    doc = session.reload()
    assert doc is not None and doc.title == "Changed" and len(session.history) == 1


def test_plain_text_and_binary(server: ServerProcess, session: Session) -> None:
    text = session.open(f"{server.url}/notes.txt")
    assert text.page.lines[0].text.startswith("plain text, not HTML <b>kept</b>")
    binary = session.open(f"{server.url}/image.png")
    assert binary.status == 200 and "press s to save" in "\n".join(
        line.text for line in binary.page.lines)


def test_file_urls_and_bare_paths(site: Path, session: Session,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    doc = session.open((site / "index.html").as_uri())
    assert doc.title == "Index" and doc.status == 200
    assert session.open(str(site / "second.html")).title == "Second"
    monkeypatch.chdir(site)
    doc = session.open("second.html")
    assert doc.title == "Second" and doc.url == (site / "second.html").as_uri()
    linked = session.follow(link_number(doc, "back to the index"))
    assert linked.title == "Index"


RESOLVE_CASES = [
    ("http://Example.COM/a", "http://example.com/a"),
    ("example.com/x", "http://example.com/x"),
    ("localhost:8000", "http://localhost:8000/"),
    ("  https://example.com  ", "https://example.com/"),
    ("/etc/hostname", "file:///etc/hostname"),
    ("#top", "http://base.test/page#top"),
]


@pytest.mark.parametrize(("typed", "url"), RESOLVE_CASES)
def test_resolve_what_was_typed(typed: str, url: str) -> None:
    assert resolve(typed, "http://base.test/page") == url


# -- failures are pages ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_404_shows_the_servers_page(server: ServerProcess, session: Session) -> None:
    doc = session.open(f"{server.url}/missing.html")
    assert doc.status == 404 and doc.error is None and doc.page.lines


@pytest.mark.parametrize(("url", "heading"), [
    ("http://no-such-host.invalid/", "Host not found"),
    ("http://127.0.0.1:{port}/", "Connection failed"),
    ("file:///no/such/file.html", "Cannot read the file"),
    ("ftp://example.com/", "Not a URL"),
])
def test_failures_become_error_pages(session: Session, url: str, heading: str) -> None:
    doc = session.open(url.format(port=free_port()))
    assert doc.status == 0 and doc.error is not None and doc.error.startswith(heading)
    text = "\n".join(line.text for line in doc.page.lines)
    assert heading in text
    assert session.current is doc  # a page in the history like any other: back works


def test_timeout_is_an_error_page() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts (in the kernel) and never answers
    session = Session(client=Client(timeout=0.3))
    try:
        doc = session.open(f"http://127.0.0.1:{listener.getsockname()[1]}/")
    finally:
        session.close()
        listener.close()
    assert doc.error is not None and doc.error.startswith("Timed out")


def test_tls_failure_is_an_error_page(server: ServerProcess, session: Session) -> None:
    doc = session.open(server.url.replace("http:", "https:") + "/index.html")
    assert doc.error is not None and doc.error.startswith("Secure connection failed")


def test_untrusted_certificate_is_an_error_page(session: Session) -> None:
    import ssl

    import trustme

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(context)  # a CA nobody trusts
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def serve_one() -> None:
        conn, _ = listener.accept()
        with conn, contextlib.suppress(OSError):
            context.wrap_socket(conn, server_side=True)  # the client gives up mid-handshake

    thread = threading.Thread(target=serve_one, daemon=True)
    thread.start()
    try:
        doc = session.open(f"https://127.0.0.1:{listener.getsockname()[1]}/index.html")
    finally:
        thread.join(5)
        listener.close()
    assert doc.error is not None and doc.error.startswith("Certificate not trusted")


# -- find, views, save ----------------------------------------------------------------


def test_find_next_and_previous(server: ServerProcess, session: Session) -> None:
    doc = session.open(f"{server.url}/index.html")
    first = session.find("fox")
    assert first is not None and len(session.matches) == 3  # smartcase: "Fox" too
    assert doc.page.lines[first.line].text[first.start:first.end] == "fox"
    second = session.next_match()
    assert second is not None and second.line == first.line and second.start > first.start
    bottom = session.next_match()
    assert bottom is not None and bottom.line > first.line
    assert session.next_match() == first  # wraps
    assert session.next_match(-1) == bottom
    assert session.find("Fox") is not None and len(session.matches) == 1
    assert session.find("fox", from_line=first.line + 1) == bottom
    assert session.find("no such words") is None and session.next_match() is None


def test_source_headers_and_save(server: ServerProcess, session: Session, site: Path,
                                 tmp_path: Path) -> None:
    session.open(f"{server.url}/index.html")
    source = "\n".join(line.text for line in session.source_page().lines)
    assert '<a href="second.html">' in source
    headers = "\n".join(line.text for line in session.headers_page().lines)
    assert "Status: 200 OK" in headers and "content-type: text/html" in headers.lower()
    assert session.save(str(tmp_path / "saved.html")).startswith("saved")
    assert (tmp_path / "saved.html").read_bytes() == (site / "index.html").read_bytes()
    (tmp_path / "dir").mkdir()
    session.save(str(tmp_path / "dir"))
    assert (tmp_path / "dir" / "index.html").exists()
    assert session.save("/no/such/dir/x.html").startswith("cannot save")


# -- forms ----------------------------------------------------------------------------


def test_get_form(server: ServerProcess, session: Session) -> None:
    doc = session.open(f"{server.url}/search.html")
    forms.set_text(forms.control(doc.page, control_named(doc, "q")), "two words")
    result = session.submit(control_named(doc, "go"))
    assert result.title == "Results"
    assert result.url == (f"{server.url}/results.html?q=two+words&token=t0k&plain=on&color=red"
                          "&size=small&notes=line+one&upload=&go=Search")


def test_post_form_sends_what_the_reader_chose(server: ServerProcess, session: Session) -> None:
    doc = session.open(f"{server.url}/post.html")
    page = doc.page
    forms.set_text(forms.control(page, control_named(doc, "q")), "caf\u00e9 & more")
    forms.toggle(page, forms.control(page, control_named(doc, "box")))
    forms.toggle(page, forms.control(page, control_named(doc, "color", "blue")))
    forms.choose(forms.control(page, control_named(doc, "size")), 1)
    forms.set_text(forms.control(page, control_named(doc, "notes")), "a\nb")
    got = echoed(session.submit(control_named(doc, "other")))
    assert got["method"] == "POST"
    assert got["form"] == {"q": ["caf\u00e9 & more"], "token": ["t0k"], "box": ["yes"],
                           "plain": ["on"], "color": ["blue"], "size": ["L"], "notes": ["a\r\nb"],
                           "upload": [""], "other": ["Other"]}
    headers = got["headers"]
    assert isinstance(headers, dict)
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_implicit_submission_clicks_the_default_button(server: ServerProcess,
                                                       session: Session) -> None:
    doc = session.open(f"{server.url}/post.html")
    got = echoed(session.submit(control_named(doc, "q")))  # Enter in the text field
    form = got["form"]
    assert isinstance(form, dict) and form["go"] == ["Search"] and "other" not in form


def test_multipart_form_uploads_a_file(server: ServerProcess, session: Session,
                                       tmp_path: Path) -> None:
    upload = tmp_path / "report.txt"
    upload.write_bytes(b"file contents\n")
    doc = session.open(f"{server.url}/multipart.html")
    forms.set_text(forms.control(doc.page, control_named(doc, "upload")), str(upload))
    got = echoed(session.submit(control_named(doc, "go")))
    assert got["files"] == {"upload": {"filename": "report.txt", "content": "file contents\n",
                                       "type": "text/plain"}}
    form = got["form"]
    assert isinstance(form, dict) and form["q"] == ["start"] and form["go"] == ["Search"]
    headers = got["headers"]
    assert isinstance(headers, dict)
    assert headers["Content-Type"].startswith("multipart/form-data; boundary=")


def test_unreadable_upload_is_an_error_page(server: ServerProcess, session: Session) -> None:
    doc = session.open(f"{server.url}/multipart.html")
    forms.set_text(forms.control(doc.page, control_named(doc, "upload")), "/no/such/upload")
    result = session.submit(control_named(doc, "go"))
    assert result.error is not None and "cannot read /no/such/upload" in result.error


def test_reset_form(server: ServerProcess, session: Session) -> None:
    doc = session.open(f"{server.url}/search.html")
    q = forms.control(doc.page, control_named(doc, "q"))
    forms.set_text(q, "changed")
    session.reset_form(0)
    assert q.value == "start"


def test_form_state_survives_back_and_resize(server: ServerProcess, session: Session) -> None:
    doc = session.open(f"{server.url}/search.html")
    forms.set_text(forms.control(doc.page, control_named(doc, "q")), "kept")
    session.open(f"{server.url}/index.html")
    back = session.back()
    assert back is doc
    session.resize(50)
    assert back.page.width == 50
    assert forms.control(back.page, control_named(back, "q")).value == "kept"


# -- cookies and redirects ------------------------------------------------------------


def test_cookies_are_kept_for_the_session(flask_app: Peer, session: Session) -> None:  # noqa: F811
    session.open(f"{flask_app.url}/cookies/set?flavour=oat")
    doc = session.open(f"{flask_app.url}/cookies")
    assert echoed(doc) == {"flavour": "oat"}


def test_redirects_are_followed(flask_app: Peer, session: Session) -> None:  # noqa: F811
    doc = session.open(f"{flask_app.url}/redirect/302?to=/echo%3Fafter%3D1")
    assert doc.url == f"{flask_app.url}/echo?after=1"
    assert echoed(doc)["args"] == {"after": ["1"]}


def test_slow_loads_do_not_block_other_threads(flask_app: Peer) -> None:  # noqa: F811
    # The UI fetches in a worker thread: the session must be usable from one.
    result: list[Document] = []
    session = Session()
    worker = threading.Thread(
        target=lambda: result.append(session.open(f"{flask_app.url}/slow/0.2")))
    worker.start()
    worker.join(10)
    session.close()
    assert result and result[0].status == 200


def test_refresh_takes_the_page_place(server: ServerProcess, session: Session,
                                      site: Path) -> None:
    (site / "moved.html").write_text('<meta http-equiv="refresh" content="2; url=second.html">'
                                     "<p>Moved</p>")
    session.open(f"{server.url}/index.html")
    moved = session.open(f"{server.url}/moved.html")
    assert moved.page.refresh == [(2, f"{server.url}/second.html")]
    assert moved.page.lines[0].text == f"REFRESH(2 sec): [1]{server.url}/second.html"
    doc = session.refresh(moved.page.refresh[0][1])
    assert doc.title == "Second" and len(session.history) == 2 and session.index == 1
    assert session.back() is not None and session.current.title == "Index"  # type: ignore[union-attr]


def test_enter_cannot_send_two_fields_without_a_button(server: ServerProcess,
                                                       session: Session, site: Path) -> None:
    (site / "two.html").write_text(
        '<form action="results.html"><input name="a"><input name="b"></form>')
    doc = session.open(f"{server.url}/two.html")
    assert session.submit(control_named(doc, "a")) is None and session.current is doc


def test_linked_sheets_are_fetched_once_per_page(server: ServerProcess, session: Session,
                                                 site: Path) -> None:
    (site / "styled.css").write_text(".ad { display: none }")
    (site / "styled.html").write_text(
        '<link rel="stylesheet" href="styled.css"><p class="ad">ADVERT</p><p>Text</p>')
    doc = session.open(f"{server.url}/styled.html")
    assert [line.text for line in doc.page.lines] == ["Text"]
    assert doc.styles is not None and list(doc.styles.fetched) == [f"{server.url}/styled.css"]
    (site / "styled.css").write_text(".nothing { display: none }")
    session.resize(40)  # laid out again from what was fetched
    assert [line.text for line in doc.page.lines] == ["Text"] and doc.page.width == 40
    fresh = session.reload()  # a reload fetches the sheets again
    assert fresh is not None and [line.text for line in fresh.page.lines] == ["ADVERT", "", "Text"]


def test_a_web_page_cannot_open_a_local_file(server: ServerProcess, session: Session,
                                             site: Path, tmp_path: Path) -> None:
    """A link, a form or a refresh of a page served over HTTP to file:// is refused, as
    browsers refuse it ("Not allowed to load local resource"); the reader may still
    type the address, and a local page may link to another local file."""
    secret = tmp_path / "secret.txt"
    secret.write_text("local secret\n")
    (site / "lure.html").write_text(
        f'<meta http-equiv="refresh" content="5; url={secret.as_uri()}">'
        f'<p><a href="{secret.as_uri()}">secret</a></p>'
        f'<form action="{secret.as_uri()}"><input type=submit value=Go></form>')
    lure = session.open(f"{server.url}/lure.html")
    for attempt in (lambda: session.follow(link_number(lure, "secret")),
                    lambda: session.submit(control_named(lure, "")),
                    lambda: session.refresh(lure.page.refresh[0][1])):
        doc = attempt()
        assert doc is not None and doc.error.startswith("Not allowed to open a local file")
        assert b"local secret" not in doc.body
        session.back()
    typed = session.open(secret.as_uri())
    assert typed.status == 200 and typed.body == b"local secret\n"
    (tmp_path / "local.html").write_text(f'<a href="{secret.as_uri()}">next</a>')
    local = session.open((tmp_path / "local.html").as_uri())
    assert session.follow(link_number(local, "next")).body == b"local secret\n"


def test_a_file_input_value_never_picks_a_file(server: ServerProcess, session: Session,
                                               site: Path, tmp_path: Path,
                                               flask_app: Peer) -> None:  # noqa: F811
    """<input type=file value="~/.ssh/id_rsa">: browsers ignore the value, and so does
    sockweb; else submitting the form would upload a file the page chose."""
    secret = tmp_path / "secret.txt"
    secret.write_text("local secret\n")
    (site / "steal.html").write_text(
        f'<form action="{flask_app.url}/echo" method="post" enctype="multipart/form-data">'
        f'<input type="file" name="upload" value="{secret}">'
        '<input type="submit" name="go" value="Search"></form>')
    doc = session.open(f"{server.url}/steal.html")
    assert forms.control(doc.page, control_named(doc, "upload")).value == ""
    got = echoed(session.submit(control_named(doc, "go")))
    assert "local secret" not in json.dumps(got)
