"""For the benchmark: the real sources ``pitboard`` starts against in ``first_frame.real``.

The suite's own real parts, started as its fixtures start them: the test Kubernetes API
server (``tests/kube``, loaded with ``fixtures/ml-fleet.yaml``), a real Prometheus
(Debian's) holding the last hour of the suite's main fleet (``tests/prometheus``:
backfilled with ``promtool tsdb create-blocks-from openmetrics``) and scraping its live
exporter, and a real Alertmanager (Debian's ``prometheus-alertmanager``). The console is
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

BINARIES = ("prometheus", "promtool", "prometheus-alertmanager")


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


@contextmanager
def real_sources() -> Iterator[list[str]]:
    """The three real sources, up until the block ends; yields the console's flags."""
    from tests.alertmanager.conftest import AlertmanagerServer  # noqa: PLC0415
    from tests.kube.apiserver import ApiServer  # noqa: PLC0415
    from tests.kube.conftest import ML_FLEET  # noqa: PLC0415
    from tests.prometheus.conftest import Live, start_server  # noqa: PLC0415
    from tests.prometheus.fleets import main_fleet  # noqa: PLC0415
    from tests.prometheus.generators import time_grid  # noqa: PLC0415

    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pitboard-real-")))
        api = ApiServer(work / "apiserver")
        api.load_yaml(ML_FLEET)
        api.start()
        stack.callback(api.stop)
        live = Live()
        stack.callback(live.close)
        prom = start_server(work / "prometheus", main_fleet(time_grid(int(time.time()) - 900,
                                                                      3600)), live.port)
        stack.callback(prom.stop)
        (work / "alertmanager").mkdir()
        am = AlertmanagerServer(work / "alertmanager")
        am.start()
        stack.callback(am.stop)
        yield ["--kubeconfig", str(api.kubeconfig), "--prometheus", prom.url,
               "--alertmanager", am.url]
