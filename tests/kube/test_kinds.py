"""The registry of resource kinds: every kind has a module of the one shape, and the generic
code (history, execute, backend) goes through it without naming a kind."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from backends.domain.actions import ActionKind, ActionRequest, CheckStatus
from backends.domain.errors import ActionRefused
from backends.domain.models import ServiceKind
from backends.kube import execute
from backends.kube.backend import _kind_specs
from backends.kube.config import KubernetesConfig
from backends.kube.kinds import KINDS

KUBE = Path(__file__).resolve().parents[2] / "backends" / "kube"
#: the kinds pitboard acts on; the others (StatefulSet, LeaderWorkerSet,
#: LLMInferenceService) are read only
ACTING = {"Deployment", "Rollout", "InferenceService"}


def test_every_service_kind_has_one_module_of_the_common_shape():
    assert set(KINDS) == {k.value for k in ServiceKind}
    plurals = [k.PLURAL for k in KINDS.values()]
    assert len(set(plurals)) == len(plurals)
    for name, kind in KINDS.items():
        assert kind.KIND.value == name
        assert kind.caches(KubernetesConfig())[0].name == kind.PLURAL
        # read-only kinds declare no action (each one is refused with UNSUPPORTED)
        assert bool(kind.ACTIONS) == (name in ACTING)
        assert all(isinstance(a, ActionKind) for a in kind.ACTIONS)
        assert "{action}" in kind.UNSUPPORTED
        for member in ("read", "preflight", "progress"):
            assert callable(getattr(kind, member)), (name, member)


@pytest.mark.parametrize("module", ["history.py", "execute.py", "backend.py"])
def test_generic_code_names_no_kind(module):
    text = (KUBE / module).read_text(encoding="utf-8")
    names = [k.value for k in ServiceKind] + [k.name for k in ServiceKind]
    found = [n for n in names if re.search(rf"\b{n}\b", text)]
    assert found == [], f"{module} names {found}: dispatch through kube.kinds.KINDS"


def test_crd_kinds_are_followed_only_when_served():
    cfg = KubernetesConfig(model_label="team/model", discover=False)
    names = [s.name for s in _kind_specs(cfg, set())]
    assert names == ["deployments", "statefulsets", "replicasets", "pods", "nodes", "events"]
    served = {f"{k.GROUP}/{k.VERSION}" for k in KINDS.values() if k.GROUP}
    specs = _kind_specs(cfg, served)
    assert [s.name for s in specs] == names + ["inferenceservices", "rollouts",
                                               "leaderworkersets", "llminferenceservices"]
    # only labelled objects: the model label is the server-side selector
    assert specs[0].label_selector == specs[1].label_selector == "team/model"


def test_discovery_watches_every_workload_once_without_a_selector():
    """Discovery (the default) or an adopt selector: one watch per kind, no label
    selector (the kinds decide client-side); the Deployments KServe's kinds read are
    the same cache."""
    for cfg in (KubernetesConfig(), KubernetesConfig(discover=False, adopt=["a=b"])):
        served = {f"{k.GROUP}/{k.VERSION}" for k in KINDS.values() if k.GROUP}
        specs = _kind_specs(cfg, served)
        names = [s.name for s in specs]
        assert len(names) == len(set(names)) and names.count("deployments") == 1
        assert all(s.label_selector is None for s in specs
                   if s.name in ("deployments", "statefulsets", "leaderworkersets"))


class _OneObject:
    """A KubeApi stand-in answering every GET with one object."""

    def __init__(self, obj: dict):
        self.obj = obj

    def request(self, method, path, **_):
        assert method == "GET", (method, path)
        return self.obj


@pytest.mark.parametrize("kind,action,message", [
    ("Deployment", ActionKind.PROMOTE, "promote is not defined for a Deployment (it has no canary)"),
    ("InferenceService", ActionKind.ABORT, "abort is not supported for a InferenceService"),
    ("StatefulSet", ActionKind.RESTART, "restart is not supported for a StatefulSet by pitboard"),
    ("LeaderWorkerSet", ActionKind.SCALE, "scale is not supported for a LeaderWorkerSet by "
                                          "pitboard"),
    ("LLMInferenceService", ActionKind.PROMOTE, "promote is not supported for an "
                                                "LLMInferenceService: KServe keeps no revisions"),
])
def test_an_action_a_kind_lacks_is_refused_with_its_words(kind, action, message):
    t = execute.Target.parse(f"ctx/ml/{kind}/m")
    with pytest.raises(ActionRefused, match=re.escape(message)):
        execute.resolve(_OneObject({"metadata": {"name": "m"}}), t,
                        ActionRequest(kind=action, service_key=f"ctx/ml/{kind}/m"))


def test_only_a_deployment_rollback_checks_for_a_rollout_in_flight():
    obj = {"metadata": {"name": "m", "generation": 2}, "spec": {"replicas": 1},
           "status": {"observedGeneration": 1}}
    rollback = ActionRequest(kind=ActionKind.ROLLBACK, service_key="c/ml/Deployment/m")
    [check] = KINDS["Deployment"].preflight(obj, rollback)
    assert check.status == CheckStatus.FAILED and not check.blocking
    assert "spec update to be observed" in check.reason
    assert KINDS["Rollout"].preflight(obj, rollback) == ()
