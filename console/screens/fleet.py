"""The fleet screen: models, GPUs, cost burn, and the selected model's chart and history."""

from __future__ import annotations

import os
import time
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import ScreenResume
from textual.reactive import reactive
from textual.widgets import Input, Static

from backends.domain.models import FleetSnapshot, ModelService, Revision, Series
from backends.domain.slo import fleet_burn
from backends.domain.slo_config import SloConfig
from console.controllers.action_keys import ACTION_BINDINGS, ActionKeysMixin
from console.controllers.contexts import choose_context, told_summary, use_context
from console.screens.footer_fit import FooterFitMixin
from console.screens.breakpoints import preset_breakpoints, skip_first_restyle
from console.presenters.problems import worst_problems
from console.screens import registry
from console.screens.typed import PitboardScreen
from console.screens.visibility import covered
from console.config_core import built_section
from console.controllers.state import answered, next_window
from widgets.cost_panel import CostPanel
from widgets.fleet_header import FleetHeader
from widgets.footer import KeyFooter
from widgets.gpu_grid import GpuGrid
from widgets.gpu_plan import plan_gpus
from widgets.model_table import ModelTable, rows_from_snapshot
from widgets.problem_strip import ProblemStrip
from widgets.release_history import ReleaseHistory
from widgets.render.compositor import render_dirty_only
from widgets.render.settled_sizes import SettledHorizontal, SettledVertical
from widgets.replay_banner import ReplayBanner
from widgets.text import safe

if TYPE_CHECKING:
    from console.presenters.prepare import Prepared
    from widgets.chart import LatencyChart

FIRST_FRAME_ENV = "PITBOARD_FIRST_FRAME_FILE"
CHART_MAX_AGE_S = 30.0


class FleetScreen(FooterFitMixin, ActionKeysMixin, PitboardScreen):
    """Attributes down (``apply_snapshot``), intents up (model table messages)."""

    CSS_PATH = "fleet.tcss"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    # under 24 rows (a split pane) the model table keeps the room (fleet.tcss)
    VERTICAL_BREAKPOINTS = [(0, "-tiny"), (20, "-short"), (24, "-tall")]
    BINDINGS = [
        Binding("slash", "filter", "Filter", id="filter", tooltip="Filter the model table"),
        Binding("colon", "jump", "Jump", id="jump",
                tooltip=registry.jump_help("fleet")),
        Binding("t", "cycle_window", "Window", id="window", tooltip="15m → 1h → 6h → 24h → 7d"),
        Binding("o", "cycle_order", "Order", id="order",
                tooltip="Models: problems first ↔ by name"),
        Binding("enter", "open_model", "Detail", id="detail", tooltip="Open the model detail"),
        Binding("x", "detail", "", id="expand", show=False,
                tooltip="Expand the selected model's chart and history"),
        Binding("escape", "back", "Back", id="back", show=False, tooltip="Close / collapse"),
        Binding("tab", "app.focus_next", "Next panel", id="next_panel", show=False),
        Binding("shift+tab", "app.focus_previous", "Previous panel", show=False),
        *ACTION_BINDINGS,
    ]
    # what the footer keeps when the terminal is narrow (80x24: / : R P n q ?); every key
    # is in the help
    FOOTER_PRIORITY = ("slash", "colon", "R", "P", "n", "q", "question_mark",
                       "1", "full_stop", "right_square_bracket",  # replay's (only then)
                       "A", "i", "e", "t", "o", "space", "T", "U", "X", "r", "s", "m")

    window: reactive[str] = reactive("1h")
    selected: reactive[str | None] = reactive(None)
    expanded: reactive[bool] = reactive(False)

    def __init__(self, window: str = "1h") -> None:
        super().__init__()
        render_dirty_only(self)  # a refresh renders only its dirty lines
        self.set_reactive(FleetScreen.window, window)
        self.snapshot: FleetSnapshot | None = None
        self._chart: LatencyChart | None = None
        self._chart_pending = False
        self._row_cache: dict = {}
        self.prepared: Prepared | None = None  # of the latest metrics part
        self._chart_asked: tuple[str | None, str, datetime] | None = None
        self._first_frame_done = False
        self._stale = False  # a snapshot arrived while a view covered this screen

    def compose(self) -> ComposeResult:
        preset_breakpoints(self)  # the app's default screen: made before the app has a size
        yield FleetHeader(id="header")
        yield ReplayBanner(id="replay-banner")
        yield ProblemStrip(id="problems")
        # the panels' containers: a panel moved (the strip's first problem) is one layout
        with SettledHorizontal(id="body"):
            with SettledVertical(id="left"):
                table = ModelTable(id="models")
                table.border_title = "Models"
                yield table
                empty = Static(id="models-empty")  # what was looked for, when nothing matched
                empty.border_title = "Models 0"
                yield empty
                with Horizontal(id="detail"):
                    box = Vertical(id="chart-box")
                    box.border_title = "Latency / errors"
                    with box:
                        yield Static(Text("waiting for data…"), id="chart-wait")
                    history = ReleaseHistory(id="history")
                    history.border_title = "Releases"
                    yield history
            with SettledVertical(id="right"):
                cost = CostPanel(id="cost")
                cost.border_title = "Cost burn"
                yield cost
                gpus = GpuGrid(id="gpus")
                gpus.border_title = "GPUs"
                yield gpus
        yield Input(placeholder="filter models…", id="filter", classes="prompt")
        yield Input(placeholder=registry.jump_help("fleet"), id="jump", classes="prompt",
                    suggester=registry.SUGGEST)
        yield KeyFooter()

    def on_mount(self) -> None:
        for prompt in self.query(Input):
            prompt.cursor_blink = False
        self.show_header()
        table = self.query_one(ModelTable)
        display = built_section(self.app.settings, "display")  # quick settings: defaults
        if display is not None:
            table.order = display.model_order
        table.focus()
        self.set_interval(1.0, self.show_header, name="header-ages")
        ready = getattr(self.app, "fleet_mounted", None)
        if ready is not None:
            ready()

    # -- data in ------------------------------------------------------------------
    def _strip_lines(self) -> int:
        """The strip's rows: 4 on a tall terminal, else 2 (the worst, then the rest named)."""
        return 4 if self.app.size.height >= 40 else 2

    def on_resize(self, _event: events.Resize) -> None:
        """A resized terminal re-lays the strip now, not at the next refresh."""
        self.query_one(ProblemStrip).max_lines = self._strip_lines()

    def apply_snapshot(self, snapshot: FleetSnapshot) -> None:
        """Show ``snapshot`` (main thread). Only changed cells/lines are redrawn. Under a
        view, only kept: applied once when this screen is on top again (``_stale``)."""
        self.snapshot = snapshot
        if covered(self):
            self._stale = True
            return
        self._stale = False
        with self.app.batch_update():
            self.show_header()
            table = self.query_one(ModelTable)
            prepared = self.prepared  # made by the metrics poller for its part, if any
            rows = prepared.rows_for(snapshot) if prepared is not None else None
            if rows is None:
                rows = rows_from_snapshot(snapshot, self._row_cache, self._slo_rule())
            table.show_rows(rows)
            if self._follows_top():
                table.move_cursor(row=0)
            self._show_search(snapshot)
            self._title_models()
            strip = self.query_one(ProblemStrip)
            strip.max_lines = self._strip_lines()
            lines = prepared.problems_for(snapshot) if prepared is not None else None
            strip.show(lines if lines is not None else worst_problems(snapshot),
                       blind=_blind(snapshot))
            plan = prepared.plan_for(snapshot.gpus) if prepared is not None else None
            if plan is None:  # not prepared for these: narrowed by :ctx, replayed ...
                told = told_summary(self.app, snapshot)
                plan = plan_gpus(snapshot.gpus, *told) if told else plan_gpus(snapshot.gpus)
            self.query_one(GpuGrid).show_gpus(snapshot.gpus, plan)
            if snapshot.sources.get("metrics") is not None or snapshot.cost.source != "n/a":
                self.query_one(CostPanel).cost = snapshot.cost
            elif "metrics" not in getattr(self.app.backends, "sources", ("metrics",)):
                self.query_one(CostPanel).empty_text = "no metrics source (--prometheus URL)"
            if self.selected is None and table.selected_key is not None:
                self.selected = table.selected_key
            self._show_history()
            self.sync_action_keys()
        if self.selected is not None and self._chart_due(snapshot):
            self._request_chart()
        if (not self._first_frame_done and snapshot.services
                and all(answered(s) for s in snapshot.sources.values())):
            self._first_frame_done = True
            # the first complete frame: models and every source's data (or its error);
            # plotext is imported and drawn only once it is out
            self.call_after_refresh(self._after_first_frame)

    def _follows_top(self) -> bool:
        """The cursor stays on the top row -- the worst model -- until the first complete
        frame (every source answered) is shown, unless the person has pressed a key or a
        mouse button since start: a start whose cluster read came first (its watch behind,
        the metrics not in yet) selects the incident's model once the figures show it,
        not the model that was on top before them. After that the cursor keeps its model,
        so the selection never moves under someone about to act on it."""
        return not self._first_frame_done and not getattr(self.app, "user_acted", False)

    def _show_search(self, snapshot: FleetSnapshot) -> None:
        """No model at all: say what the cluster source looked for and how to change it,
        in the table's place (never an empty table)."""
        why = snapshot.cluster_search if not snapshot.services else None
        box = self.query_one("#models-empty", Static)
        if why:
            box.update(Text(why))
        box.set_class(bool(why), "-on")
        self.set_class(bool(why), "-searched")  # no chart or history to show either

    def _slo_rule(self):
        """The burn-rate column's rule from the ``[slo]`` settings (built once)."""
        rule = getattr(self, "_slo_rule_fn", None)
        if rule is None:
            cfg = getattr(getattr(self.app, "settings", None), "slo", None) or SloConfig()
            rule = self._slo_rule_fn = fleet_burn(cfg)
        return rule

    def _after_first_frame(self) -> None:
        path = os.environ.get(FIRST_FRAME_ENV)
        if path:
            _mark_first_frame(path)
        if self._chart is None and not self._chart_pending:
            self._chart_pending = True
            self.set_timer(0.02, self._mount_chart)

    def show_header(self) -> None:
        """Re-render the header (ages tick with the app's clock)."""
        header = next(iter(self.query(FleetHeader)), None)
        if header is None:  # the screen is being taken apart (a tick while the app exits)
            return
        app = self.app
        snap = self.snapshot
        header.show(
            context=snap.context if snap else None,
            namespace=snap.namespace if snap else None,
            window=self.window, paused=app.paused, read_only=app.read_only,
            in_flight=app.actions.in_flight_text(),
            sources=app.state.status, now=app.clock(),
        )

    def show_chart(self, model: str, window: str, series: tuple[Series, ...],
                   drawn: tuple | None = None, key: str | None = None) -> None:
        """Plot the series of ``model`` (of service ``key``, when given) if it is still the
        selected one (``drawn``: the figure the loading worker drew, see
        LatencyChart.drawer)."""
        svc = self._selected_service()
        if (self._chart is None or svc is None or svc.name != model or window != self.window
                or key not in (None, svc.key)):
            return
        self._chart.show_series(model, window, series, drawn)

    # -- helpers ------------------------------------------------------------------
    def _mount_chart(self) -> None:
        from widgets.chart import LatencyChart  # noqa: PLC0415 - plotext after first frame

        chart = self._chart = LatencyChart(id="chart")
        box = self.query_one("#chart-box")
        box.query("#chart-wait").remove()
        box.mount(chart)
        self._request_chart()

    def _chart_due(self, snapshot: FleetSnapshot) -> bool:
        """Range queries are costly: re-ask only when the model or window changed, or when
        the last answer is older than CHART_MAX_AGE_S (by the app's clock)."""
        asked = self._chart_asked
        if asked is None or asked[0] != self.selected or asked[1] != self.window:
            return True
        return (snapshot.taken_at - asked[2]).total_seconds() >= CHART_MAX_AGE_S

    def _selected_service(self) -> ModelService | None:
        if self.snapshot is None or self.selected is None:
            return None
        return next((s for s in self.snapshot.services if s.key == self.selected), None)

    def _request_chart(self) -> None:
        svc = self._selected_service()
        if svc is not None and self._chart is not None:
            self._chart_asked = (self.selected, self.window, self.app.clock())
            self.app.navigator.load_chart(svc.name, self.window, self._chart.drawer(svc.name, self.window),
                                service=svc)

    def _show_history(self) -> None:
        svc, snap = self._selected_service(), self.snapshot
        history = self.query_one(ReleaseHistory)
        history.show_history(snap.revisions.get(svc.key) if svc and snap else None,
                             svc.key if svc else None, svc.traffic_note if svc else None)
        title = Text("Releases")
        box_title = Text("Latency / errors")
        if svc is not None:
            title.append(f" · {safe(svc.name, 40)}")
            box_title.append(f" · {safe(svc.name, 40)} · {self.window}")
        _set_title(history, title)
        _set_title(self.query_one("#chart-box"), box_title)

    def picked_revision(self) -> Revision | str | None:
        """With the releases panel focused: its highlighted revision (``R`` / ``U`` roll
        back to it), or why there is none; None with any other panel focused."""
        history = self.focused
        if not isinstance(history, ReleaseHistory):
            return None
        svc = self._selected_service()
        picked = history.highlighted_revision
        if picked is None:
            return (f"no release history of {safe(svc.name, 40)} to pick from" if svc
                    else "no model selected")
        return picked

    @on(ReleaseHistory.RowHighlighted, "#history")
    def _revision_highlighted(self) -> None:
        self.refresh_bindings()  # the footer's and help's R / U name the highlighted one

    def _title_models(self) -> None:
        table = self.query_one(ModelTable)
        title = Text(f"Models {table.row_count}")
        title.append(" · problems first" if table.order == "problems" else " · by name",
                     style="dim")
        if table.filter_text:
            title.append(f" · /{safe(table.filter_text, 20)}")
        _set_title(table, title)

    # -- intents up from widgets -------------------------------------------------------
    @on(ModelTable.ModelHighlighted)
    def _highlighted(self, event: ModelTable.ModelHighlighted) -> None:
        self.selected = event.key
        if isinstance(event, ModelTable.ModelChosen):
            self.action_open_model()

    def watch_selected(self, _old: str | None, new: str | None) -> None:
        if self.snapshot is None or new is None:
            return
        self._show_history()
        self._request_chart()
        self.sync_action_keys()

    def watch_window(self) -> None:
        if self.snapshot is not None:
            self._show_history()
            self._request_chart()
        if self.is_mounted:
            self.show_header()

    def watch_expanded(self, expanded: bool) -> None:
        self.set_class(expanded, "-expanded")

    # -- actions ------------------------------------------------------------------
    def action_filter(self) -> None:
        """Show the filter prompt."""
        prompt = self.query_one("#filter", Input)
        prompt.add_class("-on")
        self.set_focus(prompt)  # at once: the keys typed after it go to the prompt

    def action_jump(self) -> None:
        """Show the ``:`` jump prompt."""
        prompt = self.query_one("#jump", Input)
        prompt.value = ""
        prompt.add_class("-on")
        self.set_focus(prompt)  # at once: the keys typed after it go to the prompt

    def action_cycle_window(self) -> None:
        """Next chart time window."""
        self.window = next_window(self.window)

    def action_cycle_order(self) -> None:
        """Models problems first, or by name; the cursor stays on its model."""
        table = self.query_one(ModelTable)
        table.order = "name" if table.order == "problems" else "problems"
        self._title_models()

    def action_detail(self) -> None:
        """Expand the selected model's chart and history (toggle)."""
        self.expanded = not self.expanded

    def action_back(self) -> None:
        """Close a prompt, else collapse the detail, else clear the filter."""
        for prompt in self.query(".prompt.-on").results(Input):
            prompt.remove_class("-on")
            if prompt.id == "filter":
                prompt.value = ""
            self.query_one(ModelTable).focus()
            return
        if self.expanded:
            self.expanded = False
        elif self.query_one(ModelTable).filter_text:
            self.query_one("#filter", Input).value = ""
        elif getattr(getattr(self.app, "navigator", None), "replay_at", None) is not None:
            self.app.navigator.stop_replay()
        elif getattr(getattr(getattr(self.app, "navigator", None), "context_filter", None), "context", None) is not None:
            use_context(self.app, None)  # narrowed by :ctx -> every context again

    @on(ProblemStrip.Selected)
    def _problem_selected(self, event: ProblemStrip.Selected) -> None:
        """``enter`` on a problem: select its model and open its detail."""
        table = self.query_one(ModelTable)
        try:
            table.move_cursor(row=table.get_row_index(event.key))
        except Exception:  # noqa: BLE001 - filtered out or gone: open it all the same
            pass
        self.selected = event.key
        self.app.navigator.open_view("model", key=event.key)

    def action_open_model(self) -> None:
        """Open the selected model's detail view."""
        if self.selected is not None:
            self.app.navigator.open_view("model", key=self.selected)

    def jump_to(self, target: str) -> bool:
        """Focus the panel named ``target`` (``gpus``, ``models``...); False if unknown.
        ``ctx NAME`` narrows the console to that context (``ctx all``: every one)."""
        text = target.strip().lstrip(":").strip()
        if not text:
            return False  # an empty prompt asks for nothing
        word, _, arg = text.partition(" ")
        view = registry.find(word)
        if view is not None and view.name == "ctx" and arg.strip():
            done, said = choose_context(self.app, arg.strip())
            self.notify(safe(said, 200), title="context", markup=False,
                        severity="information" if done else "warning")
            return done
        view = registry.find(text)
        if view is None:
            name = target.strip().lstrip(":").lower()
            self.notify(f"unknown panel :{safe(name, 30)}", severity="warning", markup=False)
            return False
        if view.opens == "view":
            return self.app.navigator.open_view(view.name)
        if view.opens == "records":
            self.app.records.show(view.name)
            return True
        self.query(view.target).first().focus()
        return True

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_one(ModelTable).filter_text = event.value
        self._title_models()

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        event.input.remove_class("-on")
        self.query_one(ModelTable).focus()

    @on(Input.Submitted, "#jump")
    def _jump_done(self, event: Input.Submitted) -> None:
        event.input.remove_class("-on")
        # the prompt is closing: focus the table (a panel jump then moves focus on), so a
        # view or modal opened by the jump does not come back to a hidden prompt
        self.query_one(ModelTable).focus()
        self.jump_to(event.value)

    def on_screen_resume(self, event: ScreenResume) -> None:
        skip_first_restyle(self, event)
        if self._stale and self.snapshot is not None:
            self.apply_snapshot(self.snapshot)  # the latest state, kept while covered
        if self.is_mounted:
            self.app.poller.resume_pending()


def _set_title(widget, title: Text) -> None:
    """Set a border title only when it changed (a change repaints the whole widget)."""
    if getattr(widget, "_pb_title", None) != title.plain:
        widget._pb_title = title.plain
        widget.border_title = title


def _blind(snapshot: FleetSnapshot) -> str:
    """The sources whose problems the strip cannot see now: failing, or not answered yet
    ("" when every source answered)."""
    out = [f"{name} failing" if answered(s) else f"{name} not answered yet"
           for name, s in snapshot.sources.items() if not s.ok or not answered(s)]
    return ", ".join(out)


def _mark_first_frame(path: str) -> None:
    """Benchmark hook: record when the first frame with data was drawn."""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(f"{time.time():.6f}\n")
