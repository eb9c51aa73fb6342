"""The rules behind unlabelled models, on plain data: the health word, the one read-only
rule, what makes a workload a model (labels, adopt selectors, GPU requests), and a bad
adopt selector in the config (exit 2 with the field path)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from backends.actions.catalog import read_only
from backends.domain.health import assess
from backends.domain.models import FleetSnapshot, HealthSample, ModelService
from backends.domain.slo_config import SloConfig
from backends.kube.config import KubernetesConfig
from backends.kube.kinds.workload import classify, matches, template_gpus
from console.config import ConfigProblem, load_settings

AT = datetime(2026, 11, 21, 14, 0, tzinfo=timezone.utc)
ADOPT = ('[kubernetes] adopt = ["app.kubernetes.io/name=qwen"]',
         "kubectl label deployment qwen -n ml pitboard.io/model=qwen")


def svc(**kw) -> ModelService:
    base = dict(name="qwen", namespace="ml", cluster="c", replicas_ready=2, replicas_desired=2,
                unlabelled=True, adopt=ADOPT)
    return ModelService(**(base | kw))


def test_an_unlabelled_model_shows_unlabelled_with_the_adopt_line():
    s = svc()
    h = assess(s, FleetSnapshot(taken_at=AT, context="c", services=(s,)), SloConfig())
    assert (h.status, h.level) == ("NO LABEL", "info")
    assert h.problems[-1].text == ("unlabelled (no model label), read-only until adopted: "
                                   f"adopt it with {ADOPT[0]}")


def test_a_real_problem_still_wins_over_unlabelled():
    s = svc(replicas_ready=0)
    snap = FleetSnapshot(taken_at=AT, context="c", services=(s,),
                         health={"qwen": HealthSample(model="qwen", at=AT, rps=1.0,
                                                          error_ratio=0.0)})
    assert assess(s, snap, SloConfig()).status == "DOWN"


def test_the_read_only_rule_names_the_lines_that_adopt():
    why = read_only("c", flag=False, service=svc())
    assert why is not None and why.cause == "unlabelled"
    assert why.message == (f"qwen is unlabelled (no model label): read-only until adopted; "
                           f"adopt it: {ADOPT[0]} (or {ADOPT[1]})")
    assert read_only("c", flag=False, service=svc(unlabelled=False, adopt=())) is None
    # the console-wide reasons come first
    assert read_only("c", flag=True, service=svc()).cause == "--read-only"


@pytest.mark.parametrize("selector,labels,want", [
    ("pitboard.io/model", {"pitboard.io/model": "x"}, True),
    ("pitboard.io/model", {}, False),
    ("a=b,!c", {"a": "b"}, True),
    ("a=b,!c", {"a": "b", "c": "1"}, False),
    ("a==b", {"a": "b"}, True),
    ("a!=b", {"a": "c"}, True),
    ("a!=b", {"a": "b"}, False),
    ("tier in (gold, silver)", {"tier": "silver"}, True),
    ("tier in (gold)", {}, False),
    ("tier notin (gold)", {}, True),
    ("tier notin (gold)", {"tier": "gold"}, False),
])
def test_label_selectors_match_as_the_api_server(selector, labels, want):
    assert matches(selector, labels) is want


def test_what_makes_a_workload_a_model():
    cfg = KubernetesConfig()
    gpu = {"spec": {"containers": [{"resources": {"limits": {"amd.com/gpu": "2"}}},
                                   {"resources": {"requests": {"nvidia.com/gpu": 1}}}]}}
    assert template_gpus(gpu) == 3
    assert classify("deployment", "x", "ml", {"pitboard.io/model": "x"}, 0, True, cfg) == \
        (False, ())
    unl = classify("deployment", "x", "ml", {"app.kubernetes.io/name": "x"}, 0, False, cfg)
    assert unl is not None and unl[0] and unl[1][0].startswith("[kubernetes] adopt")
    assert classify("deployment", "x", "ml", {}, 1, False, cfg) == \
        (True, ("kubectl label deployment x -n ml pitboard.io/model=x",))
    assert classify("deployment", "web", "ml", {}, 0, False, cfg) is None  # neither
    assert classify("deployment", "p", "ml", {}, 1, True, cfg) is None  # another's workload
    assert classify("deployment", "x", "ml", {}, 1, False, KubernetesConfig(discover=False)) \
        is None
    adopted = KubernetesConfig(adopt=["app.kubernetes.io/name=x"])
    assert classify("deployment", "x", "ml", {"app.kubernetes.io/name": "x"}, 0, False,
                    adopted) == (False, ())


def test_a_bad_adopt_selector_is_a_config_problem(tmp_path, monkeypatch):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[kubernetes]\nadopt = ["app in (a"]\n', encoding="utf-8")
    monkeypatch.setenv("PITBOARD_CONFIG", str(cfg))
    with pytest.raises(ConfigProblem, match=r"kubernetes\.adopt.*is not a label selector"):
        load_settings()
