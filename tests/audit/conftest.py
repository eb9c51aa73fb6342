"""Fixtures of the audit/action tests: a store, the demo fleet with a frozen clock, a fake
cluster, and a runner wired to advance the frozen clock instead of sleeping."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from backends.domain.actions import (ActionPlan, ActionRequest, ActionResult, ActionStatus, Change,
                              Check, CheckStatus, RolloutProgress)
from backends.actions.config import ActionsConfig
from backends.audit.store import SqliteAudit
from backends.domain.sources import ClusterBackend, ClusterPart
from backends.actions.guard import ActionRunner
from backends.domain.models import FleetSnapshot

T0 = datetime(2026, 11, 21, 14, 0, tzinfo=timezone.utc)
ALICE = "alice@laptop k8s:alice@example.com"
BOB = "bob@desk k8s:bob@example.com"
LLM = "demo/ml-serving/Deployment/llm-chat"
RERANKER = "demo/ml-serving/Rollout/reranker"
RECOMMENDER = "demo/ml-serving/InferenceService/recommender"
FAKE_KEY = "fake/ns/Deployment/m"


class FakeCluster(ClusterBackend):
    """A tiny cluster: records calls, raises ``error`` or returns ``result`` on execute,
    and reports ``progress`` items in turn (then done)."""

    context = "fake"
    namespace = "ns"

    def __init__(self, *, error: BaseException | None = None,
                 result: ActionResult | None = None,
                 progress: list[RolloutProgress] | None = None,
                 never_done: bool = False) -> None:
        self.calls: list[str] = []
        self.error = error
        self.result = result or ActionResult(status=ActionStatus.SUCCEEDED, message="patched")
        self._progress = list(progress or [])
        self.never_done = never_done

    def read(self) -> ClusterPart:
        self.calls.append("read")
        return ClusterPart(context="fake")

    def plan(self, request: ActionRequest) -> ActionPlan:
        self.calls.append("plan")
        return ActionPlan(request=request, context="fake", namespace="ns",
                          object_ref="deployment/m",
                          changes=(Change(field="revision", before="3", after="4"),),
                          checks=(Check(name="RBAC", status=CheckStatus.PASSED),))

    def execute(self, request: ActionRequest) -> ActionResult:
        self.calls.append("execute")
        if self.error is not None:
            raise self.error
        return self.result

    def progress(self, service_key: str) -> RolloutProgress:
        self.calls.append("progress")
        if self._progress:
            return self._progress.pop(0)
        if self.never_done:
            return RolloutProgress(done=False, phase="progressing", message="waiting")
        return RolloutProgress(done=True, phase="complete", ready=2, desired=2,
                               message="rolled out")


class SpyCluster(ClusterBackend):
    """Delegates to another cluster backend and records every call made to it."""

    def __init__(self, inner: ClusterBackend) -> None:
        self.inner = inner
        self.context = inner.context
        self.namespace = inner.namespace
        self.read_only = inner.read_only
        self.calls: list[str] = []

    def read(self):
        self.calls.append("read")
        return self.inner.read()

    def plan(self, request):
        self.calls.append("plan")
        return self.inner.plan(request)

    def execute(self, request):
        self.calls.append("execute")
        return self.inner.execute(request)

    def progress(self, service_key):
        self.calls.append("progress")
        return self.inner.progress(service_key)


def snapshot_of(fleet) -> FleetSnapshot:
    """One refresh of the demo fleet, as the console would build it."""
    cp = fleet.cluster.read()
    mp = fleet.metrics.read(cp.services, 300)
    return FleetSnapshot(taken_at=fleet.clock(), context=cp.context, namespace=cp.namespace,
                         services=cp.services, revisions=cp.revisions, gpus=mp.gpus,
                         health=mp.health, revision_health=mp.revision_health)


def clock_runner(cluster: ClusterBackend, audit: SqliteAudit, clock,
                 **kw) -> ActionRunner:
    """A runner whose sleeps advance the frozen clock (no real waiting)."""
    return ActionRunner(cluster, audit, clock, sleep=clock.advance,
                        monotonic=lambda: clock().timestamp(), **kw)


class StepClock:
    """A frozen clock moved by hand (same API as ``backends.demo.fleet.FrozenClock``)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> datetime:
        self.at += timedelta(seconds=seconds)
        return self.at


@pytest.fixture
def clock(request):
    """The demo's FrozenClock for tests using the demo fleet; a StepClock for the rest, so
    the store tests do not depend on the demo."""
    if "fleet" in request.fixturenames:
        from backends.demo.fleet import FrozenClock

        return FrozenClock(T0)
    return StepClock(T0)


@pytest.fixture
def audit(tmp_path, clock) -> Iterator[SqliteAudit]:
    store = SqliteAudit(tmp_path / "audit.db", clock=clock)
    yield store
    store.close()


@pytest.fixture
def fleet(clock):
    from backends.demo.fleet import make_demo

    return make_demo(seed=7, clock=clock)


@pytest.fixture
def config() -> ActionsConfig:
    return ActionsConfig()
