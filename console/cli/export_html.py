"""``pitboard export --incident N --format html [-o FILE]``: the postmortem with charts.

The report comes from the audit store (opened read-only, like every reader); the charts
from the metrics source of the settings and flags (``--demo``, ``--prometheus URL``, the
config file): for each model the incident involves (the services acted on, the alerts'
and the notes' models), error ratio, p95 and requests/s over the impact window (padded),
and the mean utilisation of the GPUs it held at the window's end. Without a metrics source
the file still has the timeline, and says why there are no charts. The file is written
with mode 0600 (never through a symbolic link): a postmortem draft may carry what the notes
said.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from backends.actions.identity import printable
from backends.domain.errors import BackendError, ConfigError
from backends.domain.models import ModelService, Point, Series
from backends.domain.sources import MetricsBackend
from console.config_core import ConfigProblem

MAX_MODELS = 6
MAX_GPUS = 8
MIN_PAD_S = 300
EXIT_FAILED, EXIT_BAD_INPUT = 1, 2


def involved_models(report: dict[str, Any]) -> list[str]:
    """Model names the incident involves, first seen first: services acted on, alerts'
    models, the model each note was taken on (at most MAX_MODELS)."""
    names: list[str] = []
    for key in report["summary"]["services"]:
        parts = ModelService.parse_key(key)
        names.append(parts[3] if parts else key.rsplit("/", 1)[-1])
    names += [str(a["model"]) for a in report["alerts"] if a.get("model")]
    for note in report["notes"]:
        model = note["figures"].get("model") if isinstance(note["figures"], dict) else None
        if isinstance(model, dict) and isinstance(model.get("name"), str):
            names.append(model["name"])
    return list(dict.fromkeys(n for n in names if n))[:MAX_MODELS]


def chart_window(report: dict[str, Any]) -> tuple[datetime, datetime]:
    """The impact window padded by a tenth of its length (at least five minutes) on each
    side, so what led to it and what followed show too."""
    from backends.audit.chain import parse_utc  # noqa: PLC0415

    win = report["impact_window"]
    start, end = parse_utc(win["start"]), parse_utc(win["end"])
    pad = timedelta(seconds=max(MIN_PAD_S, (end - start).total_seconds() / 10))
    return start - pad, end + pad


def mean_series(name: str, series: Sequence[Series]) -> Series:
    """Pointwise mean of ``series`` (same instants; missing values skipped)."""
    sums: dict[datetime, list[float]] = {}
    for s in series:
        for p in s.points:
            if p.value is not None:
                sums.setdefault(p.at, []).append(p.value)
    return Series(name=name, points=tuple(Point(at=at, value=sum(v) / len(v))
                                          for at, v in sorted(sums.items())))


def gpu_util(metrics: MetricsBackend, model: str, window_s: int, end: datetime
             ) -> Series | None:
    """Mean utilisation of the GPUs ``model`` held at ``end``, None when unknown."""
    chart = getattr(metrics, "gpu_chart", None)
    if not callable(chart):
        return None
    gpus = [g for g in metrics.read((), 300, end).gpus if g.model == model][:MAX_GPUS]
    utils = [s for g in gpus for s in chart(g.node, g.index, window_s, end, uuid=g.uuid,
                                            cluster=g.cluster)
             if s.name == "util %"]
    return mean_series("util %", utils) if utils else None


def model_series(metrics: MetricsBackend, model: str, start: datetime, end: datetime
                 ) -> list[Series]:
    """error %, p95 ms, rps (and util %) of ``model`` over ``[start, end]``."""
    window_s = int((end - start).total_seconds())
    series = list(metrics.chart(model, window_s, end))
    util = gpu_util(metrics, model, window_s, end)
    return series + ([util] if util is not None else [])


def metrics_source(args: argparse.Namespace) -> tuple[MetricsBackend | None, str]:
    """The metrics backend of the settings and flags, and a sentence naming it (or why
    there is none)."""
    from console.cli.main import settings_from_args  # noqa: PLC0415 - avoid a cycle

    settings = settings_from_args(args)
    if settings.demo.enabled:
        from console.wiring import build_demo  # noqa: PLC0415

        return build_demo(settings).metrics, "Figures from the demo fleet's simulated metrics."
    if settings.prometheus.url:
        from backends.prometheus.backend import PrometheusMetrics  # noqa: PLC0415

        return (PrometheusMetrics(settings.prometheus),
                f"Figures from Prometheus at {settings.prometheus.url}.")
    return None, ("No metrics source is configured (--prometheus URL, or [prometheus] url "
                  "in the config): no charts.")


def charts_for(report: dict[str, Any], metrics: MetricsBackend | None
               ) -> tuple[list[Any], list[str]]:
    """(ChartBlocks, problems) for the models the incident involves."""
    from backends.audit.export_charts import model_chart_svg  # noqa: PLC0415
    from backends.audit.export_html import ChartBlock, marks_of  # noqa: PLC0415

    if metrics is None:
        return [], []
    start, end = chart_window(report)
    marks = marks_of(report)
    blocks, problems = [], []
    for model in involved_models(report):
        try:
            series = model_series(metrics, model, start, end)
        except BackendError as exc:
            problems.append(f"{model}: {exc}")
            continue
        own = [m for m in marks if m.model in (None, model)]
        blocks.append(ChartBlock(model, model_chart_svg(
            model, series, start, end, own, salt=f"incident-{report['incident']['id']}"),
            f"{start:%H:%M}–{end:%H:%M} UTC"))
    return blocks, problems


def write_private(path: str, text: str) -> None:
    """Write ``text`` to ``path`` with mode 0600 (an existing file is truncated and made
    0600; a symbolic link is refused)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fd = -1
            fh.write(text)
    finally:
        if fd >= 0:
            os.close(fd)


def cmd_export_html(args: argparse.Namespace, audit: Any) -> int:
    """Write the HTML postmortem of ``args.incident`` from ``audit`` (an open store)."""
    from backends.audit.export import build_report  # noqa: PLC0415
    from backends.audit.export_charts import ChartsUnavailable  # noqa: PLC0415
    from backends.audit.export_html import render_html  # noqa: PLC0415

    report = build_report(audit, args.incident)
    try:
        metrics, note = metrics_source(args)
    except (ConfigError, ConfigProblem, BackendError) as exc:
        metrics, note = None, f"The metrics source could not be used ({exc}): no charts."
    try:
        blocks, problems = charts_for(report, metrics)
    except ChartsUnavailable as exc:
        print(f"pitboard: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        if metrics is not None:
            metrics.close()
    if problems:
        note += " Not charted: " + "; ".join(problems) + "."
    text = render_html(report, blocks, charts_note=note)
    if args.output in (None, "-"):
        sys.stdout.write(text)
        return 0
    try:
        write_private(args.output, text)
    except OSError as exc:
        print(f"pitboard: cannot write {printable(args.output)}: {exc.strerror or exc}",
              file=sys.stderr)
        return EXIT_FAILED
    print(f"wrote {printable(args.output)} (html, incident {args.incident}, "
          f"{len(blocks)} charts)", file=sys.stderr)
    return 0
