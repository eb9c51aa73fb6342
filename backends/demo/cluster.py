"""The demo fleet's cluster backend: services, histories, GPU allocation and actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from datetime import datetime

from backends.domain.sources import ClusterBackend, ClusterPart
from backends.demo.catalog import CONTEXT, NAMESPACE
from backends.demo.sim import to_dt
from backends.demo.actions import decide, leg_name, split_text
from backends.demo.state import DemoState, SvcState
from backends.domain.errors import ActionRefused, NotFoundError
from backends.domain.models import (
    GpuDevice,
    ModelService,
    Revision,
    TrafficTarget,
    fast_constructor,
)

# The action models and the approvals' annotation format are read by the actions (a key
# press, after the first frame): imported there, so building the demo at start does not
# load them (~16 ms on 2 cores).
if TYPE_CHECKING:
    from backends.domain.actions import ActionPlan, ActionRequest, ActionResult, RolloutProgress

SOURCE = "demo"
# Trusted constructors (no validation, no pydantic schema built): the demo makes these
# values itself, of the right types (tests/demo/test_trusted_parts.py holds them equal to
# the validated models)
_new_gpu = fast_constructor(GpuDevice)
_new_leg = fast_constructor(TrafficTarget)
_new_service = fast_constructor(ModelService)
_new_revision = fast_constructor(Revision)
_new_part = fast_constructor(ClusterPart)


class DemoCluster(ClusterBackend):
    """Simulated cluster: context ``demo``, namespace ``ml-serving``. Thread-safe."""

    simulated = True  # local identities may approve on the demo

    def __init__(self, state: DemoState, clock: Callable[[], datetime], read_only: bool = False):
        self.state = state
        self.clock = clock
        self.context = CONTEXT
        self.namespace = NAMESPACE
        self.read_only = read_only
        self.server = "embedded demo fleet"  # what :ctx shows as its API server
        self._svc_cache: dict[str, tuple[tuple, ModelService, tuple[Revision, ...]]] = {}
        self._gpu_cache: tuple[int, tuple[GpuDevice, ...]] | None = None
        self._by_key = {self._key(st): st for st in state.services}

    @staticmethod
    def _key(st: SvcState) -> str:
        return f"{CONTEXT}/{NAMESPACE}/{st.kind.value}/{st.spec.name}"

    # ------------------------------------------------------------------ read
    def read(self) -> ClusterPart:
        """Services (catalogue order), histories newest first, GPU allocation."""
        now = self.clock().timestamp()
        with self.state.lock:
            services, revisions = [], {}
            for st in self.state.services:
                svc, revs = self._service(st, now)
                services.append(svc)
                revisions[svc.key] = revs
            gpus = self._gpus()
        return _new_part(context=CONTEXT, namespace=NAMESPACE, services=tuple(services),
                         revisions=revisions, gpus=gpus)

    def _service(self, st: SvcState, now: float) -> tuple[ModelService, tuple[Revision, ...]]:
        ready = st.ready(now)
        rolling = st.rollout_fraction(now) is not None
        stamp = (st.gen, ready, rolling, tuple(st.annotations.items()))
        hit = self._svc_cache.get(st.spec.name)
        if hit is not None and hit[0] == stamp:
            return hit[1], hit[2]
        spec, cur = st.spec, st.history[st.current]
        legs = st.legs()
        traffic = tuple(_new_leg(revision=leg_name(st, lg.rev.number), percent=lg.percent,
                                 role=lg.role, version=lg.rev.version) for lg in legs)
        svc = _new_service(
            name=spec.name, namespace=NAMESPACE, cluster=CONTEXT, kind=spec.kind,
            version=cur.version, image=cur.image, replicas_desired=spec.replicas,
            replicas_ready=ready, traffic=traffic, gpus=spec.allocated, runtime=spec.runtime,
            rollout_in_progress=rolling, paused=st.paused,
            labels={"pitboard.io/model": spec.name, "app.kubernetes.io/name": spec.name,
                    "app.kubernetes.io/version": cur.version, "team": spec.team},
            annotations=dict(st.annotations),
        )
        pct = {lg.rev.number: lg.percent for lg in legs}
        revs = tuple(
            _new_revision(number=r.number, version=r.version, image=r.image,
                          created=to_dt(r.created_ts), change_cause=r.change_cause, who=r.who,
                          current=(r.number == st.current), traffic_percent=pct.get(r.number))
            for r in sorted(st.history.values(), key=lambda r: r.number, reverse=True)
        )
        self._svc_cache[spec.name] = (stamp, svc, revs)
        return svc, revs

    def _gpus(self) -> tuple[GpuDevice, ...]:
        if self._gpu_cache is not None and self._gpu_cache[0] == self.state.gen:
            return self._gpu_cache[1]
        out = []
        for g, pod in zip(self.state.catalog.gpus, self.state.gpu_pods()):
            st = self.state.services[g.service] if g.service is not None else None
            out.append(_new_gpu(
                node=g.node, index=g.index, uuid=g.uuid, model_name=g.gtype.model_name,
                memory_total_mib=g.gtype.memory_mib, pod=pod,
                namespace=NAMESPACE if st is not None else None,
                model=st.spec.name if st is not None else None,
                hourly_cost=g.gtype.price_per_hour, util_percent=None, memory_used_mib=None,
                power_watts=None, temperature_c=None, last_xid=None))
        self._gpu_cache = (self.state.gen, tuple(out))
        return self._gpu_cache[1]

    # ------------------------------------------------------------------ actions
    def _lookup(self, key: str) -> SvcState | None:
        return self._by_key.get(key)

    def plan(self, request: ActionRequest) -> ActionPlan:
        """Diff and preflight checks; never mutates. Refusals show as failed checks."""
        from backends.domain.actions import (ActionPlan, Check,  # noqa: PLC0415 - after frame 1
                                             CheckStatus)

        now = self.clock().timestamp()
        with self.state.lock:
            st = self._lookup(request.service_key)
            parts = request.service_key.split("/", 3)
            name = parts[-1]
            kind = st.kind.value if st else (parts[2] if len(parts) == 4 else "object")
            ref = f"{kind.lower()}/{name}"
            ok, fail = CheckStatus.PASSED, CheckStatus.FAILED
            checks = [Check(name="writable context", status=fail if self.read_only else ok,
                            reason="context 'demo' is read-only" if self.read_only
                            else "context is writable")]
            checks.append(Check(name="RBAC", status=ok, reason="allowed (demo)"))
            if st is None:
                checks.append(Check(name="target exists", status=fail,
                                    reason=f"{ref} not found in namespace {NAMESPACE}"))
                return ActionPlan(request=request, context=CONTEXT, namespace=NAMESPACE,
                                  object_ref=ref, checks=tuple(checks))
            checks.append(Check(name="target exists", status=ok, reason=f"{ref} found"))
            frac = st.rollout_fraction(now)
            checks.append(Check(
                name="no rollout in flight", status=ok if frac is None else fail,
                reason="no rollout in flight" if frac is None else
                f"rollout in flight ({st.ready(now)}/{st.spec.replicas} ready)",
                overridable=True))
            d = decide(self.state, st, request)
            if d.refusal:
                checks.append(Check(name="preconditions", status=fail, reason=d.refusal))
            checks.append(Check(name="dry run", status=ok if not d.refusal else
                                CheckStatus.UNKNOWN,
                                reason="ok (demo)" if not d.refusal else "not attempted"))
            return ActionPlan(request=request, context=CONTEXT, namespace=NAMESPACE,
                              object_ref=ref, changes=d.changes, checks=tuple(checks),
                              noop=d.noop is not None, noop_reason=d.noop or "")

    def execute(self, request: ActionRequest) -> ActionResult:
        """Apply the action to the simulated state. Raises ActionRefused / NotFoundError."""
        from backends.domain.actions import ActionResult, ActionStatus  # noqa: PLC0415 - after frame 1

        if self.read_only:
            raise ActionRefused("context 'demo' is read-only: no mutating action is sent",
                                source=SOURCE)
        now = self.clock().timestamp()
        with self.state.lock:
            st = self._lookup(request.service_key)
            if st is None:
                raise NotFoundError(f"{request.service_key} not found", source=SOURCE,
                                    status=404)
            d = decide(self.state, st, request)
            if d.refusal:
                raise ActionRefused(d.refusal, source=SOURCE)
            if d.noop is not None:
                return ActionResult(status=ActionStatus.SKIPPED, message=d.noop)
            if st.rollout_fraction(now) is not None and not request.override:
                raise ActionRefused(f"a rollout of {st.spec.name} is in flight; wait for it "
                                    "or override", source=SOURCE)
            assert d.apply is not None
            message = d.apply(now)
            detail = {"revision": st.current, "traffic": split_text(st, st.legs())}
            return ActionResult(status=ActionStatus.SUCCEEDED, message=message, detail=detail)

    def annotate_approval(self, service_key: str, approver: str, reason: str, at: datetime,
                          *, canary: str | None = None) -> str:
        """Append the approval to the simulated object's ``pitboard.io/approvals``
        annotation (shown by ``read()`` in ``ModelService.annotations``)."""
        from backends.actions.approvals import (  # noqa: PLC0415 - after frame 1
            APPROVALS, approval_record, object_target, parse_approvals, with_approval)

        if self.read_only:
            raise ActionRefused("context 'demo' is read-only: the approval annotation was "
                                "not written", source=SOURCE)
        with self.state.lock:
            st = self._lookup(service_key)
            if st is None:
                raise NotFoundError(f"{service_key} not found", source=SOURCE, status=404)
            ref = f"{st.kind.value.lower()}/{st.spec.name}"
            current = parse_approvals(st.annotations.get(APPROVALS), ref, source=SOURCE)
            st.annotations[APPROVALS] = with_approval(
                current, approval_record(approver, reason, at, canary, target=object_target(
                    NAMESPACE, st.kind.value, st.spec.name)))
        return ref

    def approvals_annotation(self, service_key: str) -> str | None:
        """The simulated object's ``pitboard.io/approvals`` annotation now."""
        from backends.actions.approvals import APPROVALS  # noqa: PLC0415 - after frame 1

        with self.state.lock:
            st = self._lookup(service_key)
            if st is None:
                raise NotFoundError(f"{service_key} not found", source=SOURCE, status=404)
            return st.annotations.get(APPROVALS)

    def progress(self, service_key: str) -> RolloutProgress:
        """Rollout progress at the clock's now; ``done`` once every replica is updated."""
        from backends.domain.actions import RolloutProgress  # noqa: PLC0415 - after frame 1

        now = self.clock().timestamp()
        with self.state.lock:
            st = self._lookup(service_key)
            if st is None:
                raise NotFoundError(f"{service_key} not found", source=SOURCE, status=404)
            desired, ready, updated = st.spec.replicas, st.ready(now), st.updated(now)
            if st.rollout_fraction(now) is None:
                return RolloutProgress(done=True, ready=ready, desired=desired, updated=updated,
                                       available=ready, phase="complete",
                                       message=f"{st.kind.value} {st.spec.name} successfully "
                                               f"rolled out ({ready}/{desired} ready)")
            return RolloutProgress(done=False, ready=ready, desired=desired, updated=updated,
                                   available=ready, phase="progressing",
                                   message=f"Waiting for rollout to finish: {ready} of "
                                           f"{desired} updated replicas are available")
