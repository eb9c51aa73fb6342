"""Contexts view (``:ctx``, k9s's context list): one row per kubeconfig context the console
reads -- cluster/server, namespaces watched, models and GPUs in the latest snapshot, its
source state and its action policy (read-only, protected, approvals to promote). ``enter``
narrows the whole console to the selected context (the "all contexts" row, or ``enter``
on the current one again, shows every context); ``esc`` on the fleet does the same.

Nothing here changes a cluster: the view has no mutating key, read-only or not.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from backends.domain.models import FleetSnapshot
from console.controllers.contexts import (ContextFilter, ContextInfo, context_rows, current_context,
                                    filter_of, gpu_counts, use_context)
from console.screens.base import ViewScreen
from widgets.badges import update_text
from widgets.render.fresh_widths import FreshWidths
from widgets.text import MISSING, fmt_age, safe

ALL_LABEL = "all contexts"
COLUMNS = ("", "context", "cluster / server", "namespaces", "models", "GPUs", "source",
           "policy")
NARROW_COLUMNS = ("", "context", "namespaces", "models", "GPUs", "source", "policy")
"""Below WIDE_AT the server moves to the detail line under the table."""
WIDE_AT = 120
"""At this width and more: full column titles and longer cells."""
MARK = "●"


class ContextTable(FreshWidths, DataTable):
    """The contexts table; cell colours come from the theme (component classes)."""

    DEFAULT_CSS = """
    ContextTable > .ctx-table--ok { color: $success; }
    ContextTable > .ctx-table--bad { color: $error; text-style: bold; }
    ContextTable > .ctx-table--warn { color: $warning; }
    ContextTable > .ctx-table--muted { color: $text-muted; }
    ContextTable > .ctx-table--name { text-style: bold; }
    ContextTable > .ctx-table--mark { color: $accent; text-style: bold; }
    """
    COMPONENT_CLASSES = DataTable.COMPONENT_CLASSES | {
        "ctx-table--ok", "ctx-table--bad", "ctx-table--warn", "ctx-table--muted",
        "ctx-table--name", "ctx-table--mark"}
    # DataTable's own enter binding is hidden; this one shows in the footer
    BINDINGS = [Binding("enter", "select_cursor", "Use", id="ctx_use",
                        tooltip="Show only the selected context (all contexts: every one)")]

    def cell(self, text: str, style: str = "") -> Text:
        """One literal cell (never markup), one line, ellipsis when cut."""
        rich = self.get_component_rich_style(f"ctx-table--{style}") if style else Style()
        return Text(text, style=rich, no_wrap=True, overflow="ellipsis")


def source_cell(info: ContextInfo) -> tuple[str, str]:
    """(text, style) of a context's source state: ``ok 3s``, ``stale 42s``, ``not
    reachable``, ``…`` while the first read runs."""
    if info.state == "ok":
        return f"ok {fmt_age(info.age_s)}", "ok"
    if info.state == "stale":
        return f"stale {fmt_age(info.age_s)}", "warn"
    if info.state == "unreachable":
        return "not reachable", "bad"
    return "…", "muted"


def policy_text(info: ContextInfo, short: bool = False) -> tuple[str, str]:
    """(policy, style): ``RO (config)``, ``protected``, ``2 approvals`` or ``writable``;
    ``short``: ``RO`` ``prot`` ``2 appr`` (the detail line says it in full)."""
    parts = []
    if info.read_only is not None:
        parts.append("RO" if info.read_only == "backend" or short else f"RO ({info.read_only})")
    if info.protected:
        parts.append("prot" if short else "protected")
    if info.approvals:
        parts.append(f"{info.approvals} appr" if short else
                     f"{info.approvals} approval{'s' if info.approvals > 1 else ''}")
    if not parts:
        return "writable", "muted"
    return " · ".join(parts), "warn" if info.read_only is None else "bad"


def policy_words(info: ContextInfo) -> str:
    """The policy in full, for the detail line."""
    words = []
    if info.read_only == "--read-only":
        words.append("read-only: --read-only, no mutating action")
    elif info.read_only == "config":
        words.append("read-only: [actions] config, no mutating action")
    elif info.read_only is not None:
        words.append("read-only backend, no mutating action")
    else:
        words.append("rollback/promote allowed (guarded)")
    if info.protected:
        words.append("protected: type the object's name to confirm")
    if info.approvals:
        words.append(f"promote needs {info.approvals} approval"
                     f"{'s' if info.approvals > 1 else ''} by someone else")
    return "; ".join(words)


class ContextsScreen(ViewScreen):
    """``:ctx``: the contexts and their state; ``enter`` shows only the selected one."""

    DEFAULT_CSS = """
    ContextsScreen #ctx-table { height: 1fr; }
    ContextsScreen #ctx-detail { height: auto; max-height: 4; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [Binding("enter", "use_context", "Use", id="ctx_use_screen", show=False,
                        tooltip="Show only the selected context (all contexts: every one)")]
    VIEW_TITLE = "contexts"

    def __init__(self, window: str = "1h", **kwargs) -> None:
        super().__init__(window=window, **kwargs)
        self.rows: list[ContextInfo] = []
        self._names: list[str | None] = []  # per table row: context name, None = all
        self._shown: tuple | None = None
        self._own_filter = ContextFilter()  # freshness tracking when the app has none

    def compose_body(self) -> ComposeResult:
        table = ContextTable(id="ctx-table", classes="panel", cursor_type="row")
        table.border_title = "Contexts · enter: show only this one"
        yield table
        yield Static(Text(""), id="ctx-detail")

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one(ContextTable)
        chosen = current_context(self.app)
        if chosen in self._names:
            table.move_cursor(row=self._names.index(chosen), animate=False)
        table.focus()

    def on_resize(self, event) -> None:
        super().on_resize(event)
        if self.snapshot is not None and self.is_mounted:
            self.show(self.snapshot)  # column titles and cell widths follow the width

    # -- data in ----------------------------------------------------------------------------
    def _filter(self) -> ContextFilter:
        return filter_of(self.app) or self._own_filter

    def show(self, snapshot: FleetSnapshot) -> None:
        """Rows from the unnarrowed snapshot (``snapshot`` may be one context's only)."""
        flt = self._filter()
        full = flt.full if flt.full is not None else snapshot
        app = self.app
        self.rows = context_rows(full, app, flt, app.clock())
        chosen = current_context(app)
        width = self.size.width or 80
        parts = [f"{len(self.rows)} context{'s' if len(self.rows) != 1 else ''}",
                 f"showing {safe(chosen, 60) if chosen is not None else ALL_LABEL}"]
        self.set_title(*parts)
        self._fill(full, chosen, width)
        self._show_detail()

    def _fill(self, full: FleetSnapshot, chosen: str | None, width: int) -> None:
        narrow = width < WIDE_AT
        key = (tuple(self.rows), chosen, narrow, self.app.theme, len(full.services),
               len(full.gpus))
        if key == self._shown:
            return
        table = self.query_one(ContextTable)
        row = table.cursor_row
        if self._shown is None or self._shown[2] != narrow:
            table.clear(columns=True)
            table.add_columns(*(NARROW_COLUMNS if narrow else COLUMNS))
        else:
            table.clear()
        self._shown = key
        name_w, ns_w = (20, 14) if narrow else (48, 40)
        status = full.sources.get("cluster")
        total, used = gpu_counts(self.app, None, full.gpus)
        overall = "…" if status is None or status.last_success is None and status.error is None \
            else "ok" if status.ok else "stale"
        read_only = self.app.settings.read_only
        cells = [table.cell(MARK if chosen is None else "", "mark"), table.cell(ALL_LABEL, "name")]
        cells += [table.cell(MISSING, "muted")] * (1 if narrow else 2)
        cells += [table.cell(str(len(full.services))), table.cell(gpu_cell(used, total)),
                  table.cell(overall, {"ok": "ok", "stale": "warn"}.get(overall, "muted")),
                  table.cell(("RO" if narrow else "RO (--read-only)") if read_only else MISSING,
                             "bad" if read_only else "muted")]
        table.add_row(*cells)
        self._names = [None]
        for info in self.rows:
            src, src_style = source_cell(info)
            pol, pol_style = policy_text(info, short=narrow)
            cells = [table.cell(MARK if info.name == chosen else "", "mark"),
                     table.cell(safe(info.name, name_w), "name")]
            if not narrow:
                cells.append(table.cell(safe(info.server, 48), "" if info.server else "muted"))
            cells += [table.cell(safe(info.namespaces, ns_w)), table.cell(str(info.models)),
                      table.cell(gpu_cell(info.gpus_used, info.gpus)),
                      table.cell(src, src_style), table.cell(pol, pol_style)]
            table.add_row(*cells)
            self._names.append(info.name)
        table.move_cursor(row=min(max(row, 0), len(self._names) - 1), animate=False)

    def _selected_name(self) -> tuple[bool, str | None]:
        """(a row is selected, its context: None for "all contexts")."""
        table = self.query_one(ContextTable)
        if not 0 <= table.cursor_row < len(self._names):
            return False, None
        return True, self._names[table.cursor_row]

    def _show_detail(self) -> None:
        ok, name = self._selected_name()
        text = Text(no_wrap=False, overflow="ellipsis")
        info = next((r for r in self.rows if r.name == name), None) if ok else None
        if info is None:
            text.append("enter: show every context · esc: back")
            counts = [r.gpus for r in self.rows]
            full = self._filter().full
            total = gpu_counts(self.app, None, full.gpus)[0] if full is not None else None
            if total is not None and len(self.rows) > 1 and None not in counts:
                known = sum(c for c in counts if c is not None)
                if known < total:
                    text.append(f" · {total - known} GPUs not attributable to one context")
        else:
            text.append(safe(info.name, 80), "bold")
            text.append(f" · {safe(info.server, 80)}" if info.server else "")
            text.append(f" · {policy_words(info)}")
            if info.error:
                text.append("\n")
                text.append(f"{'last read failed' if info.state == 'stale' else 'error'}: ",
                            "bold")
                text.append(safe(info.error, 300))
        update_text(self.query_one("#ctx-detail", Static), text)

    @on(DataTable.RowHighlighted, "#ctx-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_detail()

    # -- actions ---------------------------------------------------------------------------
    def action_use_context(self) -> None:
        """Narrow the console to the selected context (again, or "all": every context),
        then go back to the fleet screen."""
        ok, name = self._selected_name()
        if not ok:
            return
        if name is not None and name == current_context(self.app):
            name = None  # the same context again: every context
        if not use_context(self.app, name):
            self.notify("this console cannot narrow to one context", severity="warning",
                        markup=False)
            return
        shown = ALL_LABEL if name is None else safe(name, 60)
        self.notify(f"showing {shown}" + ("" if name is None else " (esc on the fleet: all)"),
                    title="context", markup=False)
        app = self.app
        while app.screen is not app.fleet_screen and len(app.screen_stack) > 1:
            app.pop_screen()

    @on(DataTable.RowSelected, "#ctx-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_use_context()


def gpu_cell(used: int | None, total: int | None) -> str:
    """``used/total`` GPUs; the total alone when the allocation is not known, ``—`` when
    neither is (another context's, while the read is within one)."""
    if total is None:
        return MISSING
    return f"{total:,}" if used is None else f"{used:,}/{total:,}"
