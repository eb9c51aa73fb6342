"""Help screen: the keys active on the screen it was opened from (from BINDINGS)."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static

EXTRA = (("ctrl+p", "Command palette", "Search models, windows, panels and actions"),)


def key_rows(active: Mapping[str, object]) -> list[tuple[str, str, str]]:
    """(key, description, tooltip) per active binding, in binding order, no duplicates."""
    rows: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for key, item in active.items():
        binding: Binding = item.binding  # type: ignore[attr-defined]
        # Only pitboard's own keys: the screen's and the app's, not widget internals.
        if not isinstance(item.node, (Screen, App)) or getattr(binding, "system", False):  # type: ignore[attr-defined]
            continue
        if not binding.description or binding.action in seen:
            continue
        seen.add(binding.action)
        display = binding.key_display or {"question_mark": "?", "slash": "/", "colon": ":",
                                          "space": "space", "escape": "esc"}.get(key, key)
        rows.append((display, binding.description, binding.tooltip or ""))
    known = {r[0] for r in rows}
    rows.extend(r for r in EXTRA if r[0] not in known)
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

    def __init__(self, active_bindings: Mapping[str, object]) -> None:
        super().__init__()
        self._rows = key_rows(active_bindings)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("pitboard keys"), id="help-title")
            yield DataTable(show_cursor=False, id="help-keys")
            yield Static(Text("esc closes · rollback, promote and notes arrive with their "
                              "issue"), id="help-foot")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Key", "Does", "Detail")
        for key, desc, tip in self._rows:
            table.add_row(Text(key, style="bold"), Text(desc), Text(tip))

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
