"""Pure helpers for the Prometheus backend: quantiles from buckets, labels, steps."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping

NODE_LABELS = ("Hostname", "hostname", "kubernetes_node", "node", "instance")
# Paired by position: the namespace label that goes with each pod label.
POD_LABELS = ("exported_pod", "pod", "pod_name")
NAMESPACE_LABELS = ("exported_namespace", "namespace", "pod_namespace")
CONTAINER_LABELS = ("exported_container", "container", "container_name")
UUID_LABELS = ("UUID", "gpu_uuid", "uuid")

_NICE_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400)


def first_label(labels: Mapping[str, str], names: Iterable[str]) -> str | None:
    """The value of the first of ``names`` present and non-empty in ``labels``."""
    for name in names:
        value = labels.get(name)
        if value:
            return value
    return None


def bucket_quantile(q: float, buckets: Iterable[tuple[float, float]]) -> float | None:
    """Prometheus' ``histogram_quantile`` on (upper bound, cumulative rate) pairs.

    Same algorithm as Prometheus 2.x ``bucketQuantile`` (linear interpolation inside the
    bucket, the +Inf bucket returns the highest finite bound, monotonicity enforced).
    None where Prometheus returns NaN (no +Inf bucket, fewer than two buckets, no data).
    """
    pairs = sorted((float(ub), float(c)) for ub, c in buckets
                   if c is not None and not math.isnan(c))
    if len(pairs) < 2 or not math.isinf(pairs[-1][0]) or pairs[-1][0] < 0:
        return None
    if q < 0 or q > 1:
        return None
    # ensure monotonic cumulative counts (rates may be jittery)
    fixed: list[tuple[float, float]] = []
    top = -math.inf
    for ub, c in pairs:
        top = max(top, c)
        fixed.append((ub, top))
    observations = fixed[-1][1]
    if observations <= 0:
        return None
    rank = q * observations
    b = next(i for i, (_, c) in enumerate(fixed) if c >= rank)
    if b == len(fixed) - 1:
        return fixed[-2][0]
    if b == 0 and fixed[0][0] <= 0:
        return fixed[0][0]
    start, end, count = 0.0, fixed[b][0], fixed[b][1]
    if b > 0:
        start = fixed[b - 1][0]
        count -= fixed[b - 1][1]
        rank -= fixed[b - 1][1]
    if count <= 0:
        return start
    return start + (end - start) * (rank / count)


def quantile_reason(buckets: Iterable[tuple[float, float | None]]) -> str | None:
    """Why :func:`bucket_quantile` gives no figure for these (upper bound, rate) pairs,
    in the words shown beside the "—"; None when it gives one (or there is nothing to
    say beyond "no series")."""
    pairs = list(buckets)
    finite = [(ub, c) for ub, c in pairs if c is not None and not math.isnan(c)]
    if pairs and not finite:
        return "histogram buckets are NaN"
    if finite and not any(math.isinf(ub) and ub > 0 for ub, _ in finite):
        return "histogram has no +Inf bucket"
    if 0 < len(finite) < 2:
        return "histogram has fewer than two buckets"
    if finite and max(c for _, c in finite) <= 0:
        return "no requests in the window"
    return None


def parse_le(raw: str | None) -> float | None:
    """A bucket's ``le`` label -> float (``+Inf`` included); None when unparsable."""
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        return None


def promql_string(value: str) -> str:
    """A PromQL double-quoted string literal holding ``value`` verbatim."""
    return json.dumps(value, ensure_ascii=False)


def matcher(label: str, value: str) -> str:
    """``label="value"`` with the value escaped."""
    return f"{label}={promql_string(value)}"


def duration(seconds: float) -> str:
    """Seconds -> a PromQL duration (``300s``)."""
    return f"{max(1, int(round(seconds)))}s"


def chart_step(window_s: float, points: int = 120) -> int:
    """A 'nice' step giving about ``points`` points over ``window_s``."""
    raw = max(1.0, window_s / points)
    for step in _NICE_STEPS:
        if step >= raw:
            return step
    return _NICE_STEPS[-1]


def mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def highest(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return max(vals) if vals else None


def total(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) if vals else None


# go-dcgm pkg/dcgm/const.go: the values DCGM reports for "blank", "not found", "not
# supported" and "not permissioned". The INT64 ones (2^63 - 16 .. 2^63 - 13) all become
# 2^63 as a float64; FP64 blank is 2^47.
_INT64_BLANK_FLOAT = float(9223372036854775792)
_INT32_BLANKS = (2147483632.0, 2147483633.0, 2147483634.0, 2147483635.0)
_FP64_BLANKS = (140737488355328.0, 140737488355329.0, 140737488355330.0, 140737488355331.0)


def dcgm_value(value: float | None) -> float | None:
    """A dcgm-exporter sample as a figure: None for DCGM's blank sentinels (INT64, INT32,
    FP64), NaN and +-Inf, which are "no value", never a number to show."""
    if value is None or not math.isfinite(value):
        return None
    if value >= _INT64_BLANK_FLOAT or value in _INT32_BLANKS or value in _FP64_BLANKS:
        return None
    return value


def xid_step(lookback_s: int) -> int:
    """Step of the XID look-back subquery: about 360 samples, never finer than 60 s."""
    return max(60, int(lookback_s) // 360)


def xid_state(code: float | None, since: float | None, at_ts: float | None,
              window_s: float | None) -> tuple[int | None, float | None, bool]:
    """(last XID code, when it appeared, current?) from dcgm-exporter's sticky
    ``DCGM_FI_DEV_XID_ERRORS`` (0 = no XID) and the time its value last changed
    (``xid_since``; None = not within the look-back). An XID is current only while it
    appeared within the window ending at ``at_ts``: a GPU that once had one is not red
    for good."""
    if code is None or code <= 0 or not math.isfinite(code):
        return None, None, False
    last = int(code)
    if since is None or not math.isfinite(since):
        return last, None, False
    current = at_ts is not None and window_s is not None and since >= at_ts - window_s
    return last, since, bool(current)
