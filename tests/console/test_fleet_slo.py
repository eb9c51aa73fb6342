"""The burn-rate (SLO) column of the fleet table: figures, colours, width, 80x24."""

from __future__ import annotations

import pytest

from backends.domain.models import FleetSnapshot, HealthSample, ModelService
from backends.domain.slo import fleet_burn
from backends.domain.slo_config import SloConfig
from console.app import make_app
from console.config import load_settings
from console.cli.report import render_text
from widgets.levels import Level
from widgets.model_rows import COLUMNS, fmt_burn, rows_from_snapshot
from widgets.model_table import NAME_MIN, SEP, layout
from tests.console.conftest import FROZEN, demo_backends, wait_for, wait_loaded

BURN = [c for c, _, _ in COLUMNS].index("burn")


@pytest.mark.parametrize(("burn", "text"), [
    (None, "—"), (0.0, "0.00x"), (0.534, "0.53x"), (2.1, "2.10x"), (9.996, "10.0x"),
    (14.4, "14.4x"), (120.4, "120x"), (10000.0, "10000x"), (2e5, ">1e5x")])
def test_fmt_burn(burn, text):
    assert fmt_burn(burn) == text
    assert len(text) <= 6


def _snap(**health) -> FleetSnapshot:
    services = tuple(ModelService(name=n, namespace="ns", cluster="c") for n in health)
    return FleetSnapshot(taken_at=FROZEN, context="c", services=services, health={
        n: HealthSample(model=n, at=FROZEN, error_ratio_1h=e1, error_ratio_6h=e6)
        for n, (e1, e6) in health.items()})


def test_burn_cells_by_hand():
    cfg = SloConfig(models={"lenient": {"availability": 0.99}})
    snap = _snap(calm=(0.0021, 0.001), page=(0.0150, 0.0070), warn=(0.0070, 0.0065),
                 lenient=(0.0021, 0.0021), blind=(None, None))
    cells = {r.name: r.cells[BURN] for r in rows_from_snapshot(snap, slo=fleet_burn(cfg))}
    assert cells["calm"] == ("2.10x", Level.OK)      # 0.0021 / (1 - 0.999)
    assert cells["page"] == ("15.0x", Level.BAD)     # >= 14.4 over 1h, 7x >= 6 over 6h
    assert cells["warn"] == ("7.00x", Level.WARN)    # 6.5x >= 6 over 6h
    assert cells["lenient"] == ("0.21x", Level.OK)   # 0.0021 / (1 - 0.99)
    assert cells["blind"] == ("—", Level.UNKNOWN)
    # without a rule (no SLO config) the column is missing, never 0
    assert {r.cells[BURN] for r in rows_from_snapshot(snap)} == {("—", Level.UNKNOWN)}


def test_layout_drops_columns_by_width():
    keys = [c for c, _, _ in COLUMNS]
    full, widths = layout(200)
    assert len(full) == len(COLUMNS) and widths[0] > NAME_MIN
    for width in (40, 60, 76, 78, 100, 120):
        shown, widths = layout(width)
        names = {keys[i] for i in shown}
        assert {"name", "status", "err", "burn"} <= names
        assert sum(widths) + SEP * len(widths) <= width or len(names) == 4
        assert widths[0] >= NAME_MIN
    assert {keys[i] for i in layout(78)[0]} >= {"traffic", "rps", "p95", "drift"}


async def test_fleet_table_shows_burn_at_80x24():
    backends = demo_backends()
    app = make_app(load_settings(refresh=3600, demo={"enabled": True}), backends)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_loaded(pilot)
        table = app.fleet_screen.query_one("ModelTable")
        # no horizontal scrolling once the rows (and the vertical scrollbar) are in
        await wait_for(pilot, lambda: table.virtual_size.width
                       <= table.scrollable_content_region.width)
        assert "burn" in table.visible_columns
        assert {"traffic", "rps", "p95"} <= set(table.visible_columns)
        svc = next(s for s in backends.cluster.read().services if s.name == "recommender")
        h = backends.metrics.read((), 300, FROZEN).health["recommender"]
        assert table.get_cell(svc.key, "burn") == f"{h.error_ratio_1h / 0.001:.2f}x"
        line = table.render_line(1 + table.get_row_index(svc.key)).text
        assert f"{h.error_ratio_1h / 0.001:.2f}x" in line and "CANARY" in line


def test_once_report_has_the_burn_column():
    backends = demo_backends()
    from console.cli.report import take_snapshot

    text = render_text(take_snapshot(backends), SloConfig())
    header = next(line for line in text.splitlines() if line.startswith("Model"))
    assert "Burn" in header.split()
    h = backends.metrics.read((), 300, FROZEN).health["recommender"]
    row = next(line for line in text.splitlines() if line.startswith("recommender"))
    assert f"{h.error_ratio_1h / 0.001:.2f}x" in row.split()
