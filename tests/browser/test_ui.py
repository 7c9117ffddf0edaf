"""The full-screen browser driven headlessly with textual's pilot, against real servers.

Each test presses keys as a reader would and reads the screen back (the page
view's painted lines and the status line) or the session behind it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input, OptionList, TextArea

from sockweb.browser.session import Document, Session
from sockweb.browser.ui import BrowserApp
from sockweb.browser.widgets import ConfirmScreen, HelpScreen, SelectScreen
from tests.browser.test_session import free_port, server, site  # noqa: F401  (fixtures)
from tests.client.conftest import Peer, flask_app  # noqa: F401
from tests.conftest import ServerProcess

Script = Callable[[Pilot[None], BrowserApp], Awaitable[None]]


def drive(url: str | None, script: Script, size: tuple[int, int] = (80, 24)) -> None:
    async def main() -> None:
        session = Session()
        app = BrowserApp(url, session)
        try:
            async with app.run_test(size=size) as pilot:
                await settle(pilot)
                await script(pilot, app)
        finally:
            session.close()

    asyncio.run(main())


async def settle(pilot: Pilot[None]) -> None:
    """Wait for a fetch in the worker thread to land on the screen."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def press(pilot: Pilot[None], *keys: str) -> None:
    await pilot.press(*keys)
    await settle(pilot)


async def type_text(pilot: Pilot[None], text: str) -> None:
    await pilot.press(*("space" if ch == " " else ch for ch in text))


def screen(app: BrowserApp) -> str:
    view = app.view
    return "\n".join(view.render_line(y).text.rstrip() for y in range(view.rows))


def status(app: BrowserApp) -> str:
    return str(app.query_one("#status").render())


# -- reading and moving ---------------------------------------------------------------


def test_open_shows_the_page_and_the_status_line(server: ServerProcess) -> None:  # noqa: F811
    async def script(pilot: Pilot[None], app: BrowserApp) -> None:
        assert "Index page" in screen(app)
        assert "[1]the second page" in screen(app)
        line = status(app)
        assert f"{server.url}/index.html" in line and "200 OK" in line and " ms" in line

    drive(f"{server.url}/index.html", script)


def test_follow_by_number_back_and_forward(server: ServerProcess) -> None:  # noqa: F811
    async def script(pilot: Pilot[None], app: BrowserApp) -> None:
        await press(pilot, "1")
        assert "link 1_" in status(app)
        await press(pilot, "enter")
        assert "Second page" in screen(app)
        await press(pilot, "h")
        assert "Index page" in screen(app)
        await press(pilot, "l")
        assert "Second page" in screen(app)
        await press(pilot, "left")
        assert "Index page" in screen(app)
        await press(pilot, "9", "9", "enter")
        assert "no link 99" in status(app)

    drive(f"{server.url}/index.html", script)


def test_follow_by_highlight(server: ServerProcess) -> None:  # noqa: F811
    async def script(pilot: Pilot[None], app: BrowserApp) -> None:
        await press(pilot, "tab", "tab")
        target = app.view.highlighted()
        assert target is not None and target.link == 2
        await press(pilot, "shift+tab")
        target = app.view.highlighted()
        assert target is not None and target.link == 1
        line = target.pieces[0][0]
        strip = app.view.render_line(line)  # the highlight is painted
        lit = [seg for seg in strip if seg.style is not None and seg.style.bgcolor is not None
               and seg.style.bgcolor.name == "bright_cyan"]
        assert "".join(seg.text for seg in lit) == "[1]the second page"
        await press(pilot, "enter")
        assert app.session.current is not None and app.session.current.title == "Second"

    drive(f"{server.url}/index.html", script)


def test_scrolling_and_back_keeps_the_position(server: ServerProcess) -> None:  # noqa: F811
    async def script(pilot: Pilot[None], app: BrowserApp) -> None:
        await press(pilot, "j", "j", "j")
        assert app.view.top == 3
        await press(pilot, "k")
        assert app.view.top == 2
        await press(pilot, "space")
        assert app.view.top == 2 + app.view.rows
        await press(pilot, "b")
        assert app.view.top == 2
        await press(pilot, "G")
        assert "Bottom of the index" in screen(app)
        await press(pilot, "g")
        assert app.view.top == 0
        await press(pilot, "j", "j", "1", "enter")
        assert "Second page" in screen(app)
        await press(pilot, "backspace")
        assert app.view.top == 2

    drive(f"{server.url}/index.html", script)


def test_open_a_url_and_reload(server: ServerProcess, site: Path) -> None:  # noqa: F811
    async def script(pilot: Pilot[None], app: BrowserApp) -> None:
        await press(pilot, "o")
        prompt = app.query_one("#prompt", Input)
        assert prompt.display and prompt.value == f"{server.url}/index.html"
        await press(pilot, "ctrl+u")  # the input's own "delete to the start"
        await type_text(pilot, f"{server.url}/results.html")
        await press(pilot, "enter")
        assert "Results page" in screen(app) and not prompt.display
        (site / "results.html").write_text("<p>Fresh results</p>")
        await press(pilot, "r")
        assert "Fresh results" in screen(app)
        await press(pilot, "o", "escape")  # a question can be put away
        assert not prompt.display and "Fresh results" in screen(app)

    drive(f"{server.url}/index.html", script)


def test_errors_are_pages_not_crashes() -> None:
    async def script(pilot: Pilot[None], app: BrowserApp) -> None:
        assert "Connection failed" in screen(app)
        assert "error" in status(app)
        await press(pilot, "r", "j", "tab", "enter")  # retry, the link to the URL: still alive
        assert "Connection failed" in screen(app)

    drive(f"http://127.0.0.1:{free_port()}/", script)


def test_the_page_follows_the_terminal_width(server: ServerProcess) -> None:  # noqa: F811
    async def script(pilot: Pilot[None], app: BrowserApp) -> None:
        assert app.session.width == 79  # a column kept for the scrollbar
        await pilot.resize_terminal(40, 24)
        await settle(pilot)
        assert app.session.width == 39 and app.view.page.width == 39
        assert max(len(line.text.rstrip()) for line in app.view.page.lines) <= 39

    drive(f"{server.url}/index.html", script)


def test_fixed_width_stays(server: ServerProcess) -> None:  # noqa: F811
    async def main() -> None:
        session = Session(width=60)
        app = BrowserApp(f"{server.url}/index.html", session, fixed_width=60)
        async with app.run_test(size=(100, 24)) as pilot:
            await settle(pilot)
            assert app.view.page.width == 60
        session.close()

    asyncio.run(main())


# -- find, source, headers, save, help ------------------------------------------------


def test_find_next_and_previous(server: ServerProcess) -> None:  # noqa: F811
    async def script(pilot: Pilot[None], app: BrowserApp) -> None:
        await press(pilot, "slash")
        await type_text(pilot, "fox")
        await press(pilot, "enter")
        assert "match 1 of 3" in status(app)
        await press(pilot, "n", "n")
        assert "match 3 of 3" in status(app)
        assert "Bottom of the index, fox." in screen(app)  # scrolled to it
        await press(pilot, "N")
        assert "match 2 of 3" in status(app)
        await press(pilot, "slash")
        await type_text(pilot, "zebra")
        await press(pilot, "enter")
        assert "not found" in status(app)

    drive(f"{server.url}/index.html", script)


def test_source_and_headers(server: ServerProcess) -> None:  # noqa: F811
    async def script(pilot: Pilot[None], app: BrowserApp) -> None:
        await press(pilot, "backslash")
        assert "<h1>Index page</h1>" in screen(app) and "[source]" in status(app)
        await press(pilot, "backslash")
        assert "<h1>" not in screen(app) and "Index page" in screen(app)
        await press(pilot, "i")
        assert "Status: 200 OK" in screen(app) and "[headers]" in status(app)
        await press(pilot, "h")  # back from a view is back to the page
        assert "Index page" in screen(app) and app.session.index == 0

    drive(f"{server.url}/index.html", script)


def test_save_the_page(server: ServerProcess, site: Path, tmp_path: Path) -> None:  # noqa: F811
    target = tmp_path / "copy.html"

    async def script(pilot: Pilot[None], app: BrowserApp) -> None:
        await press(pilot, "s")
        assert app.query_one("#prompt", Input).value == "index.html"
        await press(pilot, "ctrl+u")
        await type_text(pilot, str(target))
        await press(pilot, "enter")
        assert "saved" in status(app)

    drive(f"{server.url}/index.html", script)
    assert target.read_bytes() == (site / "index.html").read_bytes()


def test_help_screen(server: ServerProcess) -> None:  # noqa: F811
    async def script(pilot: Pilot[None], app: BrowserApp) -> None:
        await press(pilot, "question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-text").render())
        for words in ("back", "forward", "open a URL", "find in page", "view source",
                      "response headers", "save", "quit", "12 Enter"):
            assert words in text, words
        await press(pilot, "escape")
        assert not isinstance(app.screen, HelpScreen)
        await press(pilot, "q")
        assert not app.is_running and app.return_code == 0  # q quits

    drive(f"{server.url}/index.html", script)


# -- forms ----------------------------------------------------------------------------


async def highlight_control(pilot: Pilot[None], app: BrowserApp, name: str,
                            value: str | None = None) -> None:
    """Tab until the field named ``name`` is highlighted."""
    for _ in range(30):
        await press(pilot, "tab")
        target = app.view.highlighted()
        if target is not None and target.control is not None:
            c = app.view.page.controls[target.control - 1]
            if c.name == name and (value is None or c.value == value):
                return
    raise AssertionError(f"no field {name}")


async def edit_field(pilot: Pilot[None], app: BrowserApp, name: str, text: str,
                     key: str = "tab") -> None:
    """Type ``text`` into the field ``name``; Tab keeps it, Enter submits the form."""
    await highlight_control(pilot, app, name)
    await press(pilot, "enter")
    await press(pilot, "ctrl+u")
    await type_text(pilot, text)
    await press(pilot, key)


async def wait_for(pilot: Pilot[None], done: Callable[[], bool], what: str) -> None:
    """Let fetches land until ``done()`` (a refresh is a fetch started by a fetch)."""
    deadline = time.monotonic() + 15
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        await settle(pilot)
        await asyncio.sleep(0.05)


def test_fill_and_submit_a_get_form(server: ServerProcess) -> None:  # noqa: F811
    async def script(pilot: Pilot[None], app: BrowserApp) -> None:
        await edit_field(pilot, app, "q", "cats and dogs")
        assert "[cats and dogs_______]" in screen(app)  # redrawn in place
        await highlight_control(pilot, app, "go")
        await press(pilot, "enter")
        doc = app.session.current
        assert doc is not None and doc.title == "Results"
        assert doc.url.startswith(f"{server.url}/results.html?q=cats+and+dogs&token=t0k")
        assert "Results page" in screen(app)

    drive(f"{server.url}/search.html", script)


def test_fill_and_submit_a_post_form(server: ServerProcess) -> None:  # noqa: F811
    async def script(pilot: Pilot[None], app: BrowserApp) -> None:
        await edit_field(pilot, app, "q", "cats")
        await highlight_control(pilot, app, "box")
        await press(pilot, "space")
        assert "[x] box" in screen(app)
        await highlight_control(pilot, app, "color", "blue")
        await press(pilot, "enter")
        await highlight_control(pilot, app, "size")
        await press(pilot, "enter")
        assert isinstance(app.screen, SelectScreen)
        await press(pilot, "down", "enter")
        assert not isinstance(app.screen, SelectScreen) and "[large v]" in screen(app)
        await highlight_control(pilot, app, "notes")
        await press(pilot, "enter")
        area = app.screen.query_one(TextArea)
        area.text = "first\nsecond"
        await press(pilot, "ctrl+s")
        await highlight_control(pilot, app, "other")
        await press(pilot, "enter")
        doc = app.session.current
        assert doc is not None, "no page"
        assert doc.status == 200, doc.error
        got = json.loads(doc.body)
        assert got["method"] == "POST"
        assert got["form"] == {"q": ["cats"], "token": ["t0k"], "box": ["yes"], "plain": ["on"],
                               "color": ["blue"], "size": ["L"], "notes": ["first\r\nsecond"],
                               "upload": [""], "other": ["Other"]}
        assert '"cats"' in screen(app) or "cats" in "\n".join(
            line.text for line in doc.page.lines)

    drive(f"{server.url}/post.html", script)


def test_enter_in_a_text_field_submits_its_form(server: ServerProcess) -> None:  # noqa: F811
    async def script(pilot: Pilot[None], app: BrowserApp) -> None:
        await edit_field(pilot, app, "q", "cats", key="enter")
        doc = app.session.current
        assert doc is not None and doc.title == "Results"
        # the form's default button, its name and value included, as a browser sends it
        assert doc.url == f"{server.url}/results.html?q=cats&token=t0k&plain=on&color=red" \
            "&size=small&notes=line+one&upload=&go=Search"

    drive(f"{server.url}/search.html", script)


def test_tab_keeps_the_text_without_submitting(server: ServerProcess) -> None:  # noqa: F811
    async def script(pilot: Pilot[None], app: BrowserApp) -> None:
        await edit_field(pilot, app, "q", "dogs")
        assert "[dogs________________]" in screen(app)
        assert app.session.index == 0 and not app.query_one("#prompt", Input).display
        target = app.view.highlighted()  # Tab went on to the next field
        assert target is not None and target.control is not None
        assert app.view.page.controls[target.control - 1].name == "box"
        await highlight_control(pilot, app, "q")
        await press(pilot, "enter", "x", "escape")  # Esc throws the edit away
        assert "[dogs________________]" in screen(app)

    drive(f"{server.url}/search.html", script)


def test_implicit_submission_without_a_button(server: ServerProcess, site: Path) -> None:  # noqa: F811
    (site / "one.html").write_text(
        '<form action="results.html"><input name="q"><input type="checkbox" name="c"></form>')
    (site / "two.html").write_text(
        '<form action="results.html"><input name="a"><input type="email" name="b"></form>')

    async def one(pilot: Pilot[None], app: BrowserApp) -> None:
        await edit_field(pilot, app, "q", "alone", key="enter")
        doc = app.session.current
        assert doc is not None and doc.url == f"{server.url}/results.html?q=alone"

    async def two(pilot: Pilot[None], app: BrowserApp) -> None:
        await edit_field(pilot, app, "a", "first", key="enter")
        assert app.session.index == 0 and "[first" in screen(app)  # kept, not sent
        assert "Enter does not send this form" in status(app)

    drive(f"{server.url}/one.html", one)
    drive(f"{server.url}/two.html", two)


def test_reload_of_a_post_asks_first(server: ServerProcess) -> None:  # noqa: F811
    async def script(pilot: Pilot[None], app: BrowserApp) -> None:
        await edit_field(pilot, app, "q", "posted", key="enter")
        posted = app.session.current
        assert posted is not None and posted.request.method == "POST"
        assert echoed_form(posted)["q"] == ["posted"]
        await press(pilot, "r")
        assert isinstance(app.screen, ConfirmScreen) and "send it again" in status(app)
        await press(pilot, "n")
        assert not isinstance(app.screen, ConfirmScreen)
        assert app.session.current is posted and "not sent again" in status(app)
        await press(pilot, "r", "y")
        again = app.session.current
        assert again is not posted and again is not None and again.request == posted.request
        assert echoed_form(again)["q"] == ["posted"] and app.session.index == 1
        await press(pilot, "h", "r")  # the form page itself came by GET: reloaded at once
        assert not isinstance(app.screen, ConfirmScreen) and app.session.index == 0

    drive(f"{server.url}/post.html", script)


def echoed_form(doc: Document) -> dict[str, list[str]]:
    form: dict[str, list[str]] = json.loads(doc.body)["form"]
    return form


def test_a_refresh_is_followed(server: ServerProcess, site: Path) -> None:  # noqa: F811
    (site / "moved.html").write_text(
        '<meta http-equiv="refresh" content="0; url=results.html"><p>Moved.</p>')

    async def script(pilot: Pilot[None], app: BrowserApp) -> None:
        await wait_for(pilot, lambda: "Results page" in screen(app), "the refresh")
        assert app.session.current is not None and app.session.current.title == "Results"
        assert len(app.session.history) == 1  # it took the page's place, as browsers do
        assert "refreshed to" in status(app)

    drive(f"{server.url}/moved.html", script)


def test_a_refresh_after_a_delay_and_its_cancelling(server: ServerProcess,  # noqa: F811
                                                    site: Path) -> None:  # noqa: F811
    (site / "soon.html").write_text(
        '<meta http-equiv="refresh" content="1; url=results.html"><p>Soon.</p>')
    (site / "later.html").write_text(
        '<meta http-equiv="refresh" content="300; url=results.html">'
        '<p><a href="second.html">elsewhere</a></p>')

    async def soon(pilot: Pilot[None], app: BrowserApp) -> None:
        assert "Soon." in screen(app) and "in 1 s" in status(app)
        await wait_for(pilot, lambda: "Results page" in screen(app), "the refresh")

    async def later(pilot: Pilot[None], app: BrowserApp) -> None:
        timer = app.refresh_timer
        assert timer is not None and "refresh to" in status(app)
        assert "[1]" in screen(app)  # REFRESH(300 sec): [1]...results.html, as lynx shows it
        await press(pilot, "2", "enter")  # the reader leaves first
        assert app.refresh_timer is None and "Second page" in screen(app)
        assert app.session.index == 1
        await press(pilot, "h")  # back to it: not armed again
        assert app.refresh_timer is None and app.session.index == 0

    drive(f"{server.url}/soon.html", soon)
    drive(f"{server.url}/later.html", later)


def test_a_page_that_refreshes_itself_is_not_reloaded_forever(
        server: ServerProcess, site: Path) -> None:  # noqa: F811
    (site / "loop.html").write_text('<meta http-equiv="refresh" content="0"><p>Loop.</p>')

    async def script(pilot: Pilot[None], app: BrowserApp) -> None:
        await wait_for(pilot, lambda: "not following the refresh" in status(app), "the stop")
        assert len(app.session.history) == 1 and app.refresh_timer is None

    drive(f"{server.url}/loop.html", script)


def test_select_can_be_left_as_it_was(server: ServerProcess) -> None:  # noqa: F811
    async def script(pilot: Pilot[None], app: BrowserApp) -> None:
        await highlight_control(pilot, app, "size")
        await press(pilot, "enter")
        assert app.screen.query_one(OptionList).highlighted == 0
        await press(pilot, "down", "escape")
        assert "[small v]" in screen(app)

    drive(f"{server.url}/search.html", script)


def test_upload_a_file(server: ServerProcess, tmp_path: Path) -> None:  # noqa: F811
    upload = tmp_path / "upload.txt"
    upload.write_text("uploaded through the UI\n")

    async def script(pilot: Pilot[None], app: BrowserApp) -> None:
        await edit_field(pilot, app, "upload", str(upload))
        await highlight_control(pilot, app, "go")
        await press(pilot, "enter")
        doc = app.session.current
        assert doc is not None, "no page"
        assert doc.status == 200, doc.error
        files = json.loads(doc.body)["files"]
        assert files["upload"]["content"] == "uploaded through the UI\n"

    drive(f"{server.url}/multipart.html", script)


# -- the real thing: `sockweb browse URL` in a terminal ---------------------------------


def test_sockweb_browse_in_a_terminal(server: ServerProcess) -> None:  # noqa: F811
    tmux = ["tmux", "-L", f"sockweb-test-{os.getpid()}"]  # a tmux server of our own

    def screen_has(text: str, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        shown = ""
        while time.monotonic() < deadline:
            shown = subprocess.run([*tmux, "capture-pane", "-p", "-t", "browse"],
                                   capture_output=True, text=True).stdout
            if text in shown:
                return shown
            time.sleep(0.1)
        raise AssertionError(f"{text!r} not on screen:\n{shown}")

    subprocess.run([*tmux, "new-session", "-d", "-s", "browse", "-x", "80", "-y", "24",
                    sys.executable, "-m", "sockweb", "browse", f"{server.url}/index.html"],
                   check=True)
    try:
        shown = screen_has("Index page")
        assert f"{server.url}/index.html  200 OK" in shown
        subprocess.run([*tmux, "send-keys", "-t", "browse", "1", "Enter"], check=True)
        screen_has("Second page")
        subprocess.run([*tmux, "send-keys", "-t", "browse", "h"], check=True)
        screen_has("Index page")
        subprocess.run([*tmux, "send-keys", "-t", "browse", "q"], check=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and subprocess.run(
                [*tmux, "has-session", "-t", "browse"], capture_output=True).returncode == 0:
            time.sleep(0.1)
        assert subprocess.run([*tmux, "has-session", "-t", "browse"],
                              capture_output=True).returncode != 0, "q did not quit"
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)


def test_q_quits_during_a_parse_that_takes_long(tmp_path: Path) -> None:
    """Lexbor's tree builder is quadratic in nesting depth: 150,000 nested <div>s
    keep its C parse busy for many seconds (about 20 here). Quitting must not
    wait for it, as quitting lynx does not."""
    page = tmp_path / "deep.html"
    page.write_text("<div>" * 150_000 + "x")
    tmux = ["tmux", "-L", f"sockweb-test-deep-{os.getpid()}"]  # a tmux server of our own
    subprocess.run([*tmux, "new-session", "-d", "-s", "browse", "-x", "80", "-y", "24",
                    sys.executable, "-m", "sockweb", "browse", str(page)], check=True)
    pid = int(subprocess.run([*tmux, "display-message", "-p", "-t", "browse", "#{pane_pid}"],
                             capture_output=True, text=True, check=True).stdout)
    try:
        deadline = time.monotonic() + 30
        while _cpu_seconds(pid) < 1.0:  # past start-up (a fraction of that): in the parse
            assert time.monotonic() < deadline, "the browser never got busy"
            time.sleep(0.05)
        subprocess.run([*tmux, "send-keys", "-t", "browse", "q"], check=True)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
            time.sleep(0.05)
        assert not Path(f"/proc/{pid}").exists(), "q waited for the parse"
    finally:
        if Path(f"/proc/{pid}").exists():
            os.kill(pid, signal.SIGKILL)
        subprocess.run([*tmux, "kill-server"], capture_output=True)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
