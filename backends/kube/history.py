"""From cache snapshots to one cluster's part: model services, release history, GPUs.

Pure functions over the slim records (no I/O), so they are unit-tested on plain data. Each
kind in ``kube.kinds.KINDS`` reads its own services and history; this module joins them
with the pods (GPUs held, through ReplicaSets or KServe's pod label) and the nodes.
Missing data stays ``None`` (a pod cache that is not synced gives ``gpus=None``, not 0).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from backends.domain.models import GpuDevice, ModelService, Revision
from backends.domain.sources import ClusterPart
from backends.kube.config import KubernetesConfig
from backends.kube.kinds import KINDS
from backends.kube.kinds.base import DONE_PHASES, ReadContext
from backends.kube.slim import NodeRec, PodRec, ReplicaSetRec


@dataclass
class Inputs:
    """One consistent view of the caches (each value a read-only mapping, or None when
    that kind is not followed / not synced)."""

    context: str
    namespace: str | None
    replicasets: Mapping[str, ReplicaSetRec] | None = None
    pods: Mapping[str, PodRec] | None = None
    nodes: Mapping[str, NodeRec] | None = None
    #: the kinds' caches by name (``Kind.PLURAL`` and any other cache a kind follows)
    objects: Mapping[str, Mapping[str, Any] | None] = field(default_factory=dict)
    config: KubernetesConfig = field(default_factory=KubernetesConfig)


class _Owners:
    """Pod -> owning service key via ReplicaSets (Deployments, Rollouts) or KServe label."""

    def __init__(self, inp: Inputs):
        self.rs_owner = {rs.meta.uid: (rs.owner_kind, rs.owner_uid)
                         for rs in (inp.replicasets or {}).values()}
        self.by_uid: dict[str, str] = {}
        self.labelled: dict[tuple[str | None, str], str] = {}  # (namespace, name) -> key
        self.lws: dict[tuple[str | None, str], str] = {}  # likewise, by the LWS pod label
        # a followed object's uid -> its controller's uid (a workload another kind
        # made, e.g. KServe's): a pod counts for the model that owns its owner
        self.parent: dict[str, str] = {}
        for recs in inp.objects.values():
            for rec in (recs or {}).values():
                up = getattr(rec, "owner_uid", None)
                uid = getattr(getattr(rec, "meta", None), "uid", None)
                if up and uid:
                    self.parent[uid] = up

    def owner_key(self, pod: PodRec) -> str | None:
        if pod.isvc:
            return self.labelled.get((pod.namespace, pod.isvc))
        if pod.lws:
            return self.lws.get((pod.namespace, pod.lws))
        uid = pod.owner_uid
        if pod.owner_kind == "ReplicaSet":
            uid = self.rs_owner.get(uid, (None, None))[1]
        for _ in range(4):  # up the controller chain to a model (a few hops at most)
            if not uid or uid in self.by_uid:
                break
            uid = self.parent.get(uid)
        return self.by_uid.get(uid) if uid else None


def build_part(inp: Inputs) -> ClusterPart:
    """The ClusterPart of one cluster: services sorted by namespace/name, history newest
    first, GPUs allocated from pods on nodes."""
    owners = _Owners(inp)
    rs_by_owner: dict[str, list[ReplicaSetRec]] = defaultdict(list)
    for rs in (inp.replicasets or {}).values():
        if rs.owner_uid:
            rs_by_owner[rs.owner_uid].append(rs)
    ctx = ReadContext(context=inp.context, config=inp.config, snapshots=inp.objects,
                      replicasets_by_owner=rs_by_owner, pods=inp.pods)
    services: list[ModelService] = []
    revisions: dict[str, tuple[Revision, ...]] = {}
    for kind in KINDS.values():
        for found in kind.read(ctx):
            svc = found.service
            services.append(svc)
            revisions[svc.key] = found.revisions
            if found.owner_uid:
                owners.by_uid[found.owner_uid] = svc.key
            if found.labelled_pods:
                owners.labelled[(svc.namespace, svc.name)] = svc.key
            if found.lws_pods:
                owners.lws[(svc.namespace, svc.name)] = svc.key

    gpus_by_key: dict[str, int] = defaultdict(int)
    if inp.pods is not None:
        for p in inp.pods.values():
            if p.gpus and p.phase not in DONE_PHASES:
                key = owners.owner_key(p)
                if key:
                    gpus_by_key[key] += p.gpus
        services = [s.model_copy(update={"gpus": gpus_by_key.get(s.key, 0)}) for s in services]
    services.sort(key=lambda s: (s.namespace, s.name, s.kind.value))
    names = {s.key: s.name for s in services}
    return ClusterPart(context=inp.context, namespace=inp.namespace, services=tuple(services),
                       revisions=revisions, gpus=allocate_gpus(inp, owners, names))


def allocate_gpus(inp: Inputs, owners: _Owners, names: dict[str, str]) -> tuple[GpuDevice, ...]:
    """One GpuDevice per GPU a node advertises; pods' requests fill them in name order.
    Without the node list (e.g. not allowed), only allocated GPUs are known."""
    if inp.pods is None:
        return ()
    by_node: dict[str, list[PodRec]] = defaultdict(list)
    for p in inp.pods.values():
        if p.gpus and p.node and p.phase not in DONE_PHASES:
            by_node[p.node].append(p)
    nodes = inp.nodes or {}
    devices: list[GpuDevice] = []
    node_names = set(by_node)
    for n in nodes.values():
        if (n.gpu_capacity or 0) > 0 or n.product:
            node_names.add(n.name)
    for node in sorted(node_names):
        rec = nodes.get(node)
        slots: list[PodRec] = []
        for p in sorted(by_node.get(node, []), key=lambda p: (p.namespace or "", p.name)):
            slots.extend([p] * p.gpus)
        total = rec.gpu_capacity if rec is not None and rec.gpu_capacity is not None else len(slots)
        for idx in range(max(total, 0)):
            pod = slots[idx] if idx < len(slots) else None
            key = owners.owner_key(pod) if pod else None
            devices.append(GpuDevice(
                node=node, index=idx, model_name=rec.product if rec else None,
                memory_total_mib=rec.memory_mib if rec else None,
                pod=pod.name if pod else None, namespace=pod.namespace if pod else None,
                model=names.get(key) if key else None, cluster=inp.context))
    return tuple(devices)
