"""For the benchmark: the real sources ``pitboard`` starts against in ``first_frame.real``.

The suite's own real parts, started as its fixtures start them: the test Kubernetes API
server (``tests/kube``, loaded with ``fixtures/ml-fleet.yaml``), a real Prometheus
(Debian's) holding the last hour of that fleet's figures in an incident, up to two
minutes ago (``tests.prometheus.fleets.incident_fleet``: its canary gone bad, a GPU with
an XID, a slow LLM, a drifting feature; backfilled with ``promtool tsdb
create-blocks-from openmetrics``), and a real Alertmanager (Debian's
``prometheus-alertmanager``). The console is
started with flags, as ``pitboard --kubeconfig K --prometheus URL --alertmanager URL``:
what an on-call engineer waits for on a real cluster (the clients' imports, the settings,
the first LIST and WATCH of every kind, the first queries), next to the demo's frame.
Needs the repository's ``tests`` package and the three binaries; says what is missing
otherwise."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

BINARIES = ("prometheus", "promtool", "prometheus-alertmanager")
HISTORY_END_AGO_S = 120
"""The history ends this long before the runs start: inside Prometheus' five-minute
lookback, so the first frame shows the fleet's figures, not dashes."""


def missing() -> str | None:
    """Why the real sources cannot be started here, or None."""
    absent = [b for b in BINARIES if shutil.which(b) is None]
    if absent:
        return f"not installed: {', '.join(absent)} (make system-deps)"
    try:
        import tests.kube.apiserver  # noqa: F401, PLC0415 - the suite's own parts
    except ImportError as exc:
        return f"the repository's tests package is needed ({exc})"
    return None


class RealSources:
    """The running sources: the console's ``flags``, and :meth:`latency`."""

    def __init__(self, flags: list[str], api: object) -> None:
        self.flags = flags
        self._api = api
        self._delay: object | None = None

    def latency(self, seconds: float) -> None:
        """Every answer of the test API server delayed by ``seconds`` from now on (a
        round trip over a VPN to a remote cluster; 0: none). Prometheus and Alertmanager
        answer as fast as they do."""
        api: Any = self._api
        if self._delay is not None:
            api.remove_injection(self._delay)
            self._delay = None
        if seconds > 0:
            self._delay = api.inject("GET", ".*", None, times=None, delay_s=seconds)


@contextmanager
def real_sources() -> Iterator[RealSources]:
    """The three real sources, up until the block ends."""
    from tests.alertmanager.conftest import AlertmanagerServer  # noqa: PLC0415
    from tests.kube.apiserver import ApiServer  # noqa: PLC0415
    from tests.kube.conftest import ML_FLEET  # noqa: PLC0415
    from tests.prometheus.conftest import start_server  # noqa: PLC0415
    from tests.prometheus.fleets import incident_fleet  # noqa: PLC0415
    from tests.prometheus.generators import time_grid  # noqa: PLC0415

    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pitboard-real-")))
        api = ApiServer(work / "apiserver")
        api.load_yaml(ML_FLEET)
        api.start()
        stack.callback(api.stop)
        history = time_grid(int(time.time()) - HISTORY_END_AGO_S, 3600)
        prom = start_server(work / "prometheus", incident_fleet(history))
        stack.callback(prom.stop)
        (work / "alertmanager").mkdir()
        am = AlertmanagerServer(work / "alertmanager")
        am.start()
        stack.callback(am.stop)
        yield RealSources(["--kubeconfig", str(api.kubeconfig), "--prometheus", prom.url,
                           "--alertmanager", am.url], api)
