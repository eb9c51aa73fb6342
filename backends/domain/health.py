"""The one health model: a model's status is its worst signal, with its reasons.

:func:`assess` is a pure function of the domain models (a service, the fleet snapshot, the
SLO config); the fleet table, the "what's wrong now" strip, the model detail, ``--once``
and the export all show what it returns, so every status is decided here and nowhere else.

Signals, each with its level (``bad`` > ``warn`` > ``info``) and a reason a person can act
on ("p95 6.4 s > SLO 800 ms"):

- replicas: none ready (bad, DOWN), fewer than desired (warn, DEGRADED);
- errors: error ratio >= 5 % bad, >= 1 % warn; SLO burn rate over the fast (1h, bad) or
  slow (6h, warn) threshold (ERRORS);
- canary: a canary leg with an error ratio of at least 1 % and at least twice stable's
  (:func:`canary_worse`; since when: :func:`canary_since`), or a p95 over the SLO while
  stable meets it (bad at >= 5 % errors, else warn; ERRORS or
  SLOW) -- what ``P`` warns about;
- latency: the SLO's latency quantile over its objective (bad, SLOW);
- saturation: KV cache >= 98 % bad, >= 90 % warn (OVERLOAD, a word that fits the 8-wide status column);
- GPUs the model holds: an XID new within the window (bad), >= 85 C (bad), >= 80 C
  (warn), memory >= 98 % (warn) (GPU);
- drift: a feature over its threshold (warn, DRIFT);
- rollout: paused (warn, PAUSED);
- alerts: a firing alert naming the model (critical/page: bad, else warn; ALERT);
- label: found without the model label (info; NO LABEL when nothing else is wrong): the
  reason names the config line that adopts it.

With none of these, the status says what is going on (CANARY, ROLLING) or OK; "?" only
when no signal exists at all, and ``why`` says which figures are missing.
:class:`Steady` holds a status until the new one has held for two refreshes, so
stationary data never flickers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from math import inf, isfinite

from backends.domain.figures import FIGURE_FIELDS
from backends.domain.models import (Alert, DriftSeries, FleetSnapshot, GpuDevice, Health,
                                    HealthLevel, HealthSample, ModelService, Point, Problem,
                                    Series)
from backends.domain.gpus import serves
from backends.domain.index import alerts_by_model, drift_by_model, gpus_by_model
from backends.domain.slo import burn_rate
from backends.domain.slo_config import SloConfig


ERROR_WARN, ERROR_BAD = 0.01, 0.05
KV_WARN, KV_BAD = 90.0, 98.0
TEMP_WARN_C, TEMP_BAD_C = 80.0, 85.0
MEMORY_WARN = 98.0
CANARY_FACTOR = 2.0
RANK: dict[str, int] = {"bad": 3, "warn": 2, "info": 1, "ok": 0, "unknown": 0}
# which word a model's worst problem shows, by signal
WORDS: dict[str, str] = {"errors": "ERRORS", "canary": "CANARY!", "latency": "SLOW",
                         "saturation": "OVERLOAD", "gpu": "GPU", "drift": "DRIFT",
                         "rollout": "PAUSED", "alert": "ALERT"}
# among problems of one level, the order a person should look at them
ORDER: tuple[str, ...] = ("replicas", "canary", "errors", "latency", "gpu", "saturation",
                          "drift", "rollout", "alert", "label")
"""A canary worse than stable comes before the blended errors it causes; drift past its
threshold (the model answering worse) before a paused rollout (most often a person's own
pause); an alert last, as the signal it is about (when pitboard sees it) names the problem
better."""


def finite(value: float | None) -> float | None:
    return value if value is not None and isfinite(value) else None


def crossed_at(points: Sequence[Point], threshold: float) -> datetime | None:
    """When the current run above ``threshold`` began (None when not above now)."""
    since: datetime | None = None
    above = False
    for p in points:
        v = finite(p.value)
        if v is None:
            continue
        if v > threshold and not above:
            since, above = p.at, True
        elif v <= threshold:
            since, above = None, False
    return since if above else None


def fmt_ms(ms: float) -> str:
    return f"{ms / 1000:.1f} s" if ms >= 1000 else f"{ms:.0f} ms"


def fmt_pct(ratio: float) -> str:
    return f"{ratio * 100:.1f} %"


# -- signals ------------------------------------------------------------------------------
def _replicas(s: ModelService) -> Iterable[Problem]:
    ready, desired = s.replicas_ready, s.replicas_desired
    if ready is None or not desired:
        return
    if ready == 0:
        yield Problem(signal="replicas", level="bad", text=f"0/{desired} replicas ready",
                      value=0, threshold=desired)
    elif ready < desired:
        yield Problem(signal="replicas", level="warn",
                      text=f"{ready}/{desired} replicas ready", value=ready, threshold=desired)


def _errors(s: ModelService, h: HealthSample | None, slo: SloConfig) -> Iterable[Problem]:
    if h is None:
        return
    err = finite(h.error_ratio)
    if err is not None and err >= ERROR_WARN:
        limit = ERROR_BAD if err >= ERROR_BAD else ERROR_WARN
        yield Problem(signal="errors", level="bad" if err >= ERROR_BAD else "warn",
                      text=f"errors {fmt_pct(err)} ≥ {fmt_pct(limit)}", value=err,
                      threshold=limit)
        return
    avail = slo.objective_for(s.name).availability
    b1, b6 = burn_rate(h.error_ratio_1h, avail), burn_rate(h.error_ratio_6h, avail)
    if b1 is not None and b1 >= slo.fast_burn:
        yield Problem(signal="errors", level="bad",
                      text=f"SLO burn {b1:.1f}x ≥ {slo.fast_burn:g}x (1h)", value=b1,
                      threshold=slo.fast_burn)
    elif b6 is not None and b6 >= slo.slow_burn:
        yield Problem(signal="errors", level="warn",
                      text=f"SLO burn {b6:.1f}x ≥ {slo.slow_burn:g}x (6h)", value=b6,
                      threshold=slo.slow_burn)


def _quantile(h: HealthSample | None, q: str) -> float | None:
    if h is None:
        return None
    return finite({"p50": h.p50_ms, "p95": h.p95_ms, "p99": h.p99_ms}.get(q))


def _latency(s: ModelService, h: HealthSample | None, slo: SloConfig) -> Iterable[Problem]:
    obj = slo.objective_for(s.name)
    value = _quantile(h, obj.latency_quantile)
    if obj.latency_ms is None or value is None or value <= obj.latency_ms:
        return
    yield Problem(signal="latency", level="bad",
                  text=f"{obj.latency_quantile} {fmt_ms(value)} > SLO {fmt_ms(obj.latency_ms)}",
                  value=value, threshold=obj.latency_ms)


def canary_worse(canary: float | None, stable: float | None) -> bool:
    """The canary's error ratio is worse than stable's: at least ``ERROR_WARN`` and at
    least ``CANARY_FACTOR`` times stable's (any, when stable's is unknown)."""
    return (canary is not None and canary >= ERROR_WARN
            and (stable is None or canary >= CANARY_FACTOR * stable))


def canary_revisions(s: ModelService) -> tuple[str | None, str | None]:
    """(canary, stable) revision names of ``s``'s traffic split."""
    canary = s.canary
    if canary is None:
        return None, None
    stable = next((t for t in s.traffic if t.role != "canary"), None)
    return canary.revision, stable.revision if stable else None


def canary_legs(s: ModelService, legs: Sequence[HealthSample]
                ) -> tuple[HealthSample | None, HealthSample | None]:
    """(canary, stable) samples of ``s``'s traffic legs, by revision name."""
    canary, stable = canary_revisions(s)
    if canary is None:
        return None, None
    by_rev = {h.revision: h for h in legs}
    return by_rev.get(canary), by_rev.get(stable) if stable else None


def _canary(s: ModelService, legs: Sequence[HealthSample], slo: SloConfig
            ) -> Iterable[Problem]:
    c, st = canary_legs(s, legs)
    if c is None:
        return
    name = s.canary.revision if s.canary else None
    ce, se = finite(c.error_ratio), finite(st.error_ratio) if st else None
    if canary_worse(ce, se) and ce is not None:
        versus = f" vs stable {fmt_pct(se)}" if se is not None else ""
        yield Problem(signal="canary", level="bad" if ce >= ERROR_BAD else "warn",
                      text=f"canary errors {fmt_pct(ce)}{versus}", value=ce, threshold=se,
                      target=name)
    obj = slo.objective_for(s.name)
    cq, sq = _quantile(c, obj.latency_quantile), _quantile(st, obj.latency_quantile)
    if (obj.latency_ms is not None and cq is not None and cq > obj.latency_ms
            and (sq is None or sq <= obj.latency_ms)):
        yield Problem(signal="canary", level="warn",
                      text=f"canary {obj.latency_quantile} {fmt_ms(cq)} > SLO "
                           f"{fmt_ms(obj.latency_ms)}", value=cq, threshold=obj.latency_ms,
                      target=name)


def _saturation(h: HealthSample | None) -> Iterable[Problem]:
    kv = finite(h.kv_cache_percent) if h else None
    if kv is not None and kv >= KV_WARN:
        limit = KV_BAD if kv >= KV_BAD else KV_WARN
        yield Problem(signal="saturation", level="bad" if kv >= KV_BAD else "warn",
                      text=f"KV cache {kv:.0f} % ≥ {limit:g} %", value=kv, threshold=limit)


def gpus_of(s: ModelService, gpus: Iterable[GpuDevice]) -> list[GpuDevice]:
    """The GPUs ``s`` holds: its model name, and its context when the GPU knows it."""
    return [g for g in gpus_by_model(tuple(gpus) if not isinstance(gpus, (tuple, list))
                                     else gpus).get(s.name, ())
            if (g.cluster is None or g.cluster == s.cluster) and serves(g, s.name, s.namespace)]


def gpu_label(g: GpuDevice) -> str:
    return f"{g.node}/{g.index}"


def _gpus(s: ModelService, gpus: Sequence[GpuDevice]) -> Iterable[Problem]:
    for g in gpus:
        where = gpu_label(g)
        if g.last_xid is not None and g.xid_current:
            yield Problem(signal="gpu", level="bad", text=f"XID {g.last_xid} on GPU {where}",
                          value=g.last_xid, since=g.xid_at, target=where, first=True)
        temp = finite(g.temperature_c)
        if temp is not None and temp >= TEMP_WARN_C:
            limit = TEMP_BAD_C if temp >= TEMP_BAD_C else TEMP_WARN_C
            yield Problem(signal="gpu", level="bad" if temp >= TEMP_BAD_C else "warn",
                          text=f"GPU {where} at {temp:.0f} °C ≥ {limit:g} °C", value=temp,
                          threshold=limit, target=where)
        mem = finite(g.memory_percent)
        if mem is not None and mem >= MEMORY_WARN:
            yield Problem(signal="gpu", level="warn",
                          text=f"GPU {where} memory {mem:.0f} % ≥ {MEMORY_WARN:g} %", value=mem,
                          threshold=MEMORY_WARN, target=where)


def _drift(drift: Sequence[DriftSeries]) -> Iterable[Problem]:
    for d in drift:
        latest = finite(d.latest)
        if latest is None or d.threshold <= 0 or latest <= d.threshold:
            continue
        yield Problem(signal="drift", level="warn",
                      text=f"{d.feature} drift {d.method} {latest:.2f} > {d.threshold:g}",
                      value=latest, threshold=d.threshold, since=crossed_at(d.points, d.threshold),
                      target=d.feature)


def _alerts(s: ModelService, alerts: Iterable[Alert]) -> Iterable[Problem]:
    mine = alerts_by_model(alerts).get(s.name, ()) if isinstance(alerts, (tuple, list)) \
        else alerts
    for a in mine:
        if a.state != "firing" or a.model != s.name:
            continue
        sev = (a.severity or "").lower()
        name = a.name or a.labels.get("alertname") or "alert"
        level: HealthLevel = ("bad" if sev in ("critical", "page") else
                        "warn" if sev in ("warning", "warn", "high") else "info")
        yield Problem(signal="alert", level=level,
                      text=f"alert {name} firing", since=a.starts_at)


def _key(p: Problem) -> tuple[int, int, bool, float]:
    return (-RANK[p.level], ORDER.index(p.signal), not p.first, -(p.value or 0.0))


def assess(s: ModelService, snap: FleetSnapshot, slo: SloConfig) -> Health:
    """The health of ``s`` in ``snap`` (its own figures only: :meth:`FleetSnapshot.health_of`)."""
    h = snap.health_of(s)
    legs = snap.revision_health_of(s)
    drift = drift_by_model(snap.drift).get(s.name, [])
    gpus = gpus_of(s, snap.gpus)
    canary = list(_canary(s, legs, slo))
    # a canary worse than stable explains the blended error ratio: one problem, not two
    errors = [] if any(p.level in ("warn", "bad") and "errors" in p.text for p in canary) \
        else list(_errors(s, h, slo))
    problems = [*_replicas(s), *errors, *canary,
                *_latency(s, h, slo), *_saturation(h), *_gpus(s, gpus), *_drift(drift),
                *_alerts(s, snap.alerts)]
    if s.paused:
        problems.append(Problem(signal="rollout", level="warn", text="rollout paused"))
    if s.unlabelled:
        problems.append(Problem(signal="label", level="info", text=unlabelled_text(s)))
    problems.sort(key=_key)
    found = tuple(problems)
    worst = problems[0] if problems else None
    if worst is not None and worst.level in ("warn", "bad"):  # info never sets the status
        if worst.signal == "replicas":
            word = "DOWN" if worst.level == "bad" else "DEGRADED"
        else:
            word = WORDS[worst.signal]
        return Health(status=word, level=worst.level, problems=found)
    if s.canary is not None:
        return Health(status="CANARY", level="info", problems=found)
    if s.unlabelled:
        return Health(status="NO LABEL", level="info", problems=found)
    if s.rollout_in_progress:
        return Health(status="ROLLING", level="info", problems=found)
    if h is not None and not any(getattr(h, f) is not None for f in FIGURE_FIELDS):
        # a sample with no figure at all (two engines claim the model): not "OK"
        blank = h.reasons.get("rps") or "no serving figure for this model"
        if s.replicas_ready is None and not gpus:
            return Health(status="?", level="unknown", problems=found, why=blank)
        return Health(status="OK", level="ok", problems=found, why=f"replicas ready; {blank}")
    if h is None and s.replicas_ready is None and not gpus:
        return Health(status="?", level="unknown", problems=found,
                      why="no replica count, serving metrics or GPU figures for this model")
    why = None if h is not None else "replicas ready; no serving metrics matched this model"
    return Health(status="OK", level="ok", problems=found, why=why)


AttentionKey = tuple[int, int, float]
"""How soon a person should look at a model or one of its problems (smaller: sooner)."""
_CALM: dict[str, int] = {"unknown": 0, "info": 1, "ok": 2}
CALM: AttentionKey = (_CALM["ok"], len(ORDER), inf)
"""The place of a model with nothing to look at."""


def problem_lines(health: Health) -> Iterator[tuple[AttentionKey, Problem]]:
    """A model's problems at warn or bad, one per signal, each with its key: level, then
    the order a person should look at signals (:data:`ORDER`), then oldest first. A firing
    alert counts only for a model with no problem of its own (else it repeats one). The
    problem strip's lines, and the model table's problems-first order."""
    seen: set[str] = set()
    own = any(p.level in ("warn", "bad") and p.signal != "alert" for p in health.problems)
    for p in health.problems:
        if p.level not in ("warn", "bad") or p.signal in seen or (own and p.signal == "alert"):
            continue
        seen.add(p.signal)
        yield (-RANK[p.level], ORDER.index(p.signal),
               p.since.timestamp() if p.since else inf), p


def attention(health: Health | None) -> AttentionKey:
    """A model's place in the problems-first order: its first problem line's key (so the
    table's first row is the model of the strip's first line), then models with no figure
    at all ("?"), then those in a canary, a rollout or with no label, then the calm ones."""
    if health is not None:
        for key, _ in problem_lines(health):
            return key
    return (_CALM.get(health.level if health else "unknown", CALM[0]), CALM[1], CALM[2])


def unlabelled_text(s: ModelService) -> str:
    """Why an unlabelled model is shown and how to adopt it (the config line first)."""
    how = f": adopt it with {s.adopt[0]}" if s.adopt else ""
    return f"unlabelled (no model label), read-only until adopted{how}"


def since_in_chart(problem: Problem, series: Sequence[Series]) -> datetime | None:
    """When ``problem`` (errors or latency over its threshold) began, from a model's chart
    (``MetricsBackend.chart``: ``error %``, ``p50/p95/p99 ms``): the start of the current
    run above the threshold; None for other signals or when the chart does not show it."""
    if problem.threshold is None:
        return None
    if problem.signal == "latency":
        name, limit = problem.text.split(" ", 1)[0] + " ms", problem.threshold
    elif problem.signal == "errors" and problem.text.startswith("errors "):
        name, limit = "error %", problem.threshold * 100
    else:
        return None
    found = next((s for s in series if s.name == name), None)
    return crossed_at(found.points, limit) if found is not None else None


def canary_since(problem: Problem, series: Sequence[Series], canary: str | None,
                 stable: str | None) -> datetime | None:
    """When a "canary errors X % vs stable Y %" problem began, from per-revision error
    ratios (``MetricsBackend.revision_error_chart``: one series per revision, named by it,
    in %): the start of the latest unbroken run where the canary was worse than stable by
    :func:`canary_worse` (the rule :func:`assess` applies). A step without the canary's
    figure breaks the run; one without stable's is judged as :func:`assess` judges it
    (the canary alone). None for other problems, or when the history does not show it."""
    if problem.signal != "canary" or not problem.text.startswith("canary errors") \
            or canary is None:
        return None
    by_name = {s.name: s for s in series}
    mine = by_name.get(canary)
    if mine is None:
        return None
    theirs = {p.at: p.value for p in by_name[stable].points} \
        if stable is not None and stable in by_name else {}
    since: datetime | None = None
    for p in mine.points:
        c, st = finite(p.value), finite(theirs.get(p.at))
        worse = canary_worse(c / 100 if c is not None else None,
                             st / 100 if st is not None else None)
        if not worse:
            since = None
        elif since is None:
            since = p.at
    return since


def _facet(p: Problem) -> str | None:
    """What tells apart problems of one signal and target: a canary's errors and its
    latency are two problems, each with its own since."""
    if p.signal == "canary":
        return "errors" if p.text.startswith("canary errors") else "latency"
    return None


class Steady:
    """Statuses that hold still: a model's shown health changes only when the new status
    has been assessed on ``hold`` consecutive refreshes (until then the health shown
    before stays, reasons included). The first assessment of a model shows at once.

    It also remembers since when each problem (model, signal, target) has been seen, and
    gives that as ``since`` to a problem whose signal does not say (a drift's crossing, an
    XID's appearance and an alert's start do)."""

    def __init__(self, hold: int = 2) -> None:
        self.hold = hold
        self._shown: dict[str, Health] = {}
        self._pending: dict[str, tuple[str, int]] = {}
        self._seen: dict[tuple[str, str, str | None, str | None], datetime] = {}

    def _dated(self, key: str, new: Health, at: datetime | None,
               history: Callable[[Problem], datetime | None] | None) -> Health:
        if at is None or not new.problems:
            return new
        problems = []
        for p in new.problems:
            seen = (key, p.signal, p.target, _facet(p))
            first = self._seen.get(seen)
            if first is None:  # new: since when, from the history where it can be read
                found = history(p) if history is not None and p.since is None else None
                first = self._seen[seen] = found if found is not None and found <= at else at
            problems.append(p if p.since is not None else p.model_copy(update={"since": first}))
        live = {(key, p.signal, p.target, _facet(p)) for p in new.problems}
        for k in [k for k in self._seen if k[0] == key and k not in live]:
            del self._seen[k]
        return new.model_copy(update={"problems": tuple(problems)})

    def update(self, key: str, new: Health, at: datetime | None = None,
               history: Callable[[Problem], datetime | None] | None = None) -> Health:
        """The health to show for ``key`` now. ``history(problem)``: when a new problem
        began, read from history (once per problem; None: first seen now)."""
        new = self._dated(key, new, at, history)
        shown = self._shown.get(key)
        if shown is None or shown.status == new.status:
            self._pending.pop(key, None)
            self._shown[key] = new
            return new
        status, count = self._pending.get(key, (new.status, 0))
        count = count + 1 if status == new.status else 1
        if count >= self.hold:
            self._pending.pop(key, None)
            self._shown[key] = new
            return new
        self._pending[key] = (new.status, count)
        return shown

    def forget(self, live: Iterable[str]) -> None:
        """Drop the models no longer in the fleet."""
        keep = set(live)
        for key in [k for k in self._shown if k not in keep]:
            self._shown.pop(key, None)
            self._pending.pop(key, None)
        for seen in [k for k in self._seen if k[0] not in keep]:
            del self._seen[seen]
