"""What the reader types into, for the full-screen browser (ui.py): the input
line, and the page's form fields.

The input line appears when a question is asked (open which URL, find what,
save where, a field's text); Enter answers it, Esc, Tab or a click away puts
it away, except that Tab while a field's text is being typed keeps the text
and goes to the next field, as lynx does. A field on the page, given Enter
(or Space, for a checkbox or radio button), does what its kind means: it is
ticked, typed into on the input line or in a text area, chosen from a list,
or it sends or resets its form.

Editing is a mixin of ui.BrowserApp, the only importer of this module (so
``browse --dump`` never imports textual): BrowserApp's ``__init__`` sets the
attributes declared here, and it provides the members declared under
TYPE_CHECKING below.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.app import App
from textual.binding import Binding
from textual.events import DescendantBlur
from textual.widgets import Input

from . import forms
from .model import Control
from .widgets import SelectScreen, TextAreaScreen

if TYPE_CHECKING:
    from .session import Document, Session
    from .widgets import PageView


class Prompt(Input):
    """The input line; Tab in it, while a field is being typed into, keeps the text and
    goes to the next field (not to the next widget, textual's Tab)."""

    BINDINGS = [Binding("tab", "app.prompt_tab", "next field", show=False)]


class Editing(App[None]):
    """The input line's questions and the form fields' edits, mixed into BrowserApp."""

    _answer: Callable[[str], None] | None  # the open question's answer
    _keep: Callable[[str], None] | None  # Tab's answer, for a field

    if TYPE_CHECKING:  # provided by BrowserApp
        session: Session

        @property
        def view(self) -> PageView: ...

        def say(self, message: str) -> None: ...

        def load(self, fetch: Callable[[], Document | None], done: str = "",
                 refreshing: bool = False) -> None: ...

    # -- asking ------------------------------------------------------------------
    def ask(self, question: str, answer: Callable[[str], None], value: str = "",
            password: bool = False) -> None:
        self._keep = None
        prompt = self.query_one("#prompt", Input)
        prompt.password = password
        prompt.placeholder = question
        prompt.value = value
        prompt.cursor_position = len(value)
        prompt.display = True
        prompt.focus()
        self._answer = answer
        self.say(f"{question} (Enter accepts, Esc cancels)")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        answer, self._answer, self._keep = self._answer, None, None
        self._close_prompt()
        if answer is not None:
            answer(event.value)

    def action_prompt_tab(self) -> None:
        """Tab in the input line: a field keeps its text and the next field is lit;
        any other question is put away, as Esc does."""
        keep, value = self._keep, self.query_one("#prompt", Input).value
        self._answer = self._keep = None
        self._close_prompt()
        if keep is not None:
            keep(value)
            self.view.move_highlight(1)

    def _close_prompt(self) -> None:
        self.query_one("#prompt", Input).display = False
        self.view.focus()
        self.say("")

    def key_escape(self) -> None:
        # Reached only while the prompt has focus: the page's own Esc is action_cancel.
        if self._answer is not None:
            self._answer = self._keep = None
            self._close_prompt()

    def on_descendant_blur(self, event: DescendantBlur) -> None:
        # Tab or a click away from an open question puts it away, as Esc does.
        if event.widget.id == "prompt" and self._answer is not None:
            self._answer = self._keep = None
            self._close_prompt()

    # -- forms -------------------------------------------------------------------
    def edit(self, control: Control) -> None:
        """Enter (or Space) on a field: what it means depends on the kind of field."""
        page, view = self.view.page, self.view
        kind = control.kind
        if control.disabled:
            self.say("that field is disabled")
        elif kind in ("checkbox", "radio"):
            forms.toggle(page, control)
            view.refresh()
        elif kind == "textarea":
            self.push_screen(TextAreaScreen(control.value),
                             lambda text: self._typed(control, text))
        elif kind in forms.TEXT_KINDS:
            label = control.label or control.name or kind
            question = "file to upload:" if kind == "file" else f"{label}:"
            answer: Callable[[str], None] = lambda text: self._typed(control, text)  # noqa: E731
            if kind in forms.IMPLICIT_KINDS and control.form is not None:
                answer = lambda text: self._entered(control, text)  # noqa: E731
            self.ask(question, answer, value=control.value, password=kind == "password")
            self._keep = lambda text: self._typed(control, text)
        elif kind == "select":
            self.push_screen(SelectScreen(control), lambda i: self._chosen(control, i))
        elif kind in forms.SUBMIT_KINDS:
            self.load(lambda: self.session.submit(control.number))
        elif kind == "reset" and control.form is not None:
            self.session.reset_form(control.form)
            view.refresh()
        else:
            self.say(f"a {kind} needs JavaScript, which sockweb does not run")

    def _entered(self, control: Control, text: str) -> None:
        """Enter in a text field: the text kept, and the form submitted implicitly."""
        self._typed(control, text)
        form = self.view.page.forms[control.form] if control.form is not None else None
        if form is None or not forms.implicit_submission(self.view.page, form)[0]:
            self.say("Enter does not send this form: Tab to its button")
            return
        self.load(lambda: self.session.submit(control.number))

    def _typed(self, control: Control, text: str | None) -> None:
        if text is not None:
            forms.set_text(control, text)
            self.view.refresh()

    def _chosen(self, control: Control, index: int | None) -> None:
        if index is not None:
            forms.choose(control, index)
            self.view.refresh()
