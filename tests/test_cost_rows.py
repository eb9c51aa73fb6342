"""The cost view's rows (console.presenters.cost), made from a snapshot by hand."""

from __future__ import annotations

from datetime import datetime, timezone

from backends.domain.models import (CostBurn, FleetSnapshot, GpuDevice, GpuSummary,
                                    HealthSample, ModelService)
from console.presenters.cost import MAX_MODEL_ROWS, cost_rows, is_idle
from widgets.gpu_table import is_idle as table_is_idle

AT = datetime(2026, 11, 21, 14, 0, tzinfo=timezone.utc)


def gpu(node: str, index: int, model: str | None, cost: float | None, util: float | None,
        namespace: str | None = "serving") -> GpuDevice:
    return GpuDevice(node=node, index=index, model=model, hourly_cost=cost, util_percent=util,
                     pod=f"{model}-{index}" if model else None,
                     namespace=namespace if model else None)


GPUS = (gpu("n1", 0, "chat", 4.0, 90.0), gpu("n1", 1, "chat", 4.0, 3.0),
        gpu("n2", 0, "ocr", 2.0, 50.0, namespace="batch"), gpu("n2", 1, None, 2.0, 0.0))
SERVICES = (ModelService(name="chat", namespace="serving", cluster="c", runtime="vllm"),
            ModelService(name="ocr", namespace="batch", cluster="c", runtime="triton"))
HEALTH = {"chat": HealthSample(model="chat", at=AT, rps=2.0, tokens_per_s=1000.0),
          "ocr": HealthSample(model="ocr", at=AT, rps=10.0)}


def snapshot(**kw) -> FleetSnapshot:
    return FleetSnapshot(taken_at=AT, context="c", services=SERVICES, gpus=GPUS,
                         health=HEALTH, **kw)


def test_rows_from_the_gpus_when_the_source_gives_no_cost_by_model():
    rows = cost_rows(snapshot(), None, 10.0)
    assert rows.idle == 1  # chat's GPU at 3%; the free one is not allocated
    # $8/h over 1000 tok/s (3,600 thousands an hour); $2/h over 10 req/s; the free GPU
    # has its own line (ties: by name)
    assert rows.models.rows == (
        ("chat", "$8.00", "67%", "2", "$0.0022/1k tok", "$192"),
        ("(free)", "$2.00", "17%", "0", "—", "$48"),
        ("ocr", "$2.00", "17%", "1", "$0.0556/1k req", "$48"))
    assert rows.models.subtitle == "3 rows"
    assert rows.namespaces.rows == (("serving", "$8.00", "2", "$4.00"),
                                    ("(no namespace)", "$2.00", "1", "—"),
                                    ("batch", "$2.00", "1", "—"))
    assert rows.nodes.rows == (("n1", "$8.00", "2", "$4.00"), ("n2", "$4.00", "2", "—"))


def test_the_costliest_models_of_the_source_and_a_scoped_read():
    by_model = {f"m{i:03}": float(i) for i in range(60)}
    summary = GpuSummary(gpus=20000, idle_allocated=37, by_model={"m059": 8})
    rows = cost_rows(snapshot(cost=CostBurn(by_model=by_model)), summary, 10.0)
    assert len(rows.models.rows) == MAX_MODEL_ROWS
    assert [r[0] for r in rows.models.rows[:2]] == ["m059", "m058"]  # costliest first
    assert rows.models.rows[0][3] == "8" and rows.models.rows[1][3] == "0"  # the server's count
    assert rows.models.subtitle == f"the {MAX_MODEL_ROWS} costliest of 60 models"
    assert rows.idle == 37  # every GPU's, counted by the server
    assert rows.nodes.subtitle == "of the 4 GPUs read (of 20000)"


def test_idle_is_the_gpu_tables_test():
    cases = [gpu("n", 0, "m", 1.0, u) for u in (None, float("nan"), float("inf"), 0.0, 9.99,
                                                 10.0, 55.0)]
    cases.append(gpu("n", 1, None, 1.0, 0.0))
    for g in cases:
        assert is_idle(g, 10.0) == table_is_idle(g, 10.0), g


def test_gpus_of_a_model_count_its_shares_as_the_servers_summary_does():
    """A MIG or time-sliced GPU counts once for each model holding a share of it (a model
    on MIG slices alone used to count 0 GPUs beside its cost), as ``summarize`` -- the
    figures past a scoped read -- counts them."""
    from backends.domain.gpus import summarize
    from backends.domain.models import GpuSlice

    mig = GpuDevice(node="n3", index=0, model="tiny", model_name="NVIDIA A100-SXM4-80GB",
                    hourly_cost=2.8, util_percent=40.0, pod="tiny-0", namespace="serving",
                    slices=(GpuSlice(mig_profile="3g.40gb", instance="2", model="tiny"),
                            GpuSlice(mig_profile="2g.20gb", instance="3", model="mini"),
                            GpuSlice(mig_profile="1g.10gb", instance="9", model="mini")))
    gpus = (*GPUS, mig)
    snap = FleetSnapshot(taken_at=AT, context="c", services=SERVICES, gpus=gpus, health=HEALTH,
                         cost=CostBurn(by_model={"chat": 8.0, "ocr": 2.0, "tiny": 1.2,
                                                 "mini": 1.2}))
    counts = {row[0]: row[3] for row in cost_rows(snap, None, 10.0).models.rows}
    assert counts == {"chat": "2", "ocr": "1", "tiny": "1", "mini": "1"}
    assert counts == {k: str(v) for k, v in summarize(gpus, 10.0).by_model.items()}
