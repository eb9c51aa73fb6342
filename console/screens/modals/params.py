"""What a guarded action asks for before its preview: a revision picked from the model's
history (``U``), a replica count (``s``), a duration (``m``). Each returns the value, or
None (cancel: nothing prepared, nothing sent, nothing recorded)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from backends.domain.models import Revision
from console.screens.modals.guard import MODAL_CSS
from widgets.text import MISSING, safe

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 60.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(text: str) -> float:
    """``90m``, ``2h``, ``1d``, ``45`` (minutes) -> seconds; ValueError with the rule."""
    m = _DURATION.match(text or "")
    if not m:
        raise ValueError(f"not a duration: {text!r} (e.g. 30m, 2h, 1d)")
    seconds = float(m.group(1)) * _UNITS[m.group(2)]
    if not 60 <= seconds <= 14 * 86400:
        raise ValueError("a silence lasts from 1m to 14d")
    return seconds


class ParamScreen(ModalScreen[object | None]):
    """One value, checked by ``parse`` as it is typed; enter returns the parsed value."""

    DEFAULT_CSS = MODAL_CSS + "ParamScreen { align: center middle; }"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="param_cancel")]

    def __init__(self, title: str, label: str, hint: str, parse: Callable[[str], object],
                 value: str = "") -> None:
        super().__init__()
        self.title_text, self.label, self.hint, self.parse = title, label, hint, parse
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical(id="param", classes="dialog") as box:
            box.border_title = Content(f" {safe(self.title_text, 60)} ")
            yield Static(Content(safe(self.hint, 300)), id="param-hint", classes="hint")
            with Horizontal(classes="field"):
                yield Label(self.label)
                yield Input(value=self.value, id="param-value", max_length=40, compact=True)
            with Horizontal(classes="buttons"):
                yield Button("Next", id="ok", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        field = self.query_one(Input)
        field.cursor_blink = False
        field.focus()
        self._check(field.value)

    def _check(self, text: str) -> object | None:
        hint = self.query_one("#param-hint", Static)
        try:
            value = self.parse(text)
        except ValueError as exc:
            hint.set_class(True, "-problem")
            hint.update(Content(safe(str(exc), 300)))
            self.query_one("#ok", Button).disabled = True
            return None
        hint.set_class(False, "-problem")
        hint.update(Content(safe(self.hint, 300)))
        self.query_one("#ok", Button).disabled = False
        return value

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._check(event.value)

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        value = self._check(self.query_one(Input).value)
        if value is not None:
            self.dismiss(value)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Nothing prepared, nothing sent."""
        self.dismiss(None)


class RevisionScreen(ModalScreen[int | None]):
    """The model's history (newest first); enter picks the revision to roll back to."""

    DEFAULT_CSS = MODAL_CSS + """
    RevisionScreen { align: center middle; }
    RevisionScreen OptionList { height: auto; max-height: 14; margin-top: 1; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="revision_cancel")]

    def __init__(self, name: str, revisions: Sequence[Revision]) -> None:
        super().__init__()
        self.model_name = name
        self.revisions = [r for r in revisions if not r.current]

    def compose(self) -> ComposeResult:
        with Vertical(id="revisions", classes="dialog") as box:
            box.border_title = Content(f" Roll {safe(self.model_name, 50)} back to… ")
            yield Static("Pick a revision of its history (the current one is not listed); "
                         "the preview follows.", classes="hint")
            yield OptionList(*(Option(self._line(r), id=str(r.number))
                               for r in self.revisions), id="revision-list")

    @staticmethod
    def _line(r: Revision) -> Content:
        parts = [f"#{r.number}", r.version or MISSING, r.image or ""]
        if r.change_cause:
            parts.append(f"({r.change_cause})")
        return Content(safe("  ".join(p for p in parts if p), 90))

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.dismiss(int(event.option.id))

    def action_cancel(self) -> None:
        """Nothing prepared, nothing sent."""
        self.dismiss(None)
