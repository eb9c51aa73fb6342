"""The demo fleet's alerts: derived from the simulated metrics at the clock's now, so an
alert fires exactly when the figure on screen crosses its rule (like Alertmanager would)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from backends.domain.sources import AlertsBackend
from backends.demo.catalog import NAMESPACE
from backends.demo.metrics import DemoMetrics
from backends.demo.sim import IDLE_UTIL_PERCENT
from backends.demo.state import DemoState
from backends.domain.models import Alert, fast_constructor
from backends.domain.gpus import idle_util_of

RUNBOOKS = "https://runbooks.example.com/ml"
CANARY_ERROR_RATIO = 0.02
MODEL_ERROR_RATIO = 0.02
GPU_HOT_C = 85.0
KV_CACHE_HIGH = 90.0
_new_alert = fast_constructor(Alert)  # trusted: made here of strings and a time (no schema)


def _alert(name: str, severity: str, starts: datetime, summary: str, state: str = "firing",
           **labels: str) -> Alert:
    model = labels.get("model")
    gpu = labels.get("UUID")
    return _new_alert(name=name, severity=severity, state=state, starts_at=starts,
                      summary=summary, runbook_url=f"{RUNBOOKS}/{name.lower()}", model=model,
                      gpu_uuid=gpu, labels={"alertname": name, "severity": severity,
                                            "namespace": NAMESPACE, **labels})


class DemoAlerts(AlertsBackend):
    """Active alerts of the demo fleet, newest rules first by severity."""

    label = "demo alerts"

    def __init__(self, state: DemoState, metrics: DemoMetrics,
                 clock: Callable[[], datetime]):
        self.state = state
        self.metrics = metrics
        self.clock = clock
        self._silences: dict[str, dict] = {}  # id -> the silence, as Alertmanager keeps it

    def create_silence(self, matchers: list[dict], starts: datetime, ends: datetime,
                       created_by: str, comment: str) -> str:
        """A silence as Alertmanager would hold it; the alerts it matches show as
        suppressed until ``ends``."""
        silence_id = f"demo-{len(self._silences) + 1:04d}"
        self._silences[silence_id] = {"id": silence_id, "matchers": matchers,
                                      "startsAt": starts.isoformat(),
                                      "endsAt": ends.isoformat(), "createdBy": created_by,
                                      "comment": comment, "_ends": ends}
        return silence_id

    def silence(self, silence_id: str) -> dict:
        doc = dict(self._silences[silence_id])
        ends = doc.pop("_ends")
        doc["status"] = {"state": "active" if self.clock() < ends else "expired"}
        return doc

    def _silenced(self, alert: Alert, now: datetime) -> bool:
        from backends.actions.silence import _matches  # noqa: PLC0415 - rare, and pure

        return any(now < s["_ends"] and _matches(alert, s["matchers"])
                   for s in self._silences.values())

    def alerts(self) -> tuple[Alert, ...]:
        """Alerts firing at the clock's now (critical first, then warning, then info)."""
        now = self.clock()
        part = self.metrics.read((), 300, at=now)
        anchor = datetime.fromtimestamp(self.state.catalog.anchor_ts, tz=now.tzinfo)
        out: list[Alert] = []
        for g in part.gpus:
            labels = dict(UUID=g.uuid or "", gpu=str(g.index), Hostname=g.node,
                          modelName=g.model_name or "")
            if g.model:
                labels["model"] = g.model
            if g.xid_current:
                out.append(_alert("GpuXidError", "critical", anchor - timedelta(minutes=37),
                                  f"XID {g.last_xid} (GPU fell off the bus) on {g.node} GPU "
                                  f"{g.index}, running at {g.temperature_c:.0f}C; cordon and "
                                  "drain the node", **labels))
            if g.temperature_c is not None and g.temperature_c >= GPU_HOT_C:
                out.append(_alert("GpuTemperatureHigh", "warning",
                                  anchor - timedelta(minutes=52),
                                  f"{g.node} GPU {g.index} at {g.temperature_c:.0f}C "
                                  f"(> {GPU_HOT_C:.0f}C for 10m)", **labels))
        for st in self.state.services:
            name = st.spec.name
            whole = part.health.get(name)
            legs = part.revision_health.get(name, ())
            stable = legs[0] if len(legs) > 1 else None
            for h in legs[1:]:
                if (h.error_ratio is not None and h.error_ratio > CANARY_ERROR_RATIO
                        and st.canary_percent):
                    base = stable.error_ratio if stable and stable.error_ratio else None
                    vs = f" vs stable {base:.2%}" if base is not None else ""
                    since = datetime.fromtimestamp(st.canary_since or now.timestamp(),
                                                   tz=now.tzinfo)
                    out.append(_alert("CanaryErrorRateHigh", "warning", since,
                                      f"{name} canary {h.revision} errors "
                                      f"{h.error_ratio:.2%}{vs}", model=name,
                                      revision=h.revision or ""))
            if (whole is not None and whole.error_ratio is not None
                    and whole.error_ratio > MODEL_ERROR_RATIO):
                out.append(_alert("ModelErrorRateHigh", "critical", now - timedelta(minutes=5),
                                  f"{name} error ratio {whole.error_ratio:.2%} "
                                  f"(> {MODEL_ERROR_RATIO:.0%})", model=name))
            # a rule on vLLM's own gauge (vllm:kv_cache_usage_perc): other engines'
            # KV figures (SGLang's token_usage, Ray Serve's ray_vllm_ names) are not its
            if (whole is not None and whole.kv_cache_percent is not None
                    and whole.engine in (None, "vllm")
                    and whole.kv_cache_percent > KV_CACHE_HIGH):
                out.append(_alert("VllmKvCacheHigh", "warning", now - timedelta(minutes=10),
                                  f"{name} KV cache {whole.kv_cache_percent:.0f}% used; "
                                  "requests will queue", model=name))
        for d in part.drift:
            if d.breached:
                first = next((p.at for p in d.points
                              if p.value is not None and p.value > d.threshold), now)
                out.append(_alert("FeatureDriftHigh", "warning", first,
                                  f"{d.model} feature {d.feature} PSI {d.latest:.3f} "
                                  f"> {d.threshold:g}", model=d.model, feature=d.feature))
        idle: dict[str, list[float]] = {}
        for g in part.gpus:
            if g.model is not None:
                idle.setdefault(g.model, []).append(
                    # a MIG GPU: its busiest instance (no whole-GPU utilisation under MIG)
                    (g.hourly_cost or 0.0) if (idle_util_of(g) or 0) < IDLE_UTIL_PERCENT
                    else -1.0)
        for model, costs in idle.items():
            if costs and all(c >= 0 for c in costs):
                out.append(_alert("GpuAllocatedIdle", "info", anchor - timedelta(hours=6),
                                  f"{model} holds {len(costs)} GPU(s) under "
                                  f"{IDLE_UTIL_PERCENT:.0f}% util for 6h "
                                  f"(${sum(costs):.2f}/h)", model=model))
        out.extend(self._housekeeping(part, anchor))
        if self._silences:
            out = [a.model_copy(update={"state": "suppressed"}) if self._silenced(a, now)
                   else a for a in out]
        rank = {"critical": 0, "warning": 1, "info": 2}
        out.sort(key=lambda a: (rank.get(a.severity or "", 3), a.name, a.model or ""))
        return tuple(out)

    def _housekeeping(self, part, anchor: datetime) -> list[Alert]:
        """Alerts an on-call engineer also sees that no model figure drives: a paused
        rollout whose alert its team silenced (Alertmanager's ``suppressed``), and ECC
        errors on a GPU that no workload holds (joined to a GPU, not to a model)."""
        out: list[Alert] = []
        for st in self.state.services:
            if st.paused:
                name = st.spec.name
                out.append(_alert("KubeDeploymentRolloutStuck", "warning",
                                  anchor - timedelta(hours=3, minutes=12),
                                  f"{NAMESPACE}/{name} rollout is paused and not progressing "
                                  "(silenced by its team during the release freeze)",
                                  state="suppressed", model=name, deployment=name))
                break
        free = next((g for g in part.gpus if g.model is None and g.pod is None), None)
        if free is not None:
            out.append(_alert("GpuEccSingleBitErrors", "warning",
                              anchor - timedelta(hours=2, minutes=10),
                              f"{free.node} GPU {free.index}: volatile single-bit ECC errors "
                              "above 100 in 1h; no workload on it, reset before scheduling",
                              UUID=free.uuid or "", gpu=str(free.index), Hostname=free.node,
                              modelName=free.model_name or ""))
        return out
