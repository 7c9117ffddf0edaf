"""``sockweb browse URL``: the full-screen front end, textual over a Session.

The screen is the page (widgets.PageView), an input line that appears when a
question is asked (open which URL, find what, save where, a field's text),
and a status line with the URL, the status and the load time. Keys follow
lynx and vim (widgets.HELP lists them; ``?`` shows it). The input line and
the form fields, what the reader types into, are editing.py's, a mixin.

Fetches run in a worker thread, one at a time, so the screen stays live
while a slow server thinks; moving about, back and forward (which never
fetch), and form edits run on the event loop. The session turns every
failure into a page, so nothing a server does can crash the screen.

A page with ``<meta http-equiv=refresh>`` is followed as a browser follows
it: at once for 0 seconds, else after its delay, with the status line saying
where and when; any navigation before then (a link, back, reload, a form)
cancels it, and back to such a page does not arm it again. Reloading a page
that a form POSTed asks first (y/n), as browsers and lynx do.
"""

from __future__ import annotations

import argparse
import ssl
import sys
import threading
from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.events import Resize
from textual.timer import Timer
from textual.widgets import Static
from textual.worker import get_current_worker

from . import forms
from .editing import Editing, Prompt
from .model import Page
from .session import Document, Match, Session, default_filename
from .widgets import ConfirmScreen, HelpScreen, PageView

# Refreshes followed one after another with no key pressed between them: past
# this, a page that refreshes to itself at 0 s would reload forever.
MAX_REFRESHES = 10


class BrowserView(PageView):
    """The page view with the browser's keys: they apply while the page has focus,
    so typing into the input line never triggers them."""

    BINDINGS = [
        Binding("j,down", "scroll_lines(1)", "down", show=False),
        Binding("k,up", "scroll_lines(-1)", "up", show=False),
        Binding("space", "space", "page down", show=False),
        Binding("pagedown", "scroll_pages(1)", "page down", show=False),
        Binding("b,pageup", "scroll_pages(-1)", "page up", show=False),
        Binding("g,home", "top", "top", show=False),
        Binding("G,end", "bottom", "bottom", show=False),
        Binding("tab", "highlight(1)", "next link", show=False),
        Binding("shift+tab", "highlight(-1)", "previous link", show=False),
        Binding("enter", "app.activate", "follow", show=False),
        Binding("h,left,backspace", "app.go_back", "back", show=False),
        Binding("l,right", "app.forward", "forward", show=False),
        Binding("o", "app.ask_url", "open URL", show=False),
        Binding("r", "app.reload", "reload", show=False),
        Binding("slash", "app.ask_find", "find", show=False),
        Binding("n", "app.find_next(1)", "next match", show=False),
        Binding("N", "app.find_next(-1)", "previous match", show=False),
        Binding("backslash", "app.toggle_view('source')", "source", show=False),
        Binding("i", "app.toggle_view('headers')", "headers", show=False),
        Binding("s", "app.ask_save", "save", show=False),
        Binding("escape", "app.cancel", "cancel", show=False),
        Binding("question_mark", "app.help", "help", show=False),
        Binding("q", "app.quit", "quit", show=False),
        *(Binding(str(d), f"app.digit({d})", "link number", show=False) for d in range(10)),
    ]

    def action_space(self) -> None:
        target = self.highlighted()
        app = self.app
        if (target is not None and target.control is not None and isinstance(app, BrowserApp)
                and self.top <= target.line < self.top + self.rows):
            control = forms.control(self.page, target.control)
            if control.kind in ("checkbox", "radio"):
                app.edit(control)
                return
        self.action_scroll_pages(1)

    def on_resize(self, event: Resize) -> None:
        app = self.app
        if isinstance(app, BrowserApp):
            # One column always kept for the scrollbar, so a page that grows
            # one never changes the width it was laid out for.
            app.relayout(self.region.width - 1)


class BrowserApp(Editing):
    TITLE = "sockweb browse"
    CSS = """
    #bottom { dock: bottom; height: auto; }
    #prompt { height: 1; border: none; padding: 0 1; display: none; }
    #status { height: 1; background: $panel; color: $text; padding: 0 1; }
    """
    ENABLE_COMMAND_PALETTE = False

    def __init__(self, url: str | None = None, session: Session | None = None,
                 fixed_width: int | None = None) -> None:
        super().__init__()
        self.start_url = url
        self.session = session or Session()
        self.fixed_width = fixed_width  # --width: lay out this wide whatever the terminal
        self.view_mode = "page"  # or "source" or "headers": what the view shows
        self.busy = False
        self.number = ""  # digits typed so far, for "12 Enter"
        self.message = ""
        self._answer: Callable[[str], None] | None = None
        self._keep: Callable[[str], None] | None = None  # Tab's answer, for a field
        self._pending_width = 0  # a resize while a fetch runs, applied when it lands
        self.refresh_timer: Timer | None = None  # a <meta> refresh still to come
        self._refreshes = 0  # refreshes followed in a row

    def compose(self) -> ComposeResult:
        yield BrowserView()
        with Vertical(id="bottom"):  # docked together: two docks at one edge would overlap
            yield Prompt(id="prompt")
            yield Static(id="status")

    @property
    def view(self) -> BrowserView:
        return self.query_one(BrowserView)

    def on_mount(self) -> None:
        self.view.focus()
        if self.start_url:
            self._open(self.start_url)
        else:
            self.say("o opens a URL, ? lists the keys, q quits")

    # -- showing -----------------------------------------------------------------
    def load(self, fetch: Callable[[], Document | None], done: str = "",
             refreshing: bool = False) -> None:
        """Run a fetch in a worker thread, then show what it got (and say ``done``)."""
        if self.busy:
            self.say("still loading…")
            return
        self.cancel_refresh()  # a navigation cancels a refresh still to come
        if not refreshing:
            self._refreshes = 0
        self._remember()
        before = self.session.current.page if self.session.current is not None else None
        self.busy = True
        self.say("loading…")
        self.run_worker(lambda: self._fetch(fetch, done, before), thread=True, group="load",
                        exit_on_error=False)

    def _fetch(self, fetch: Callable[[], Document | None], done: str,
               before: Page | None) -> None:
        # The load runs on a daemon thread of its own, and this worker only
        # waits for it: when the app closes, textual cancels its workers and
        # asyncio joins the threads that ran them. Lexbor parses in C, and its
        # tree builder is quadratic in nesting depth, so a hostile page
        # (150,000 nested <div>s) would hold `q` for the 25 s of its parse.
        worker = get_current_worker()
        got: list[tuple[Document | None, Exception | None]] = []
        finished = threading.Event()

        def load() -> None:
            try:
                got.append((fetch(), None))
            except Exception as exc:  # the session should not raise; if it does, say so
                got.append((None, exc))
            finally:
                finished.set()

        threading.Thread(target=load, name="sockweb-load", daemon=True).start()
        while not finished.wait(0.1):
            if worker.is_cancelled:
                return  # the app is closing: the load is left to die with the process
        doc, error = got[0]
        if error is not None:
            self.call_from_thread(self._loaded, None, f"error: {error}", None)
            return
        self.call_from_thread(self._loaded, doc, done, before)

    def _loaded(self, doc: Document | None, message: str, before: Page | None) -> None:
        self.busy = False
        self.message = message
        if doc is not None:
            self.show_document(doc)
            if doc.page is not before:  # a page fetched, not the same one at a new place
                self._arm_refresh(doc)
        if self._pending_width:
            width, self._pending_width = self._pending_width, 0
            self.relayout(width)

    def show_document(self, doc: Document) -> None:
        self.view_mode = "page"
        self.view.show_page(doc.page, doc.top, doc.focus)
        self.title = f"{doc.title} - sockweb"
        self.update_status()

    def _remember(self) -> None:
        """Keep the scroll position and highlight in the history, for back."""
        doc = self.session.current
        if doc is not None and self.view_mode == "page":
            doc.top, doc.focus = self.view.top, self.view.lit

    def relayout(self, width: int) -> None:
        if self.fixed_width or width <= 0 or width == self.session.width:
            return
        if self.busy:  # the worker thread is in the session: not now
            self._pending_width = width
            return
        self._remember()
        self.session.resize(width)
        doc = self.session.current
        if doc is not None and self.view_mode == "page":
            self.view.show_page(doc.page, doc.top, doc.focus)

    def say(self, message: str) -> None:
        self.message = message
        self.update_status()

    def update_status(self) -> None:
        doc = self.session.current
        status = Text()
        if doc is not None:
            status.append(doc.url, style="bold")
            if doc.status:
                ok = "green" if doc.status < 400 else "red"
                status.append(f"  {doc.status} {doc.reason}".rstrip(), style=ok)
                status.append(f"  {doc.elapsed * 1000:.0f} ms")
            else:
                status.append("  error", style="red")
            if self.view_mode != "page":
                status.append(f"  [{self.view_mode}]", style="yellow")
        if self.number:
            status.append(f"  link {self.number}_ (Enter follows, Esc cancels)", style="yellow")
        elif self.message:
            status.append(f"  {self.message}", style="italic")
        self.query_one("#status", Static).update(status)

    # -- actions: navigation -----------------------------------------------------
    def action_digit(self, digit: int) -> None:
        self.number += str(digit)
        self.update_status()

    def action_cancel(self) -> None:
        self.number = ""
        self.say("")

    def action_activate(self) -> None:
        if self.number:
            number, self.number = int(self.number), ""
            self.follow(number)
            return
        target = self.view.highlighted()
        if target is None or self.view_mode != "page":
            self.say("Tab to a link or type its number, then Enter")
        elif target.link is not None:
            self.follow(target.link)
        elif target.control is not None:
            self.edit(forms.control(self.view.page, target.control))

    def follow(self, number: int) -> None:
        doc = self.session.current
        if doc is None or not 0 < number <= len(doc.page.links):
            self.say(f"no link {number}")
            return
        self.load(lambda: self.session.follow(number))

    def action_go_back(self) -> None:
        if self.number:
            self.number = self.number[:-1]
            self.update_status()
            return
        if self.view_mode != "page":  # back from source or headers is back to the page
            self.action_toggle_view(self.view_mode)
            return
        self._step(self.session.back, "no page before this one")

    def action_forward(self) -> None:
        self._step(self.session.forward, "no page after this one")

    def _step(self, move: Callable[[], Document | None], nothing: str) -> None:
        if self.busy:
            return
        self.cancel_refresh()
        self._refreshes = 0
        self._remember()
        doc = move()
        self.message = "" if doc is not None else nothing
        if doc is not None:
            self.show_document(doc)
        else:
            self.update_status()

    def action_reload(self) -> None:
        doc = self.session.current
        if doc is not None and doc.request.method == "POST":
            question = "This page is the answer to a form sent with POST: send it again?"
            self.say(f"{question} (y/n)")
            self.push_screen(ConfirmScreen(question), self._reload_answered)
            return
        self.load(self.session.reload)

    def _reload_answered(self, yes: bool | None) -> None:
        if yes:
            self.load(self.session.reload)
        else:
            self.say("not sent again")

    # -- <meta http-equiv=refresh> ----------------------------------------------------
    def _arm_refresh(self, doc: Document) -> None:
        if not doc.page.refresh or doc.error:
            return
        seconds, url = doc.page.refresh[0]
        if self._refreshes >= MAX_REFRESHES:
            self.say(f"not following the refresh to {url}: {MAX_REFRESHES} in a row")
        elif seconds <= 0:
            self._follow_refresh(url)
        else:
            self.refresh_timer = self.set_timer(seconds, lambda: self._follow_refresh(url))
            self.say(f"refresh to {url} in {seconds} s (following a link cancels it)")

    def _follow_refresh(self, url: str) -> None:
        self.refresh_timer = None
        self._refreshes += 1
        self.load(lambda: self.session.refresh(url), done=f"refreshed to {url}",
                  refreshing=True)

    def cancel_refresh(self) -> None:
        if self.refresh_timer is not None:
            self.refresh_timer.stop()
            self.refresh_timer = None

    def action_ask_url(self) -> None:
        doc = self.session.current
        self.ask("open URL:", self._open, value=doc.url if doc else "")

    def _open(self, text: str) -> None:
        if text.strip():
            self.load(lambda: self.session.open(text))

    # -- actions: views, find, save, help --------------------------------------------
    def action_toggle_view(self, mode: str) -> None:
        doc = self.session.current
        if doc is None:
            return
        if self.view_mode == mode:
            self.show_document(doc)
            return
        self._remember()
        self.view_mode = mode
        page = self.session.source_page() if mode == "source" else self.session.headers_page()
        self.view.show_page(page)
        self.update_status()

    def action_ask_find(self) -> None:
        self.ask("find:", self.find, value=self.session.query)

    def find(self, query: str) -> None:
        match = self.session.find(query, self.view.top, self.view.page)
        self.view.matches = self.session.matches
        self._show_match(match, f"“{query}” not found")

    def action_find_next(self, step: int) -> None:
        if not self.session.matches:
            self.say("no search (/ finds)")
            return
        self._show_match(self.session.next_match(step), "")

    def _show_match(self, match: Match | None, missing: str) -> None:
        view = self.view
        view.current_match = match
        if match is None:
            self.say(missing)
        else:
            view.scroll_line(match.line)
            index, total = self.session.match_index + 1, len(self.session.matches)
            self.say(f"match {index} of {total}")
        view.refresh()

    def action_ask_save(self) -> None:
        doc = self.session.current
        if doc is not None:
            self.ask("save source to:", lambda path: self.say(self.session.save(path or None)),
                     value=default_filename(doc.url))

    def action_help(self) -> None:
        self.push_screen(HelpScreen())


def run(url: str | None, args: argparse.Namespace | None = None) -> int:
    """``sockweb browse URL`` without --dump; ``--width`` fixes the layout width
    (else it follows the terminal's), ``--insecure``/``--cacert`` set up TLS."""
    width: int | None = getattr(args, "width", None)
    try:
        session = Session(width or 80, verify=not getattr(args, "insecure", False),
                          cacert=getattr(args, "cacert", None))
    except (OSError, ssl.SSLError) as exc:  # an unreadable --cacert
        print(f"sockweb: cannot use --cacert: {exc}", file=sys.stderr)
        return 2
    try:
        BrowserApp(url, session, fixed_width=width).run()
    finally:
        session.close()
    return 0
