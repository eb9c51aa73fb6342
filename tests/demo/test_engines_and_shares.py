"""The demo fleet's mixed engines and its MIG node: each engine named as the Prometheus
backend names it, with only the figures that engine exports; MIG instances as shares."""

from __future__ import annotations

from backends.demo.fleet import FrozenClock, make_demo
from tests.demo.conftest import T0

# engine -> (model, profile the Prometheus backend would pick, figures it has no metric for)
ENGINES = {
    "vllm": ("llm-chat", "vllm", ()),
    "sglang": ("chat-sglang", "sglang", ()),
    "tgi": ("summarize-tgi", "tgi", ("ttft_p95_ms", "kv_cache_percent")),
    "triton": ("fraud-scorer", "triton", ("ttft_p95_ms", "tokens_per_s", "kv_cache_percent")),
    "ray-serve": ("assist-rayserve", "ray_vllm_", ()),
    "llm-d": ("router-llmd", "gaie", ("queue_depth", "kv_cache_percent", "itl_p95_ms")),
    "kserve": ("recommender", "kserve", ("ttft_p95_ms", "tokens_per_s")),
    "knative": ("intent-knative", "knative", ("ttft_p95_ms", "tokens_per_s")),
}
LLM = ("rps", "error_ratio", "p95_ms", "ttft_p95_ms", "itl_p95_ms", "tokens_per_s",
       "queue_depth", "kv_cache_percent", "running_requests")


def test_one_model_per_engine_named_as_the_backend_names_it(fleet):
    part = fleet.metrics.read((), 300)
    services = {s.name: s for s in fleet.cluster.read().services}
    for engine, (model, profile, lacks) in ENGINES.items():
        h = part.health[model]
        assert (h.engine, h.profile, services[model].runtime) == (engine, profile, engine)
        for name in lacks:
            assert getattr(h, name) is None, (model, name)
        assert h.rps is not None and h.rps > 0 and h.error_ratio is not None
    for model in ("llm-chat", "chat-sglang", "assist-rayserve"):  # every LLM figure
        h = part.health[model]
        assert all(getattr(h, f) is not None for f in LLM), model
    tgi, llmd = part.health["summarize-tgi"], part.health["router-llmd"]
    assert tgi.itl_p95_ms is not None and tgi.running_requests is not None
    assert llmd.ttft_p95_ms is not None and llmd.tokens_per_s is not None
    # a canary leg is tagged as its model is
    assert {r.engine for r in part.revision_health["recommender"]} == {"kserve"}


def test_a_mig_node_serves_small_models_from_instances(fleet):
    gpus = {(g.node, g.index): g for g in fleet.metrics.read((), 300).gpus}
    mig = gpus[("gpu-a100-mig", 0)]
    assert mig.mig and mig.util_percent is None and mig.model_name == "NVIDIA A100-SXM4-80GB"
    assert [(s.mig_profile, s.instance, s.model) for s in mig.slices] == [
        ("3g.40gb", "2", "tiny-llm"), ("2g.20gb", "3", "embed-mini"),
        ("1g.10gb", "9", "embed-mini"), ("1g.10gb", "10", None)]
    busy = [s.util_percent for s in mig.slices]
    assert all(u is not None and 0 <= u <= 100 for u in busy) and busy[-1] == 0.0
    assert mig.util_avg_percent == max(busy)  # idle is judged on the busiest instance
    assert mig.memory_used_mib == sum(s.memory_used_mib for s in mig.slices)
    assert sum(s.memory_total_mib for s in mig.slices) <= mig.memory_total_mib
    assert mig.models == ("tiny-llm", "embed-mini") and mig.temperature_c is not None
    assert all(s.pod and s.pod.startswith(s.model) for s in mig.slices if s.model)


def test_the_new_fleet_is_deterministic():
    def snapshot():
        demo = make_demo(seed=7, clock=FrozenClock(T0))
        part = demo.metrics.read((), 300)
        return part.gpus, part.health
    assert snapshot() == snapshot()
