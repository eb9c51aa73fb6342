"""One model name served in several contexts: each service's $/h is its own
(``CostBurn.by_service``), never the name's sum over the contexts."""

from __future__ import annotations

from datetime import datetime, timezone

from backends.domain.models import CostBurn, FleetSnapshot, GpuDevice, ModelService, ServiceKind
from backends.prometheus.cost import priced_gpus, service_resolver
from console.controllers.contexts import cost_share
from widgets.model_rows import rows_from_snapshot

AT = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)


def svc(name, cluster, namespace="serving"):
    return ModelService(name=name, namespace=namespace, cluster=cluster,
                        kind=ServiceKind.DEPLOYMENT)


A, B, B2 = svc("llm-chat", "prod-a"), svc("llm-chat", "prod-b"), svc("llm-chat", "prod-b", "other")
SOLO = svc("embed", "prod-a")


def test_the_service_of_a_model_in_a_context():
    of = service_resolver((A, B, B2, SOLO))
    assert of("prod-a", None, "llm-chat") == A.key
    assert of("prod-a", "serving", "llm-chat") == A.key
    assert of("prod-b", "other", "llm-chat") == B2.key
    assert of("prod-b", None, "llm-chat") is None  # two namespaces serve it there
    assert of("prod-b", "elsewhere", "llm-chat") is None
    assert of(None, "serving", "llm-chat") is None  # no context told
    assert of("prod-c", None, "llm-chat") is None


def gpu(i, cluster, model, namespace="serving", price=4.0):
    return GpuDevice(node=f"n-{cluster}", index=i, cluster=cluster, model=model,
                     pod=f"{model}-{i}", namespace=namespace, hourly_cost=price,
                     util_percent=50.0)


def test_rows_priced_by_service_and_shown_per_service():
    gpus = (gpu(0, "prod-a", "llm-chat"), gpu(1, "prod-a", "llm-chat"),
            gpu(0, "prod-b", "llm-chat", price=2.0), gpu(1, "prod-a", "embed", price=1.0))
    priced = priced_gpus(gpus, 10.0, service_resolver((A, B, SOLO)))
    assert priced.by_model == {"llm-chat": 10.0, "embed": 1.0}
    assert priced.by_service == {A.key: 8.0, B.key: 2.0, SOLO.key: 1.0}
    assert priced_gpus(gpus, 10.0).by_service == {}  # no contexts told: by name only
    cost = CostBurn(hourly=11.0, by_model=priced.by_model, by_service=priced.by_service)
    snap = FleetSnapshot(taken_at=AT, context="all", services=(A, B, SOLO), gpus=gpus,
                         cost=cost)
    money = {r.key: r.cells[-1][0] for r in rows_from_snapshot(snap)}
    assert money == {A.key: "$8.00", B.key: "$2.00", SOLO.key: "$1.00"}
    # no per-service figure: a shared name shows none rather than the sum
    blind = snap.model_copy(update={"cost": CostBurn(hourly=11.0, by_model=priced.by_model)})
    money = {r.key: r.cells[-1][0] for r in rows_from_snapshot(blind)}
    assert money[A.key] == money[B.key] == "—" and money[SOLO.key] == "$1.00"
    # one context's share: its services' own $/h, by name
    share = cost_share(cost, gpus[:2] + gpus[3:], {"llm-chat", "embed"}, (A, SOLO))
    assert share.by_model == {"llm-chat": 8.0, "embed": 1.0}
    assert share.by_service == {A.key: 8.0, SOLO.key: 1.0}
    assert share.hourly == 9.0


def test_a_shared_names_unit_cost_is_over_all_its_services():
    from backends.domain.models import HealthSample
    from console.presenters.cost import cost_rows

    def h(model, rps, tok):
        return HealthSample(model=model, at=AT, rps=rps, tokens_per_s=tok)

    cost = CostBurn(hourly=12.0, by_model={"llm-chat": 10.0, "embed": 2.0},
                    by_service={A.key: 8.0, B.key: 2.0, SOLO.key: 2.0})
    snap = FleetSnapshot(
        taken_at=AT, context="all", services=(A, B, SOLO), cost=cost,
        health={"llm-chat": h("llm-chat", 1.0, 100.0), "embed": h("embed", 5.0, None)},
        service_health={A.key: h("llm-chat", 1.0, 100.0), B.key: h("llm-chat", 3.0, 400.0),
                        SOLO.key: h("embed", 5.0, None)})
    rows = {r[0]: r for r in cost_rows(snap, None, 10.0).models.rows}
    # $10/h over 500 tokens/s (both contexts), not over the 100 of one of them
    assert rows["llm-chat"][4] == f"${10.0 / (500 * 3.6):.4f}/1k tok"
    assert rows["embed"][4] == f"${2.0 / (5 * 3.6):.4f}/1k req"
    # one service of the name not measured: no unit cost rather than a wrong one
    partial = snap.model_copy(update={"service_health": {A.key: h("llm-chat", 1.0, 100.0)}})
    assert cost_rows(partial, None, 10.0).models.rows[0][4] == "—"
