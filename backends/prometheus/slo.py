"""Fleet-wide SLO error ratios (1h and 6h) in one instant query per serving profile.

Each serving profile's own ``requests`` and ``errors`` templates are rendered with a 1h and
a 6h ``$window`` and tagged with a ``pitboard_slo`` label, all four joined with ``or``::

    label_replace(<requests[3600s]>, "pitboard_slo", "r3600", "", "")
      or label_replace(<errors[3600s]>, "pitboard_slo", "e3600", "", "") or ...

so the query count stays constant whatever the fleet size (one extra query per active
serving profile), and a user's override of ``requests``/``errors`` applies here too. The
ratio of two rates over the same window equals the ratio of the increases
(``sum increase(errors[1h]) / sum increase(requests[1h])``). Pure functions, no I/O.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from backends.domain.models import HealthSample
from backends.prometheus.assemble import ModelJoiner, apply_model_regex
from backends.prometheus.client import Sample
from backends.prometheus.calc import NAMESPACE_LABELS, duration, first_label
from backends.prometheus.profiles import MetricProfile, render

SLO_KEY = "slo"
"""Query key of the combined SLO query in a serving profile's plan."""
SLO_LABEL = "pitboard_slo"
SLO_WINDOWS_S = (3600, 6 * 3600)
"""The burn-rate windows (same as ``backends.domain.slo.BURN_WINDOWS_S``): 1h and 6h."""


def slo_query(profile: MetricProfile, windows: Iterable[int] = SLO_WINDOWS_S) -> str | None:
    """The combined query of one serving profile; None when it has no ``requests``."""
    req = profile.queries.get("requests")
    if profile.kind != "serving" or not req or not profile.model_label:
        return None
    err = profile.queries.get("errors")
    parts = []
    for w in windows:
        for tag, template in (("r", req), ("e", err)):
            if template:
                q = render(template, profile, window=duration(w))
                parts.append(f'label_replace({q}, "{SLO_LABEL}", "{tag}{w}", "", "")')
    return " or ".join(parts)


def slo_ratios(samples: Sequence[Sample], profile: MetricProfile, joiner: ModelJoiner,
               windows: Sequence[int] = SLO_WINDOWS_S) -> dict[str, tuple[float | None, ...]]:
    """Model name -> error ratio per window (0..1; None = no traffic or no error query).

    Requests and errors are summed over the model's namespaces and revisions. Like the
    instant figures, a profile whose ``errors`` query returns no series for a model with
    traffic reports 0 (the errors query selects a subset of the requests)."""
    sums: dict[tuple[str, str], float] = defaultdict(float)
    names: set[str] = set()
    for s in samples:
        tag = s.labels.get(SLO_LABEL, "")
        raw = s.labels.get(profile.model_label or "")
        if not raw or not tag or s.value is None:
            continue
        name = joiner.resolve(apply_model_regex(profile, raw),
                              first_label(s.labels, profile.namespace_labels or NAMESPACE_LABELS))
        names.add(name)
        sums[(name, tag)] += s.value
    has_errors = "errors" in profile.queries
    zero = None if profile.errors_need_series else 0.0  # no errors series: unknown or 0
    out: dict[str, tuple[float | None, ...]] = {}
    for name in names:
        ratios: list[float | None] = []
        for w in windows:
            req = sums.get((name, f"r{w}"))
            err = sums.get((name, f"e{w}"), zero)
            if not req or req <= 0 or not has_errors or err is None:
                ratios.append(None)
            else:
                ratios.append(min(1.0, err / req))
        out[name] = tuple(ratios)
    return out


def apply_slo(health: dict[str, HealthSample],
              per_profile: Iterable[Mapping[str, tuple[float | None, ...]]]) -> None:
    """Set ``error_ratio_1h``/``_6h`` on the models of ``health`` (in place; earlier
    profiles win, like the instant figures). Models without instant health are left out."""
    for ratios in per_profile:
        for name, (e1, e6) in ratios.items():
            h = health.get(name)
            if h is None:
                continue
            patch = {}
            # a figure with a reason (two engines claim the model) stays "—"
            if h.error_ratio_1h is None and e1 is not None and "error_ratio_1h" not in h.reasons:
                patch["error_ratio_1h"] = e1
            if h.error_ratio_6h is None and e6 is not None and "error_ratio_6h" not in h.reasons:
                patch["error_ratio_6h"] = e6
            if patch:
                health[name] = h.model_copy(update=patch)
