"""The guarded silence action against the suite's real Alertmanager (fed by the real
Prometheus through alerting rules): previewed, audited (intent, outcome, settle), the
model's alerts suppressed, the neighbour's not, and gone on its own at its end."""

from __future__ import annotations

import time

import pytest

from backends.actions.guard import ActionRunner
from backends.alertmanager import AlertmanagerAlerts
from backends.audit.store import SqliteAudit
from backends.domain.actions import ActionKind, ActionRequest, ActionStatus, CheckStatus
from backends.domain.errors import ActionRefused
from backends.prometheus.config import AlertmanagerConfig
from tests.alertmanager.support import get_silence, list_silences, wait_for
from tests.audit.conftest import FakeCluster

pytestmark = pytest.mark.integration
ERRORS = "ModelErrorRateHigh"
ACTOR = "ana@laptop k8s:ana@example.com"


@pytest.fixture
def error_ratio(alert_stack):
    gauge = alert_stack.exporter.error_ratio
    made: list[tuple[str, str]] = []

    def set_ratio(model: str, namespace: str, value: float) -> None:
        gauge.labels(model, namespace).set(value)
        made.append((model, namespace))

    yield set_ratio
    for labels in set(made):
        gauge.remove(*labels)


@pytest.fixture
def rig(alert_stack, tmp_path):
    """(runner, audit, alerts source, alerts source showing silenced ones)."""
    alerts = AlertmanagerAlerts(AlertmanagerConfig(url=alert_stack.url))
    seen = AlertmanagerAlerts(AlertmanagerConfig(url=alert_stack.url, include_silenced=True))
    audit = SqliteAudit(str(tmp_path / "audit.db"))
    made = []

    def make(**kw) -> ActionRunner:
        made.append(ActionRunner(FakeCluster(), audit, alerts=alerts, **kw))
        return made[-1]

    yield make, audit, alerts, seen
    audit.close()
    alerts.close()
    seen.close()


def state_of(source: AlertmanagerAlerts, model: str) -> str | None:
    return next((a.state for a in source.alerts() if a.name == ERRORS and a.model == model),
                None)


def request(model: str, seconds: float) -> ActionRequest:
    return ActionRequest(kind=ActionKind.SILENCE, service_key=f"fake/serving/Deployment/{model}",
                         duration_s=seconds, actor=ACTOR)


def test_silence_action_suppresses_the_models_alerts_until_it_expires(rig, alert_stack,
                                                                      error_ratio):
    make, audit, alerts, seen = rig
    runner = make()
    error_ratio("llm-silenced", "serving", 0.4)
    error_ratio("llm-silenced-neighbour", "serving", 0.4)
    wait_for(lambda: state_of(alerts, "llm-silenced") == "firing"
             and state_of(alerts, "llm-silenced-neighbour") == "firing", "both fire",
             deadline_s=30)

    plan = runner.prepare(request("llm-silenced", 5), None)
    checks = {c.name: c for c in plan.checks}
    assert checks["Alertmanager reachable"].status == CheckStatus.PASSED
    assert checks["alerts matched now"].status == CheckStatus.PASSED
    assert ERRORS in checks["alerts matched now"].reason
    changes = {c.field: c.after for c in plan.changes}
    assert changes["silence"] == ('model=~"llm\\-silenced(-predictor(-default)?)?", '
                                  'namespace="serving"')
    assert changes["for"] == "5s"
    assert plan.object_ref == "alerts of llm-silenced" and not plan.blocked

    made = time.monotonic()
    result = runner.run(plan, "known incident INC-42, fix deploying", ACTOR)
    assert result.status == ActionStatus.SUCCEEDED, result.message
    sid = result.detail["silence_id"]
    held = get_silence(alert_stack.url, sid)
    assert held["status"]["state"] == "active" and held["createdBy"] == ACTOR
    assert "known incident INC-42" in held["comment"]
    assert {(m["name"], m["value"], m["isRegex"]) for m in held["matchers"]} == {
        ("model", "llm\\-silenced(-predictor(-default)?)?", True),
        ("namespace", "serving", False)}
    assert [(e.kind, e.outcome) for e in audit.entries()] == [
        ("intent", None), ("outcome", "succeeded"), ("settle", "complete")]
    intent = audit.entries()[0]
    assert intent.action == "silence" and intent.reason.startswith("known incident")

    wait_for(lambda: state_of(seen, "llm-silenced") == "suppressed", "suppressed")
    assert state_of(alerts, "llm-silenced") is None  # hidden as silenced
    assert state_of(alerts, "llm-silenced-neighbour") == "firing"  # not the neighbour's
    # nothing undoes it: it ends on its own
    wait_for(lambda: state_of(alerts, "llm-silenced") == "firing", "firing after its end",
             deadline_s=20)
    assert time.monotonic() - made >= 4.5
    assert get_silence(alert_stack.url, sid)["status"]["state"] == "expired"


def test_read_only_refuses_and_creates_no_silence(rig, alert_stack):
    make, audit, _alerts, _seen = rig
    runner = make(read_only=True)
    before = len(list_silences(alert_stack.url))
    plan = runner.prepare(request("llm-ro", 60), None)
    assert plan.blocked and plan.checks[0].name == "read-only"
    with pytest.raises(ActionRefused, match="read-only"):
        runner.run(plan, "r", ACTOR)
    assert len(list_silences(alert_stack.url)) == before and audit.entries() == []


def test_no_alert_yet_is_a_warning_not_a_refusal(rig):
    make, _audit, _alerts, _seen = rig
    plan = make().prepare(request("llm-never-fired", 60), None)
    matched = next(c for c in plan.checks if c.name == "alerts matched now")
    assert matched.status == CheckStatus.UNKNOWN and not matched.blocking
    assert not plan.blocked
    assert {c.field: c.after for c in plan.changes}["silence"] == \
        'model=~"llm\\-never\\-fired(-predictor(-default)?)?"'  # no namespace: none seen


# -- mirrored on the model's object, as every other action is ----------------------------------
from tests.kube.conftest import apiserver  # noqa: E402,F401 - the test API server fixture


@pytest.fixture
def kube_rig(alert_stack, apiserver, tmp_path):
    """A runner acting on the test API server's cluster, silencing on the real
    Alertmanager."""
    from tests.kube.helpers import cluster

    c = cluster(apiserver)
    alerts = AlertmanagerAlerts(AlertmanagerConfig(url=alert_stack.url))
    audit = SqliteAudit(str(tmp_path / "audit-kube.db"))
    yield ActionRunner(c, audit, alerts=alerts), audit
    c.close()
    audit.close()
    alerts.close()


def _silence_embedder(runner) -> tuple:
    key = "test-admin/ml-serving/Deployment/embedder"
    req = ActionRequest(kind=ActionKind.SILENCE, service_key=key, duration_s=90,
                        actor="ana@laptop")
    plan = runner.prepare(req, None)
    assert not plan.blocked, plan.checks
    return plan, runner.run(plan, "noisy during the embedder migration", "ana@laptop")


def test_a_silence_writes_an_event_and_an_annotation_on_the_models_object(
        kube_rig, apiserver, alert_stack):
    import json

    runner, audit = kube_rig
    plan, result = _silence_embedder(runner)
    assert result.status == ActionStatus.SUCCEEDED and not result.warnings, result.warnings
    sid = result.detail["silence_id"]
    assert get_silence(alert_stack.url, sid)["createdBy"] == "ana@laptop k8s:admin"
    intent, outcome, settle = audit.entries()
    obj = apiserver.get_object("apps/v1", "deployments", "ml-serving", "embedder")
    marks = obj["metadata"]["annotations"]
    record = json.loads(marks["pitboard.io/silence"])
    assert record["id"] == sid and record["ends_at"] == result.detail["ends_at"]
    assert record["audit"] == f"{outcome.seq}:{outcome.hash}"
    assert record["who"] == "ana@laptop k8s:admin"
    assert marks["pitboard.io/audit"] == f"{settle.seq}:{settle.hash}"  # the newest entry
    events = [e for e in apiserver.list_objects("v1", "events", "ml-serving")
              if e["involvedObject"]["name"] == "embedder"
              and e["reason"] == "PitboardSilence"]
    [event] = events
    assert sid in event["message"] and "noisy during the embedder migration" in event["message"]
    assert event["message"].endswith(f"[audit {outcome.seq}:{outcome.hash}]")
    assert event["metadata"]["annotations"]["pitboard.io/audit"] == \
        f"{outcome.seq}:{outcome.hash}"


def test_a_failed_mirror_of_a_silence_is_a_warning_and_the_silence_stands(
        kube_rig, apiserver, alert_stack):
    runner, audit = kube_rig
    apiserver.inject("POST", r"/events$", 403, times=None)
    apiserver.inject("PATCH", r"/deployments/embedder$", 403, times=None)
    _plan, result = _silence_embedder(runner)
    assert result.status == ActionStatus.SUCCEEDED
    assert get_silence(alert_stack.url, result.detail["silence_id"])["status"]["state"] == \
        "active"
    assert any(w.startswith("event not recorded") and "403" in w for w in result.warnings)
    assert any("pitboard.io/audit not written" in w for w in result.warnings)
    assert [e.kind for e in audit.entries()] == ["intent", "outcome", "settle"]
