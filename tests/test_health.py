"""The one health model (backends/domain/health.py), without Textual: an incident as an
on-call engineer meets it, statuses that hold still, and "?" only with nothing known."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from backends.domain.health import Steady, assess
from backends.domain.models import Health
from backends.domain.models import (Alert, DriftSeries, FleetSnapshot, GpuDevice, HealthSample,
                                    ModelService, Point, ServiceKind, TrafficTarget)
from backends.domain.slo_config import SloConfig

NOW = datetime(2026, 12, 6, 18, 50, tzinfo=timezone.utc)
SLO = SloConfig.model_validate({"models": {"chat": {"latency_ms": 800}}})


def svc(name: str, **kw) -> ModelService:
    base = dict(name=name, namespace="ml", cluster="prod", replicas_desired=2, replicas_ready=2)
    return ModelService(**(base | kw))


RANKER = svc("recsys-ranker", kind=ServiceKind.INFERENCE_SERVICE, traffic=(
    TrafficTarget(revision="recsys-ranker-predictor-00012", percent=10, role="canary"),
    TrafficTarget(revision="recsys-ranker-predictor-00011", percent=90, role="stable")))
CHAT = svc("chat")
FRAUD = svc("fraud")
QUIET = svc("quiet")


def incident() -> FleetSnapshot:
    """A KServe canary at 7 % 5xx against 0.3 % on stable, its GPU at 89 C with XID 79, an
    LLM whose p95 is 6.4 s against an 800 ms SLO, a feature drifting past its threshold."""
    drift_points = tuple(Point(at=NOW - timedelta(minutes=10 - i), value=0.1 if i < 4 else 0.3)
                         for i in range(10))
    return FleetSnapshot(
        taken_at=NOW, context="prod", services=(RANKER, CHAT, FRAUD, QUIET),
        health={"recsys-ranker": HealthSample(model="recsys-ranker", at=NOW, rps=100,
                                              error_ratio=0.01),
                "chat": HealthSample(model="chat", at=NOW, rps=5, error_ratio=0.001,
                                     p95_ms=6400),
                "fraud": HealthSample(model="fraud", at=NOW, rps=50, error_ratio=0.0),
                "quiet": HealthSample(model="quiet", at=NOW, rps=1, error_ratio=0.0)},
        revision_health={"recsys-ranker": (
            HealthSample(model="recsys-ranker", at=NOW, revision="recsys-ranker-predictor-00012",
                         error_ratio=0.07),
            HealthSample(model="recsys-ranker", at=NOW, revision="recsys-ranker-predictor-00011",
                         error_ratio=0.003))},
        gpus=(GpuDevice(node="gpu-a", index=3, model="recsys-ranker", namespace="ml",
                        temperature_c=89.0, last_xid=79, xid_current=True,
                        xid_at=NOW - timedelta(minutes=9)),
              GpuDevice(node="gpu-a", index=4, model="quiet", last_xid=48, xid_current=False)),
        drift=(DriftSeries(model="fraud", feature="merchant_category", threshold=0.2,
                           points=drift_points),),
        alerts=(Alert(name="x", model="quiet", severity="info", starts_at=NOW,
                      labels={"alertname": "Informational"}),))


def test_the_incident_names_its_four_problems():
    snap = incident()
    got = {s.name: assess(s, snap, SLO) for s in snap.services}
    ranker = got["recsys-ranker"]
    assert (ranker.status, ranker.level) == ("CANARY!", "bad")
    texts = [p.text for p in ranker.problems]
    assert texts[0] == "canary errors 7.0 % vs stable 0.3 %"
    assert ranker.problems[0].target == "recsys-ranker-predictor-00012"
    # the hot GPU is tied to the canary's model, the XID before the temperature it causes
    assert "XID 79 on GPU gpu-a/3" in texts and "GPU gpu-a/3 at 89 °C ≥ 85 °C" in texts
    assert texts.index("XID 79 on GPU gpu-a/3") < texts.index("GPU gpu-a/3 at 89 °C ≥ 85 °C")
    xid = next(p for p in ranker.problems if p.text.startswith("XID"))
    assert xid.since == NOW - timedelta(minutes=9)
    chat = got["chat"]
    assert (chat.status, chat.level) == ("SLOW", "bad")
    assert chat.reasons() == "p95 6.4 s > SLO 800 ms"
    fraud = got["fraud"]
    assert (fraud.status, fraud.level) == ("DRIFT", "warn")
    assert fraud.problems[0].since == NOW - timedelta(minutes=6)  # from the drift history
    quiet = got["quiet"]  # an old XID and an info alert: not a problem
    assert (quiet.status, quiet.level) == ("OK", "ok")


def test_question_mark_only_when_nothing_is_known_and_it_says_why():
    bare = svc("bare", replicas_desired=None, replicas_ready=None)
    snap = FleetSnapshot(taken_at=NOW, context="prod", services=(bare,))
    h = assess(bare, snap, SLO)
    assert h.status == "?" and h.why and "no replica count" in h.why
    up = svc("up")
    h = assess(up, FleetSnapshot(taken_at=NOW, context="prod", services=(up,)), SLO)
    assert h.status == "OK" and "no serving metrics" in (h.why or "")
    down = svc("down", replicas_ready=0)
    h = assess(down, FleetSnapshot(taken_at=NOW, context="prod", services=(down,)), SLO)
    assert (h.status, h.level, h.reasons()) == ("DOWN", "bad", "0/2 replicas ready")


def test_burn_rates_set_errors_below_the_instant_thresholds():
    s = svc("m")
    sample = HealthSample(model="m", at=NOW, error_ratio=0.002, error_ratio_1h=0.02)
    h = assess(s, FleetSnapshot(taken_at=NOW, context="p", services=(s,), health={"m": sample}),
               SloConfig())
    assert h.status == "ERRORS" and h.level == "bad" and "burn 20.0x" in h.reasons()


def test_statuses_hold_still():
    steady = Steady()
    ok = Health(status="OK", level="ok")
    err = Health(status="ERRORS", level="bad")
    unknown = Health(status="?", level="unknown")
    assert steady.update("m", err) is err  # the first assessment shows at once
    shown = [steady.update("m", err).status for _ in range(10)]
    assert shown == ["ERRORS"] * 10  # stationary data: no change
    # one refresh without figures does not flip ERRORS to "?" ...
    assert steady.update("m", unknown).status == "ERRORS"
    assert steady.update("m", err).status == "ERRORS"
    # ... a new status that holds for two refreshes does show
    assert steady.update("m", ok).status == "ERRORS"
    assert steady.update("m", ok).status == "OK"
    steady.forget([])
    assert steady.update("m", err).status == "ERRORS"


def test_stationary_fleet_assessed_ten_times_never_changes():
    snap = incident()
    steady = Steady()
    first = {s.key: steady.update(s.key, assess(s, snap, SLO)).status for s in snap.services}
    for _ in range(10):
        again = {s.key: steady.update(s.key, assess(s, snap, SLO)).status for s in snap.services}
        assert again == first


def test_since_from_the_chart_for_latency_and_errors():
    from backends.domain.health import since_in_chart
    from backends.domain.models import Problem, Series

    pts = lambda values: tuple(Point(at=NOW - timedelta(minutes=len(values) - 1 - i), value=v)  # noqa: E731
                               for i, v in enumerate(values))
    chart = (Series(name="p95 ms", points=pts([500, 700, 900, 1200, 6400, 6400])),
             Series(name="error %", points=pts([0.1, 0.2, 7.0, 7.1, 6.9, 7.0])))
    slow = Problem(signal="latency", level="bad", text="p95 6.4 s > SLO 800 ms", value=6400,
                   threshold=800)
    assert since_in_chart(slow, chart) == NOW - timedelta(minutes=3)
    errors = Problem(signal="errors", level="bad", text="errors 7.0 % ≥ 5.0 %", value=0.07,
                     threshold=0.05)
    assert since_in_chart(errors, chart) == NOW - timedelta(minutes=3)
    drift = Problem(signal="drift", level="warn", text="x", value=1, threshold=0.2)
    assert since_in_chart(drift, chart) is None
    # Steady asks the history once, for a new problem only
    asked = []
    steady = Steady()
    h = Health(status="SLOW", level="bad", problems=(slow,))
    got = steady.update("m", h, NOW, lambda p: asked.append(p) or since_in_chart(p, chart))
    assert got.problems[0].since == NOW - timedelta(minutes=3)
    steady.update("m", h, NOW + timedelta(minutes=1), lambda p: asked.append(p))
    assert len(asked) == 1


def test_canary_since_is_the_latest_run_worse_than_stable_by_the_same_rule():
    from backends.domain.health import canary_since
    from backends.domain.models import Problem, Series

    canary_rev, stable_rev = (t.revision for t in RANKER.traffic)
    pts = lambda values: tuple(Point(at=NOW - timedelta(minutes=len(values) - 1 - i), value=v)  # noqa: E731
                               for i, v in enumerate(values))
    # worse, then 0.9 % (under 1 %: not worse), then 3 % vs stable 2 % (not twice: not
    # worse), then worse from 4 minutes ago; a missing stable point is judged alone
    canary = Series(name=canary_rev, points=pts([7.0, 0.9, 3.0, 7.0, 6.0, 7.0, 7.0]))
    stable = Series(name=stable_rev, points=pts([0.3, 0.3, 2.0, 0.3, None, 0.3, 0.3]))
    bad = Problem(signal="canary", level="bad", text="canary errors 7.0 % vs stable 0.3 %",
                  value=0.07, threshold=0.003, target=canary_rev)
    assert canary_since(bad, (canary, stable), canary_rev, stable_rev) == NOW - timedelta(minutes=3)
    # a gap in the canary's figures breaks the run
    gap = Series(name=canary_rev, points=pts([7.0, 7.0, None, 7.0, 7.0]))
    assert canary_since(bad, (gap, stable), canary_rev, stable_rev) == NOW - timedelta(minutes=1)
    # not worse now, no canary series, another kind of problem: unknown
    better = Series(name=canary_rev, points=pts([7.0, 0.2]))
    assert canary_since(bad, (better, stable), canary_rev, stable_rev) is None
    assert canary_since(bad, (stable,), canary_rev, stable_rev) is None
    slow = bad.model_copy(update={"text": "canary p95 2.0 s > SLO 800 ms"})
    assert canary_since(slow, (canary, stable), canary_rev, stable_rev) is None


def test_history_reads_each_source_once_and_a_failure_is_first_seen():
    from backends.domain.errors import BackendError
    from backends.domain.models import Problem, Series
    from console.presenters.prepare import history

    canary_rev, stable_rev = (t.revision for t in RANKER.traffic)
    pts = tuple(Point(at=NOW - timedelta(minutes=4 - i), value=v)
                for i, v in enumerate([0.3, 7.0, 7.0, 7.0, 7.0]))
    reads: list[str] = []

    def revisions(s):
        reads.append(s.name)
        return (Series(name=canary_rev, points=pts),
                Series(name=stable_rev, points=tuple(p.model_copy(update={"value": 0.3})
                                                     for p in pts)))

    errors = Problem(signal="canary", level="bad", text="canary errors 7.0 % vs stable 0.3 %",
                     value=0.07, threshold=0.003, target=canary_rev)
    slow = Problem(signal="canary", level="warn", text="canary p95 2.0 s > SLO 800 ms",
                   value=2000, threshold=800, target=canary_rev)
    steady = Steady()
    h = Health(status="CANARY!", level="bad", problems=(slow, errors))
    got = steady.update(RANKER.key, h, NOW, history(RANKER, None, revisions))
    # the canary's errors and its latency are two problems, each with its own since
    assert got.problems[1].since == NOW - timedelta(minutes=3)
    assert got.problems[0].since == NOW
    for minute in range(1, 4):  # later refreshes: no read
        again = steady.update(RANKER.key, h, NOW + timedelta(minutes=minute),
                              history(RANKER, None, revisions))
        assert again.problems[1].since == NOW - timedelta(minutes=3)
    assert reads == ["recsys-ranker"]

    def refused(_s):
        raise BackendError("query_range refused: 503", source="prometheus")

    fresh = Steady().update(RANKER.key, h, NOW, history(RANKER, refused, refused))
    assert [p.since for p in fresh.problems] == [NOW, NOW]
