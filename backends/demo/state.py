"""Mutable release state of the demo fleet (revisions, traffic legs, rollouts), under a lock.

Semantics follow the real systems (DESIGN.md "Release semantics"):

* Deployment / Argo Rollout rollback = ``kubectl rollout undo``: the target's ReplicaSet is
  reused and becomes revision ``max + 1`` (its old number leaves the history); the pods roll
  over ``ROLLOUT_S`` seconds of clock time. A Rollout's canary is dropped.
* KServe rollback = ``canaryTrafficPercent: 0``: traffic pins to the previous rolled-out
  revision; promote removes the field and the latest revision takes 100 %.
* Promote on a canary (KServe or Rollout) moves 100 % of traffic to the canary revision.

Every change is appended to a per-service timeline so metrics at a past instant see the
traffic split in effect then.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

from backends.demo.catalog import Catalog, RevSpec, ServiceSpec, pod_name
from backends.domain.models import ServiceKind

ROLLOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class Leg:
    """One traffic leg: revision (spec) and share of traffic, as of some instant."""

    rev: RevSpec
    percent: float
    role: str  # "stable" | "canary"


@dataclass(slots=True)
class SvcState:
    """Release state of one service. Mutated only under :attr:`DemoState.lock`."""

    spec: ServiceSpec
    history: dict[int, RevSpec]
    current: int  # template revision (Deployment/Rollout) / latest revision (KServe)
    stable: int | None  # stable leg when split; KServe: previousRolledoutRevision
    canary_percent: float | None
    paused: bool
    canary_since: float | None = None
    rollout: tuple[float, float] | None = None  # (start ts, duration s)
    timeline: list[tuple[float, tuple[Leg, ...]]] = field(default_factory=list)
    gen: int = 0
    annotations: dict[str, str] = field(default_factory=dict)  # pitboard.io/* on the object

    @property
    def kind(self) -> ServiceKind:
        return self.spec.kind

    def legs(self) -> tuple[Leg, ...]:
        cur = self.history[self.current]
        if self.canary_percent is None or self.stable is None:
            return (Leg(cur, 100.0, "stable"),)
        stable = self.history[self.stable]
        p = self.canary_percent
        return (Leg(stable, 100.0 - p, "stable"), Leg(cur, p, "canary"))

    def legs_at(self, ts: float) -> tuple[Leg, ...]:
        """The traffic split in effect at POSIX time ``ts``."""
        tl = self.timeline
        for since, legs in reversed(tl):
            if since <= ts:
                return legs
        return tl[0][1]

    def previous_number(self) -> int | None:
        """kubectl's default rollback target: the second-highest revision."""
        nums = sorted(self.history)
        return nums[-2] if len(nums) > 1 else None

    def rollout_fraction(self, now: float) -> float | None:
        """0..1 while a rollout runs at ``now``; None when none is in flight."""
        if self.rollout is None:
            return None
        start, dur = self.rollout
        if now < start:
            return 0.0
        frac = (now - start) / dur
        return None if frac >= 1.0 else frac

    def ready(self, now: float) -> int:
        frac = self.rollout_fraction(now)
        desired = self.spec.replicas
        return desired if frac is None else int(math.floor(desired * frac))

    def updated(self, now: float) -> int:
        frac = self.rollout_fraction(now)
        desired = self.spec.replicas
        return desired if frac is None else min(desired, max(1, math.ceil(desired * frac)))


class DemoState:
    """All services' release state plus a global generation counter for caches."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.lock = threading.RLock()
        self.gen = 0
        self.services: list[SvcState] = []
        for s in catalog.services:
            st = SvcState(
                spec=s, history={r.number: r for r in s.history}, current=s.history[-1].number,
                stable=s.stable if (s.canary_percent is not None
                                    or s.kind == ServiceKind.INFERENCE_SERVICE) else None,
                canary_percent=s.canary_percent, paused=s.paused,
                canary_since=s.history[-1].created_ts if s.canary_percent is not None
                else None,
            )
            st.timeline.append((float("-inf"), st.legs()))
            self.services.append(st)
        self.by_name = {st.spec.name: st for st in self.services}
        self._pods: tuple[int, list[str | None]] | None = None

    def gpu_pods(self) -> list[str | None]:
        """Pod name holding each GPU slot; pods of a changed service follow its current
        template (new ReplicaSet hash). Cached per generation; caller holds the lock."""
        if self._pods is not None and self._pods[0] == self.gen:
            return self._pods[1]
        cat = self.catalog
        out: list[str | None] = []
        ordinal: dict[int | None, int] = {}
        for g in cat.gpus:
            st = self.services[g.service] if g.service is not None else None
            pod = g.pod
            if st is not None and st.gen:
                n = ordinal.get(g.service, 0)
                ordinal[g.service] = n + 1
                per = max(1, st.spec.gpus_per_replica)
                pod = pod_name(cat.seed, st.spec.name, st.history[st.current].template, n // per)
            out.append(pod)
        self._pods = (self.gen, out)
        return out

    def get(self, name: str) -> SvcState | None:
        return self.by_name.get(name)

    def touch(self, st: SvcState, now: float) -> None:
        """Record a change to ``st`` made at ``now`` (caller holds the lock)."""
        st.gen += 1
        self.gen += 1
        st.timeline.append((now, st.legs()))

    # -- the three mutations (caller holds the lock and has checked preconditions) --

    def rollback_template(self, st: SvcState, target: int, now: float) -> int:
        """Deployment/Rollout: reuse ``target``'s ReplicaSet as revision max+1."""
        old = st.history.pop(target)
        new_no = max([*st.history, target]) + 1
        st.history[new_no] = RevSpec(
            number=new_no, version=old.version, image=old.image, created_ts=now,
            change_cause=old.change_cause, who=old.who, err_mult=old.err_mult,
            lat_mult=old.lat_mult,
        )
        st.current = new_no
        st.stable = None
        st.canary_percent = None
        st.canary_since = None
        st.rollout = (now, ROLLOUT_S)
        self.touch(st, now)
        return new_no

    def pin_previous(self, st: SvcState, now: float) -> None:
        """KServe: canaryTrafficPercent 0 -> previous rolled-out revision takes 100 %."""
        st.canary_percent = 0.0
        self.touch(st, now)

    def promote(self, st: SvcState, now: float) -> None:
        """Canary takes 100 %; KServe remembers the old stable as previousRolledoutRevision."""
        old_stable = st.stable
        st.canary_percent = None
        st.canary_since = None
        st.stable = old_stable if st.kind == ServiceKind.INFERENCE_SERVICE else None
        st.rollout = (now, ROLLOUT_S)
        self.touch(st, now)

    def set_canary(self, st: SvcState, percent: float, now: float) -> None:
        """Argo retry: the aborted canary takes ``percent`` again."""
        st.canary_percent = percent
        st.canary_since = now
        self.touch(st, now)

    def truncate_history(self, name: str, keep: int) -> None:
        """Keep only the newest ``keep`` revisions of ``name`` as if that were always its
        history (for tests and what-ifs)."""
        with self.lock:
            st = self.by_name[name]
            for n in sorted(st.history)[:-keep]:
                if n != st.current:
                    del st.history[n]
            if st.stable is not None and st.stable not in st.history:
                st.stable, st.canary_percent, st.canary_since = None, None, None
            st.gen += 1
            self.gen += 1
            st.timeline = [(float("-inf"), st.legs())]
