"""Messages from the pollers (thread workers) to the UI. Payloads are immutable."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from textual.message import Message

from backends.domain.models import Series
from console.controllers.state import Backends, SourcePart

if TYPE_CHECKING:
    from console.presenters.prepare import Prepared
    from widgets.alert_data import PreparedAlerts


class SourceUpdated(Message, bubble=False):
    """A source produced a fresh part (ClusterPart, MetricsPart or alerts tuple)."""

    def __init__(self, source: str, part: SourcePart, at: datetime,
                 prepared: Prepared | PreparedAlerts | None = None,
                 problem: str | None = None) -> None:
        super().__init__()
        self.source = source
        self.part = part
        self.at = at
        # display data made in the poller (console.presenters.prepare; alerts: sorted and
        # formatted, widgets.alert_data)
        self.prepared = prepared
        self.problem = problem  # part of the source failed (e.g. one context of several)

    def can_replace(self, message: Message) -> bool:
        """A newer update of the same source supersedes a queued one."""
        return isinstance(message, SourceUpdated) and message.source == self.source


class ChartUpdated(Message, bubble=False):
    """Range series for one model's chart."""

    def __init__(self, model: str, window: str, series: tuple[Series, ...],
                 drawn: tuple | None = None, key: str | None = None) -> None:
        super().__init__()
        self.model = model
        self.window = window
        self.series = series
        self.drawn = drawn  # (key, figure) drawn in the same worker, if it was asked to
        self.key = key  # the service's key when the series are one service's

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ChartUpdated)


class ViewData(Message, bubble=False):
    """Result of one :meth:`console.controllers.navigation.Navigator.fetch`, posted to the
    screen that asked (``error`` set when it failed)."""

    def __init__(self, tag: str, serial: int, result: object, error: str | None = None,
                 points: int = 0) -> None:
        super().__init__()
        self.tag, self.serial, self.result, self.error, self.points = tag, serial, result, error, points


class BackendsReady(Message, bubble=False):
    """The backends were constructed (off the event loop)."""

    def __init__(self, backends: Backends) -> None:
        super().__init__()
        self.backends = backends
