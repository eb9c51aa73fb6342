"""A source that answered while part of it failed (one context of several): the header says
"partial" with the reason, the data stays, and --once reports it."""

from __future__ import annotations

from rich.text import Text

from backends.domain.models import SourceStatus
from console.app import make_app
from console.controllers.polling import partial_failure
from tests.console.conftest import FROZEN, wait_for
from tests.console.fakes import FakeCluster
from widgets.badges import SourceBadge
from widgets.levels import Level, source_label


class TwoContexts(FakeCluster):
    """Reads prod-eu; prod-us failing (as KubernetesFleet reports it in ``errors``)."""

    clusters = {"prod-eu": None, "prod-us": None}

    def __init__(self) -> None:
        super().__init__()
        self.errors: dict[str, str] = {}


def test_partial_failure_names_the_failing_contexts():
    backend = TwoContexts()
    assert partial_failure(backend) is None
    backend.errors = {"prod-us": "cannot reach the Kubernetes API [b]x[/b]"}
    text = partial_failure(backend)
    assert text.startswith("1 of 2 contexts failing, last good data shown: prod-us: cannot reach")
    assert partial_failure(object()) is None  # a backend without ``errors``


def test_badge_says_partial_with_the_reason():
    status = SourceStatus(name="cluster", ok=True, last_success=FROZEN, error="prod-us: down")
    assert source_label(status, FROZEN) == ("cluster  0s partial", Level.WARN)
    assert source_label(status.model_copy(update={"error": None}), FROZEN)[1] is Level.OK


async def test_header_shows_the_partial_cluster_and_keeps_the_models(settings, fakes):
    _, metrics, backends = fakes
    cluster = TwoContexts()
    backends = backends.__class__(cluster=cluster, metrics=metrics, clock=backends.clock)
    app = make_app(settings, backends)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: app.state.cluster is not None)
        badge = app.fleet_screen.query_one("#src-0", SourceBadge)
        assert badge.source == "cluster" and badge.has_class("-ok")
        cluster.errors = {"prod-us": "cannot reach the Kubernetes API [b]x[/b]"}
        app.poller.poll("cluster")
        await wait_for(pilot, lambda: badge.has_class("-warn"))
        assert "partial" in str(badge.render())
        assert isinstance(badge.tooltip, Text) and "prod-us: cannot reach" in badge.tooltip.plain
        assert "[b]x[/b]" in badge.tooltip.plain  # literal, never markup
        assert app.fleet_screen.query_one("#models").row_count == len(cluster.svcs)
        cluster.errors = {}
        app.poller.poll("cluster")
        await wait_for(pilot, lambda: badge.has_class("-ok"))
        assert badge.tooltip is None
