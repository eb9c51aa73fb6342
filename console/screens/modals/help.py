"""Help screen: every key active on the screen it was opened from, from the live bindings
(the screen's own and inherited ``BINDINGS``, the focused panel's, the app's; keymaps
applied), with its description; a dimmed key says why it is unavailable."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static

from backends.domain.health import ERROR_BAD, ERROR_WARN, TEMP_BAD_C, WORDS
from widgets.render.fresh_widths import Table

PALETTE = ("Command palette", "Search models, windows, panels and actions")
EXTRA = (("ctrl+p", *PALETTE),)


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


def help_rows(screen: Screen) -> tuple[list[tuple[str, str, str]], list[bool]]:
    """``(rows, enabled)``: (key, description, detail) for every key active on ``screen``
    now -- its own bindings first (inherited ones included), then the focused panel's,
    then the app's, footer keys first in each -- and whether each is usable (a dimmed
    key's detail says why)."""
    groups: dict[str, list[tuple[bool, tuple[str, str, str], bool]]] = {
        "screen": [], "panel": [], "app": []}
    live = getattr(screen, "unfitted_bindings", None)  # a narrow footer hides some keys
    for key, active in (live if live is not None else screen.active_bindings).items():
        binding = active.binding
        if binding.system:
            continue
        node = active.node
        where = "screen" if node is screen else "app" if node is screen.app else "panel"
        detail = active.tooltip or binding.tooltip or ""
        does = binding.description or binding.action.rsplit(".", 1)[-1].replace(
            "_", " ").capitalize()
        if binding.action == "command_palette":
            does, detail = PALETTE
        if does == detail:
            detail = ""
        shown = binding.key_display or KEY_NAMES.get(key, key)
        groups[where].append((not binding.show, (shown, does, detail), active.enabled))
    rows = [r for g in ("screen", "panel", "app") for r in sorted(groups[g], key=lambda r: r[0])]
    return [row for _, row, _ in rows], [enabled for *_, enabled in rows]


def legend() -> Content:
    """What the colours and statuses mean (the theme's own colours, the health model's
    words and thresholds: backends/domain/health.py)."""
    words = " ".join(dict.fromkeys(("DOWN", "DEGRADED", *WORDS.values())))
    eb, ew, tb = f"{ERROR_BAD * 100:g}", f"{ERROR_WARN * 100:g}", f"{TEMP_BAD_C:g}"
    return Content.from_markup(
        f"[$error]● bad[/]: act now (errors ≥ {eb} %, SLO burn or latency, a new XID, "
        f"GPU ≥ {tb} °C)  [$warning]▲ warning[/]: watch (errors ≥ {ew} %, drift, paused)  "
        f"[$accent]info[/]: canary, rolling  [$success]ok[/]  [$text-muted]? — unknown[/]\n"
        f"statuses, worst signal first: {words}   (a canary row: canary c / stable s)")


class HelpScreen(ModalScreen[None]):
    """Lists the keys; ``esc``, ``?`` or ``q`` closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical { width: 94%; max-width: 150; height: auto; max-height: 90%;
        border: round $primary; background: $surface; padding: 0 1; }
    HelpScreen #help-title { color: $text-accent; text-style: bold; }
    HelpScreen DataTable { height: auto; max-height: 30; }
    HelpScreen #help-foot { color: $text-muted; }
    HelpScreen #help-legend { height: auto; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="help_close"),
        Binding("question_mark", "dismiss", "Close", show=False),
        Binding("q", "dismiss", "Close", show=False),
    ]

    def __init__(self, source: Screen | Iterable[Binding | tuple]) -> None:
        """``source``: the screen whose keys to list (preferred), or bindings."""
        super().__init__()
        if isinstance(source, Screen):
            self._rows, self._enabled = help_rows(source)
        else:
            self._rows = key_rows(source)
            self._enabled = [True] * len(self._rows)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("pitboard keys"), id="help-title")
            yield Table(show_cursor=False, id="help-keys")
            yield Static(legend(), id="help-legend")
            yield Static(Text("esc closes"), id="help-foot")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Key", "Does", "Detail")
        for (key, desc, tip), enabled in zip(self._rows, self._enabled):
            dim = "" if enabled else "dim"
            table.add_row(Text(key, style="dim" if dim else "bold"), Text(desc, style=dim),
                          Text(tip, style=dim))

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
