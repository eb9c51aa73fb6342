"""Promote gates as pure functions, on hand-made snapshots."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backends.domain.actions import CheckStatus
from backends.actions.config import ActionsConfig, GateOverrides, PromoteGates
from backends.actions.gates import (AGE, APPROVALS, CANARY, ERRORS, LATENCY, evaluate_promote_gates,
                            match_revision)
from backends.actions.identity import actor, parse_actor, same_identity
from backends.domain.models import (AuditEntry, FleetSnapshot, HealthSample, ModelService, Revision,
                             ServiceKind, TrafficTarget)
from tests.audit.conftest import T0

KEY = "prod/ml/Rollout/m"


def _snap(canary_err=0.01, stable_err=0.01, canary_p95=100.0, stable_p95=100.0,
          age_s=3600, at=T0, canary=True) -> FleetSnapshot:
    traffic = [TrafficTarget(revision="6", percent=80 if canary else 100, role="stable")]
    if canary:
        traffic.append(TrafficTarget(revision="7", percent=20, role="canary"))
    svc = ModelService(name="m", namespace="ml", cluster="prod", kind=ServiceKind.ROLLOUT,
                       traffic=tuple(traffic))
    health = (HealthSample(model="m", revision="6", at=at, error_ratio=stable_err,
                           p95_ms=stable_p95),
              HealthSample(model="m", revision="7", at=at, error_ratio=canary_err,
                           p95_ms=canary_p95))
    revs = (Revision(number=7, created=T0 - timedelta(seconds=age_s)),
            Revision(number=6, created=T0 - timedelta(days=9)))
    return FleetSnapshot(taken_at=T0, context="prod", services=(svc,),
                         revisions={KEY: revs}, revision_health={"m": health})


def _by_name(checks):
    return {c.name: c for c in checks}


def test_healthy_canary_passes_every_gate():
    checks = _by_name(evaluate_promote_gates(_snap(), KEY, PromoteGates()))
    assert [c.status for c in checks.values()] == [CheckStatus.PASSED] * 5
    assert "canary 1.00% vs stable 1.00% over 5m" in checks[ERRORS].reason


@pytest.mark.parametrize("kwargs, gates, name, text", [
    (dict(canary_err=0.05), PromoteGates(), ERRORS, "+4.00 points > 1.00"),
    (dict(canary_err=0.004, stable_err=0.001), PromoteGates(max_error_ratio_vs_stable=2),
     ERRORS, "x4.00 > x2.00"),
    (dict(canary_p95=150), PromoteGates(), LATENCY, "x1.50 > x1.20"),
    (dict(age_s=120), PromoteGates(), AGE, "2m old, needs 10m"),
    (dict(at=T0 - timedelta(minutes=10)), PromoteGates(), ERRORS, "no canary error data"),
    (dict(canary_err=None), PromoteGates(), ERRORS, "cannot evaluate"),
    (dict(stable_p95=None), PromoteGates(), LATENCY, "no stable p95"),
])
def test_each_gate_fails_with_its_reason(kwargs, gates, name, text):
    checks = _by_name(evaluate_promote_gates(_snap(**kwargs), KEY, gates))
    assert checks[name].status == CheckStatus.FAILED and checks[name].overridable
    assert text in checks[name].reason, checks[name].reason


def test_missing_data_can_be_unknown_instead():
    gates = PromoteGates(block_on_missing_data=False)
    checks = _by_name(evaluate_promote_gates(_snap(canary_err=None), KEY, gates))
    assert checks[ERRORS].status == CheckStatus.UNKNOWN and not checks[ERRORS].blocking


def test_disabled_gates_pass_without_blocking():
    gates = PromoteGates(max_error_ratio_delta=None, max_p95_ratio_vs_stable=None,
                         min_canary_age_s=None)
    checks = _by_name(evaluate_promote_gates(_snap(canary_err=0.9, canary_p95=999,
                                                   age_s=1), KEY, gates))
    assert all(c.status == CheckStatus.PASSED for c in checks.values())


def test_no_canary_or_unknown_service_is_a_hard_failure():
    (check,) = evaluate_promote_gates(_snap(canary=False), KEY, PromoteGates())
    assert check.name == CANARY and check.status == CheckStatus.FAILED and not check.overridable
    (check,) = evaluate_promote_gates(_snap(), "prod/ml/Rollout/other", PromoteGates())
    assert "not in the current snapshot" in check.reason


def _approval(who: str) -> AuditEntry:
    return AuditEntry(seq=1, at=T0, actor=who, kind="approval", target=KEY, prev_hash="0",
                      hash="1")


def test_approvals_count_distinct_other_identities():
    gates = PromoteGates(approvals_required=2)
    alice = "alice@a k8s:alice"
    approvals = [_approval("bob@b k8s:bob"), _approval("bob@c k8s:bob"),
                 _approval("alice@z k8s:alice")]
    check = _by_name(evaluate_promote_gates(_snap(), KEY, gates, approvals, alice))[APPROVALS]
    assert check.status == CheckStatus.FAILED and not check.overridable
    assert "1 of 2" in check.reason and "your own" in check.reason
    approvals.append(_approval("carol@c k8s:carol"))
    check = _by_name(evaluate_promote_gates(_snap(), KEY, gates, approvals, alice))[APPROVALS]
    assert check.status == CheckStatus.PASSED


def test_match_revision_by_number_name_or_version():
    revs = (Revision(number=4, version="v2"), Revision(number=3, version="v1"))
    assert match_revision(revs, "m-predictor-00004", None).number == 4
    assert match_revision(revs, "3", None).number == 3
    assert match_revision(revs, "m-abc", "v1").number == 3
    assert match_revision(revs, "m-abc", None) is None


def test_per_context_overrides_merge_over_defaults():
    config = ActionsConfig(protected_contexts=["prod"], contexts={
        "prod": GateOverrides(approvals_required=1, progress_timeout_s=900),
        "lab": GateOverrides(read_only=True, protected=False)})
    prod = config.gates_for("prod")
    assert prod.approvals_required == 1 and prod.progress_timeout_s == 900
    assert prod.max_p95_ratio_vs_stable == PromoteGates().max_p95_ratio_vs_stable
    assert config.gates_for("dev") == PromoteGates()
    assert config.is_protected("prod") and not config.is_protected("lab")
    assert config.is_read_only("lab") and not config.is_read_only("prod")


def test_bad_gate_config_names_the_field():
    from pydantic import ValidationError
    with pytest.raises(ValidationError, match="window_s"):
        ActionsConfig.model_validate({"promote_gates": {"window_s": 1}})
    with pytest.raises(ValidationError, match="approvals_required"):
        ActionsConfig.model_validate({"contexts": {"p": {"approvals_required": -1}}})
    with pytest.raises(ValidationError, match="empty"):
        ActionsConfig.model_validate({"protected_contexts": [" "]})


def test_identity_strings():
    assert actor(user="alice", host="laptop.corp.example") == "alice@laptop.corp.example"
    who = actor("system:serviceaccount:ops:bot", user="al ice", host="h")
    assert who == "al_ice@h k8s:system:serviceaccount:ops:bot"
    assert parse_actor(who) == ("al_ice", "h", "system:serviceaccount:ops:bot")
    assert "\x1b" not in actor(user="\x1b[2Jevil", host="h")
    assert actor().count("@") >= 1
    assert same_identity("alice@a", "ALICE@b")
    assert not same_identity("ops@a k8s:alice", "ops@a k8s:bob")
    assert same_identity("ops@a k8s:alice", "ops@b")  # one side unknown: OS user decides


def _twins(cluster_b: str, namespace_b: str) -> FleetSnapshot:
    """Two services named ``m`` with a canary each: prod/ml (healthy canary) and
    ``cluster_b``/``namespace_b`` (canary at 9% errors), each with its own samples."""
    services, health, revisions = [], [], {}
    for cluster, ns, canary_err in (("prod", "ml", 0.01), (cluster_b, namespace_b, 0.09)):
        svc = ModelService(name="m", namespace=ns, cluster=cluster, kind=ServiceKind.ROLLOUT,
                           traffic=(TrafficTarget(revision="6", percent=80, role="stable"),
                                    TrafficTarget(revision="7", percent=20, role="canary")))
        services.append(svc)
        health += [HealthSample(model="m", namespace=ns, revision="6", at=T0, error_ratio=0.01,
                                p95_ms=100.0),
                   HealthSample(model="m", namespace=ns, revision="7", at=T0,
                                error_ratio=canary_err, p95_ms=100.0)]
        revisions[svc.key] = (Revision(number=7, created=T0 - timedelta(hours=1)),
                              Revision(number=6, created=T0 - timedelta(days=9)))
    return FleetSnapshot(taken_at=T0, context="prod", services=tuple(services),
                         revisions=revisions, revision_health={"m": tuple(health)})


def test_a_same_named_model_in_another_namespace_is_judged_on_its_own_figures():
    snap = _twins("prod", "other")
    ours = _by_name(evaluate_promote_gates(snap, KEY, PromoteGates()))
    theirs = _by_name(evaluate_promote_gates(snap, "prod/other/Rollout/m", PromoteGates()))
    assert ours[ERRORS].status == CheckStatus.PASSED, ours[ERRORS].reason
    assert theirs[ERRORS].status == CheckStatus.FAILED
    assert "canary 9.00% vs stable 1.00%" in theirs[ERRORS].reason


def test_a_same_named_model_in_another_context_and_same_namespace_is_not_judged():
    """Metrics carry model and namespace, not the context: whose figures they are is
    unknown, so the gates have no data (blocking, overridable) and say why."""
    snap = _twins("prod-us", "ml")
    checks = _by_name(evaluate_promote_gates(snap, KEY, PromoteGates()))
    for name in (ERRORS, LATENCY):
        assert checks[name].status == CheckStatus.FAILED and checks[name].overridable
        assert "cannot be told apart from prod-us/ml/Rollout/m" in checks[name].reason
    assert snap.health_of(snap.services[0]) is None
    assert snap.revision_health_of(snap.services[0]) == ()
