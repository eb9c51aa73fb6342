"""Read-only 'cluster' discovered from serving metrics, for Prometheus-only consoles."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from backends.domain.actions import ActionPlan, ActionRequest, ActionResult, RolloutProgress
from backends.domain.sources import ClusterBackend, ClusterPart
from backends.domain.errors import ActionRefused
from backends.domain.models import ModelService, Revision, ServiceKind
from backends.prometheus.assemble import apply_model_regex
from backends.prometheus.calc import first_label
from backends.prometheus.client import PromClient, Sample
from backends.prometheus.config import PrometheusConfig
from backends.prometheus.profiles import render

REFUSAL = ("read-only: models were discovered from Prometheus metrics; pitboard has no "
           "cluster access to act on them (start with --context to use Kubernetes)")
_REV_NUM = re.compile(r"(\d+)$")
NO_TRAFFIC = "no cluster source: traffic not measured"


class ServingQueries(Protocol):
    """What discovery needs of the metrics backend (``PrometheusMetrics``): its client,
    its profile probe and its concurrent query runner."""

    client: PromClient

    @property
    def active_profiles(self) -> tuple[str, ...]: ...

    def ensure_probed(self, at: datetime | None) -> None: ...

    def run_all(self, plan: list[tuple[str, str, str]], call: Callable[[str], list[Sample]]
                ) -> dict[tuple[str, str], list]: ...


class PrometheusDiscovery(ClusterBackend):
    """Model services found in the serving metrics' labels (vLLM, Triton, KServe, HTTP).

    One query per active serving profile. ``plan``/``execute`` refuse: nothing to act on.
    ``metrics`` is the ``PrometheusMetrics`` in use: discovery shares its connection and
    probe (and leaves closing it to its owner)."""

    read_only = True

    def __init__(self, config: PrometheusConfig, metrics: ServingQueries):
        self.metrics = metrics
        self.config = config
        self.context = config.context_name
        self.namespace = None

    def read(self) -> ClusterPart:
        """Services (and revisions from revision labels) seen in the serving metrics."""
        m = self.metrics
        m.client.prepare()
        m.ensure_probed(None)
        plan = []
        for name in m.active_profiles:
            profile = self.config.profiles[name]
            if profile.kind == "serving" and profile.queries.get("discover"):
                plan.append((name, "discover", render(profile.queries["discover"], profile,
                                                      cluster_label=self.config.cluster_label)))
        results = m.run_all(plan, m.client.query)
        label = self.config.cluster_label
        services: dict[tuple[str, str, str], ModelService] = {}
        revisions: dict[str, set[str]] = {}
        for (pname, _k), samples in results.items():
            profile = self.config.profiles[pname]
            for s in samples:
                raw = s.labels.get(profile.model_label or "")
                if not raw:
                    continue
                name = apply_model_regex(profile, raw)
                ns = first_label(s.labels, profile.namespace_labels) or ""
                kind = ServiceKind.INFERENCE_SERVICE if profile.runtime == "kserve" \
                    else ServiceKind.DEPLOYMENT
                # with a cluster label, each cluster's models are its own rows
                cluster = (s.labels.get(label) if label else None) or self.context
                svc = services.get((cluster, ns, name))
                if svc is None:
                    svc = ModelService(name=name, namespace=ns, cluster=cluster,
                                       kind=kind, runtime=profile.runtime or pname,
                                       traffic_note=NO_TRAFFIC)
                    services[(cluster, ns, name)] = svc
                rev = s.labels.get(profile.revision_label) if profile.revision_label else None
                if rev:
                    revisions.setdefault(svc.key, set()).add(rev)
        hist = {key: _revisions(revs) for key, revs in revisions.items()}
        ordered = tuple(sorted(services.values(), key=lambda s: (s.cluster, s.namespace, s.name)))
        return ClusterPart(context=self.context, services=ordered, revisions=hist)

    def plan(self, request: ActionRequest) -> ActionPlan:
        raise ActionRefused(REFUSAL, source="prometheus")

    def execute(self, request: ActionRequest) -> ActionResult:
        raise ActionRefused(REFUSAL, source="prometheus")

    def progress(self, service_key: str) -> RolloutProgress:
        return RolloutProgress(done=True, phase="unknown", message="no cluster access")

    def close(self) -> None:
        """Nothing of its own to release: the metrics backend it reads is closed by its owner."""


def _revisions(names: set[str]) -> tuple[Revision, ...]:
    """Revision labels -> history, newest (highest number) first."""
    out = []
    for i, rev in enumerate(sorted(names, key=_rev_sort)):
        m = _REV_NUM.search(rev)
        out.append(Revision(number=int(m.group(1)) if m else i + 1, version=rev))
    out.sort(key=lambda r: r.number, reverse=True)
    return tuple(out)


def _rev_sort(rev: str):
    m = _REV_NUM.search(rev)
    return (int(m.group(1)) if m else -1, rev)

