"""Help screen: the keys active on the screen it was opened from (from BINDINGS)."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

EXTRA = (("ctrl+p", "Command palette", "Search models, windows, panels and actions"),)


KEY_NAMES = {"question_mark": "?", "slash": "/", "colon": ":", "escape": "esc"}


def key_rows(bindings: Iterable[Binding | tuple]) -> list[tuple[str, str, str]]:
    """(key, description, tooltip) per binding with a description, first one per action."""
    rows: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for binding in bindings:
        if not isinstance(binding, Binding) or not binding.description:
            continue
        if binding.action in seen:
            continue
        seen.add(binding.action)
        key = binding.key.split(",")[0]
        rows.append((binding.key_display or KEY_NAMES.get(key, key), binding.description,
                     binding.tooltip or ""))
    rows.extend(r for r in EXTRA if r[0] not in {k for k, *_ in rows})
    return rows


class HelpScreen(ModalScreen[None]):
    """Lists the keys; ``esc``, ``?`` or ``q`` closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical { width: 90%; max-width: 90; height: auto; max-height: 90%;
        border: round $primary; background: $surface; padding: 0 1; }
    HelpScreen #help-title { color: $text-accent; text-style: bold; }
    HelpScreen DataTable { height: auto; max-height: 30; }
    HelpScreen #help-foot { color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="help_close"),
        Binding("question_mark", "dismiss", "Close", show=False),
        Binding("q", "dismiss", "Close", show=False),
    ]

    def __init__(self, bindings: Iterable[Binding | tuple]) -> None:
        super().__init__()
        self._rows = key_rows(bindings)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("pitboard keys"), id="help-title")
            yield DataTable(show_cursor=False, id="help-keys")
            yield Static(Text("esc closes"), id="help-foot")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Key", "Does", "Detail")
        for key, desc, tip in self._rows:
            table.add_row(Text(key, style="bold"), Text(desc), Text(tip))

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
