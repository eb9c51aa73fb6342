"""Pilot tests of the ``:alerts`` view: opening, order, enter, sources, hostile text, replay."""

from __future__ import annotations

import dataclasses
import html
import re
from datetime import timedelta

from backends.domain.sources import AlertsBackend
from backends.domain.errors import BackendError
from backends.domain.models import Alert
from console.app import make_app
from console.config import load_settings
from console.screens.alerts import AlertsScreen
from console.screens.model_detail import ModelDetailScreen
from tests.console.conftest import FROZEN, demo_backends, wait_for, wait_loaded, workers_idle
from widgets.alert_rows import NO_SOURCE, AlertTable, severity_rank, sort_alerts, state_rank

DEMO_ORDER = ["GpuXidError", "CanaryErrorRateHigh", "GpuTemperatureHigh",
              "GpuEccSingleBitErrors", "FeatureDriftHigh", "GpuAllocatedIdle",
              "KubeDeploymentRolloutStuck"]


class FakeAlerts(AlertsBackend):
    """Alerts set by the test; ``fail`` makes the next read raise like Alertmanager down."""

    def __init__(self, alerts=()) -> None:
        self.items = tuple(alerts)
        self.fail = False

    def alerts(self) -> tuple[Alert, ...]:
        if self.fail:
            raise BackendError("cannot connect to Alertmanager", source="alertmanager")
        return self.items


def alert(name, severity="warning", minutes=10, state="firing", model=None, **labels):
    return Alert(name=name, severity=severity, state=state, model=model,
                 starts_at=FROZEN - timedelta(minutes=minutes), summary=f"{name} summary",
                 labels={"alertname": name, **labels})


def text_of(app) -> str:
    """The screen's text (the SVG screenshot's text runs, joined)."""
    runs = re.findall(r"<text[^>]*>(.*?)</text>", app.export_screenshot(), flags=re.S)
    return html.unescape("".join(runs)).replace("\xa0", " ")


def names(screen: AlertsScreen) -> list[str]:
    return [r.alert.name for r in screen.rows]


async def open_alerts(pilot) -> AlertsScreen:
    await wait_loaded(pilot)
    await pilot.press("colon", *"alerts", "enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, AlertsScreen))
    await workers_idle(pilot)
    await pilot.pause()
    return pilot.app.screen


def app_with(backends):
    return make_app(load_settings(refresh=3600), backends)


def test_sort_order_state_severity_newest():
    alerts = [alert("Old", "critical", 90), alert("Info", "info", 1), alert("New", "critical", 5),
              alert("Odd", "page", 1), alert("Pending", "critical", 1, state="pending"),
              alert("Silenced", "critical", 1, state="suppressed"),
              Alert(name="NoStart", severity="warning"), alert("Warn", "Warning", 3)]
    assert [a.name for a in sort_alerts(alerts)] == [
        "New", "Old", "Warn", "NoStart", "Info", "Odd", "Pending", "Silenced"]


async def test_open_with_colon_sorted_and_titled():
    app = app_with(demo_backends())
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_alerts(pilot)
        assert names(screen) == DEMO_ORDER
        keys = [(state_rank(r.alert), severity_rank(r.alert), -r.alert.starts_at.timestamp())
                for r in screen.rows]
        assert keys == sorted(keys)
        text = text_of(app)
        assert "7 alerts · 1 critical · demo alerts" in text and "6 firing, 1 suppressed" in text
        assert "demo alerts, updated 0s ago" in text
        assert "37m" in text and "XID 79" in text  # age by the frozen clock, summary
        assert "runbooks.example.com/ml/gpuxiderror" in text  # the selected alert in full
        table = screen.query_one(AlertTable)
        assert table.row_count == 7 and table.cursor_row == 0


async def test_enter_opens_the_model_and_esc_comes_back():
    backends = demo_backends()
    app = app_with(backends)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_alerts(pilot)
        await pilot.press("down")  # CanaryErrorRateHigh: the recommender
        assert screen.rows[1].alert.model == "recommender"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelDetailScreen))
        assert app.screen.key == screen.rows[1].service_key
        assert app.screen.key.endswith("/recommender")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        assert screen.query_one(AlertTable).cursor_row == 1


async def test_enter_on_an_alert_without_model_stays():
    app = app_with(demo_backends())
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_alerts(pilot)
        index = names(screen).index("GpuEccSingleBitErrors")
        await pilot.press(*["down"] * index)
        assert screen.rows[index].service_key is None and screen.rows[index].alert.model is None
        assert screen.check_action("open_model", ()) is None  # dimmed in the footer
        await pilot.press("enter")  # a dimmed key does nothing
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("up")  # GpuTemperatureHigh is about llm-chat: enter is live again
        assert screen.check_action("open_model", ()) is True


async def test_no_alerts_source_says_which_flag_to_set():
    app = app_with(dataclasses.replace(demo_backends(), alerts=None))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.state.metrics is not None)
        app.navigator.open_view("alerts")
        await wait_for(pilot, lambda: isinstance(app.screen, AlertsScreen))
        await pilot.pause()
        assert NO_SOURCE == "no alerts source (--alertmanager URL)"
        title = app.screen.query_one("#view-title").render().plain
        assert "0 alerts" in title and NO_SOURCE in title
        assert app.screen.rows == [] and "no active alert" in text_of(app)


async def test_stale_source_keeps_the_last_good_rows_and_cursor():
    fake = FakeAlerts([alert("A", "critical", 5, model="llm-chat"), alert("B", "warning", 9),
                       alert("C", "info", 2)])
    app = app_with(dataclasses.replace(demo_backends(), alerts=fake))
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_alerts(pilot)
        assert names(screen) == ["A", "B", "C"]
        await pilot.press("down")  # on B
        fake.fail = True
        app.poller.poll("alerts")
        await wait_for(pilot, lambda: not app.state.status["alerts"].ok)
        await pilot.pause()
        assert names(screen) == ["A", "B", "C"]
        title = screen.query_one("#view-title").render().plain
        assert "stale" in title and "cannot connect to Alertmanager" in title
        # back: a new critical alert on top; the cursor stays on B
        fake.fail = False
        fake.items = (alert("New", "critical", 1),) + fake.items
        app.poller.poll("alerts")
        await wait_for(pilot, lambda: len(screen.rows) == 4)
        await pilot.pause()
        assert names(screen) == ["New", "A", "B", "C"]
        assert screen.query_one(AlertTable).cursor_row == 2
        assert "updated" in screen.query_one("#view-title").render().plain


async def test_hostile_label_and_annotation_text_stays_literal():
    evil = Alert(name="[bold red]x[/]", severity="[blink]crit", state="firing",
                 starts_at=FROZEN - timedelta(minutes=3), summary="clear\x1b[2J screen 🔥",
                 runbook_url="[link=https://evil.example]click[/link]", model="m" * 300,
                 labels={"alertname": "[bold red]x[/]", "namespace": "evil\x1b[31m",
                         "team": "[red]qa[/]"})
    fake = FakeAlerts([evil, alert("Plain", "critical", 1)])
    app = app_with(dataclasses.replace(demo_backends(), alerts=fake))
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_alerts(pilot)
        assert names(screen) == ["Plain", "[bold red]x[/]"]
        await pilot.press("down")
        await pilot.pause()
        text = text_of(app)
        assert "[bold red]x[/]" in text and "[blink]crit" in text
        assert "clear\\x1b[2J screen 🔥" in text and "\x1b" not in text
        assert "[link=https://evil.example]click[/link]" in text and "team=[red]qa[/]" in text
        cells = screen.rows[1].cells
        assert ("[bold red]x[/]", "muted") not in cells  # firing: not muted
        assert cells[1][0] == "[bold red]x[/]" and cells[2][0] == "m" * 199 + "…"


async def test_filter_then_esc_clears_then_leaves():
    app = app_with(demo_backends())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_alerts(pilot)
        await pilot.press("slash", *"gpu")
        await wait_for(pilot, lambda: len(screen.rows) == 4)
        assert all("gpu" in r.alert.name.lower() or "GPU" in r.alert.summary
                   for r in screen.rows)
        assert "4 shown of 7 alerts" in screen.query_one("#view-title").render().plain
        await pilot.press("enter")  # closes the prompt, keeps the filter
        assert len(screen.rows) == 4
        await pilot.press("escape")  # clears the filter
        assert len(screen.rows) == 7
        await pilot.press("escape")  # back to the fleet
        await wait_for(pilot, lambda: app.screen is app.fleet_screen)


async def test_replay_says_live_only_and_live_comes_back():
    app = app_with(demo_backends())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_alerts(pilot)
        app.navigator.start_replay(FROZEN - timedelta(hours=1))
        await wait_for(pilot, lambda: app.navigator._replay_snapshot is not None)
        await pilot.pause()
        assert screen.has_class("-replay")
        assert "live only" in screen.query_one("#view-title").render().plain
        assert "Alerts are live only" in text_of(app) and "GpuXidError" not in text_of(app)
        assert "⏎ Model" not in text_of(app) and "/ Filter" not in text_of(app)
        await pilot.press("escape")  # leaves replay, stays on the view
        await wait_for(pilot, lambda: app.navigator.replay_at is None)
        await pilot.pause()
        assert app.screen is screen and not screen.has_class("-replay")
        assert "GpuXidError" in text_of(app)


async def test_footer_fits_at_80_columns():
    app = app_with(demo_backends())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_alerts(pilot)
        shown = {k for k, b in screen.active_bindings.items() if b.binding.show}
        assert {"enter", "escape", "slash", "question_mark", "q"} <= shown
        assert "⏎ Model" in text_of(app) and "/ Filter" in text_of(app)
