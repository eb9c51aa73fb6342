"""Why a model's figure is "—": one pure function the model detail and ``--once`` share.

A figure the metrics backend left out carries its reason in ``HealthSample.reasons``
('tgi does not expose TTFT', 'histogram has no +Inf bucket', ...). A model with no
sample at all gets one reason for every figure: no metrics source, the source failed,
its series cannot be told apart from a same-named model's, or no series matched it.
"""

from __future__ import annotations

from backends.domain.models import FleetSnapshot, HealthSample, ModelService

FIGURE_FIELDS = ("rps", "error_ratio", "p50_ms", "p95_ms", "p99_ms", "ttft_p95_ms",
                 "itl_p95_ms", "tokens_per_s", "prompt_tokens_per_s", "queue_depth",
                 "kv_cache_percent", "running_requests", "error_ratio_1h", "error_ratio_6h")
"""The ``HealthSample`` figures a model is shown with (the engine-specific extras, shown
only when read, are not listed)."""


def missing_reason(snapshot: FleetSnapshot, service: ModelService) -> str | None:
    """Why ``service`` has no health sample at all; None when it has one."""
    if snapshot.health_of(service) is not None:
        return None
    metrics = snapshot.sources.get("metrics")
    if metrics is None:
        return "no metrics source"
    if not metrics.ok and metrics.last_success is None:
        return f"metrics source failed: {metrics.error or 'no answer'}"
    twin = snapshot.metrics_twin(service)
    if twin is not None:
        return f"metrics not told apart from {twin.key}"
    return "no series matched this model"


def figure_reasons(snapshot: FleetSnapshot, service: ModelService) -> dict[str, str]:
    """Figure (``HealthSample`` field) -> why it is "—", for each figure of ``service``
    that is; empty when every figure has a value."""
    health: HealthSample | None = snapshot.health_of(service)
    if health is None:
        why = missing_reason(snapshot, service) or "no figures"
        return {name: why for name in FIGURE_FIELDS}
    return {name: why for name, why in health.reasons.items()
            if getattr(health, name, None) is None}
