"""From cache snapshots to domain models: model services, release history, traffic, GPUs.

Pure functions over the slim records of ``kube_slim`` (no I/O), so they are unit-tested on
plain data. Missing data stays ``None`` (a pod cache that is not synced gives ``gpus=None``,
not 0).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from backends.domain.sources import ClusterPart
from backends.domain.models import GpuDevice, ModelService, Revision, ServiceKind, TrafficTarget
from backends.kube.slim import (
    DeploymentRec,
    InferenceServiceRec,
    NodeRec,
    PodRec,
    ReplicaSetRec,
    RolloutRec,
    parse_int,
)

VERSION_LABEL = "app.kubernetes.io/version"
ARGO_HASH = "rollouts-pod-template-hash"
_DONE = {"Succeeded", "Failed"}


@dataclass
class Inputs:
    """One consistent view of the caches (each value a read-only mapping, or None when
    that kind is not followed / not synced)."""

    context: str
    namespace: str | None
    deployments: Mapping[str, DeploymentRec] | None = None
    replicasets: Mapping[str, ReplicaSetRec] | None = None
    pods: Mapping[str, PodRec] | None = None
    nodes: Mapping[str, NodeRec] | None = None
    isvcs: Mapping[str, InferenceServiceRec] | None = None
    rollouts: Mapping[str, RolloutRec] | None = None
    rollout_label: str | None = None
    extra: dict = field(default_factory=dict)


def image_tag(image: str | None) -> str | None:
    """``repo/name:tag`` -> ``tag`` (digests and untagged images -> None)."""
    if not image or "@" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


def detect_runtime(images: tuple[str, ...], hint: str | None = None) -> str | None:
    """vllm | triton | tgi | kserve ... from the images or the KServe runtime/model format."""
    text = " ".join(images).lower() + " " + (hint or "").lower()
    for needle, runtime in (("vllm", "vllm"), ("triton", "triton"),
                            ("text-generation-inference", "tgi"), ("tgi", "tgi"),
                            ("torchserve", "torchserve"), ("sglang", "sglang")):
        if needle in text:
            return runtime
    return None


def _who(last_action: str | None) -> str | None:
    if not last_action:
        return None
    try:
        doc = json.loads(last_action)
    except ValueError:
        return None
    return str(doc.get("who")) if isinstance(doc, dict) and doc.get("who") else None


def _knative_number(name: str, fallback: int) -> int:
    m = re.search(r"-(\d+)$", name or "")
    return int(m.group(1)) if m else fallback


class _Owners:
    """Pod -> owning service key via ReplicaSets (Deployments, Rollouts) or KServe label."""

    def __init__(self, inp: Inputs):
        self.rs_owner = {rs.meta.uid: (rs.owner_kind, rs.owner_uid)
                         for rs in (inp.replicasets or {}).values()}
        self.by_uid: dict[str, str] = {}
        self.isvc: dict[tuple[str | None, str], str] = {}

    def owner_key(self, pod: PodRec) -> str | None:
        if pod.isvc:
            return self.isvc.get((pod.namespace, pod.isvc))
        uid = pod.owner_uid
        if pod.owner_kind == "ReplicaSet":
            uid = self.rs_owner.get(uid, (None, None))[1]
        return self.by_uid.get(uid) if uid else None


def build_part(inp: Inputs) -> ClusterPart:
    """The ClusterPart of one cluster: services sorted by namespace/name, history newest
    first, GPUs allocated from pods on nodes."""
    owners = _Owners(inp)
    rs_by_owner: dict[str, list[ReplicaSetRec]] = defaultdict(list)
    for rs in (inp.replicasets or {}).values():
        if rs.owner_uid:
            rs_by_owner[rs.owner_uid].append(rs)
    services: list[ModelService] = []
    revisions: dict[str, tuple[Revision, ...]] = {}
    ctx = inp.context

    for d in (inp.deployments or {}).values():
        svc = ModelService(
            name=d.meta.name, namespace=d.meta.namespace or "", cluster=ctx,
            kind=ServiceKind.DEPLOYMENT,
            version=d.version or image_tag(d.images[0] if d.images else None),
            image=d.images[0] if d.images else None, replicas_desired=d.replicas,
            replicas_ready=d.ready, runtime=detect_runtime(d.images),
            rollout_in_progress=not deployment_progress(d)[0], paused=d.paused,
            labels=dict(d.meta.labels), annotations=dict(d.own))
        services.append(svc)
        if d.meta.uid:
            owners.by_uid[d.meta.uid] = svc.key
        revisions[svc.key] = deployment_history(d, rs_by_owner.get(d.meta.uid or "", []))

    for r in (inp.rollouts or {}).values():
        if inp.rollout_label and inp.rollout_label not in r.meta.labels:
            continue
        owned = rs_by_owner.get(r.meta.uid or "", [])
        hist = rollout_history(r, owned)
        svc = ModelService(
            name=r.meta.name, namespace=r.meta.namespace or "", cluster=ctx,
            kind=ServiceKind.ROLLOUT,
            version=r.version or image_tag(r.images[0] if r.images else None),
            image=r.images[0] if r.images else None, replicas_desired=r.replicas,
            replicas_ready=r.ready, traffic=rollout_traffic(r, hist),
            runtime=detect_runtime(r.images),
            rollout_in_progress=r.phase in ("Progressing", "Paused") or (
                r.current_pod_hash is not None and r.current_pod_hash != r.stable_rs),
            paused=r.paused or r.pause_conditions > 0, labels=dict(r.meta.labels),
            annotations=dict(r.own))
        services.append(svc)
        if r.meta.uid:
            owners.by_uid[r.meta.uid] = svc.key
        revisions[svc.key] = hist

    isvc_ready: dict[str, int] = {}
    if inp.pods is not None:  # no pod carrying the label: unknown (not 0)
        for p in inp.pods.values():
            if p.isvc and p.phase not in _DONE:
                k = f"{p.namespace}/{p.isvc}"
                isvc_ready[k] = isvc_ready.get(k, 0) + (1 if p.ready else 0)
    for i in (inp.isvcs or {}).values():
        hist, traffic = isvc_history(i)
        images = tuple(x for x in (i.image, i.storage_uri) if x)
        svc = ModelService(
            name=i.meta.name, namespace=i.meta.namespace or "", cluster=ctx,
            kind=ServiceKind.INFERENCE_SERVICE,
            version=i.meta.labels.get(VERSION_LABEL) or image_tag(i.image),
            image=i.image or i.storage_uri, replicas_desired=None,
            replicas_ready=isvc_ready.get(f"{i.meta.namespace}/{i.meta.name}"),
            traffic=traffic,
            runtime=detect_runtime(images, f"{i.runtime or ''} {i.model_format or ''}") or "kserve",
            rollout_in_progress=(i.canary_percent is not None and i.canary_percent not in (0, 100))
            or (i.latest_created is not None and i.latest_created != i.latest_ready),
            labels=dict(i.meta.labels), annotations=dict(i.own))
        services.append(svc)
        owners.isvc[(i.meta.namespace, i.meta.name)] = svc.key
        revisions[svc.key] = hist

    gpus_by_key: dict[str, int] = defaultdict(int)
    if inp.pods is not None:
        for p in inp.pods.values():
            if p.gpus and p.phase not in _DONE:
                key = owners.owner_key(p)
                if key:
                    gpus_by_key[key] += p.gpus
        services = [s.model_copy(update={"gpus": gpus_by_key.get(s.key, 0)}) for s in services]
    services.sort(key=lambda s: (s.namespace, s.name, s.kind.value))
    names = {s.key: s.name for s in services}
    return ClusterPart(context=ctx, namespace=inp.namespace, services=tuple(services),
                       revisions=revisions, gpus=allocate_gpus(inp, owners, names))


def deployment_progress(d: DeploymentRec) -> tuple[bool, str]:
    """kubectl rollout status: (done, message)."""
    if d.generation is not None and d.observed_generation is not None and \
            d.generation > d.observed_generation:
        return False, "waiting for the deployment spec update to be observed"
    if d.observed_generation is None:
        return False, "no status yet"
    if d.timed_out:
        return False, "exceeded its progress deadline"
    want, upd = d.replicas or 0, d.updated or 0
    if upd < want:
        return False, f"{upd} out of {want} new replicas have been updated"
    if (d.status_replicas or 0) > upd:
        return False, f"{(d.status_replicas or 0) - upd} old replicas are pending termination"
    if (d.available or 0) < upd:
        return False, f"{d.available or 0} of {upd} updated replicas are available"
    return True, "successfully rolled out"


def deployment_history(d: DeploymentRec, owned: list[ReplicaSetRec]) -> tuple[Revision, ...]:
    """Revisions from the controlled ReplicaSets, newest first (as kubectl rollout history)."""
    current = parse_int(d.revision) if d.revision is not None else None
    out = []
    for rs in owned:
        if rs.owner_kind not in (None, "Deployment"):
            continue
        n = parse_int(rs.revision) if rs.revision is not None else 0
        if n is None:
            continue
        img = rs.images[0] if rs.images else None
        out.append(Revision(number=n, version=rs.template_labels.get(VERSION_LABEL) or image_tag(img),
                            image=img, created=rs.meta.created, change_cause=rs.change_cause,
                            who=_who(rs.last_action), current=current is not None and n == current))
    out.sort(key=lambda r: r.number, reverse=True)
    return tuple(out)


def rollout_history(r: RolloutRec, owned: list[ReplicaSetRec]) -> tuple[Revision, ...]:
    """Argo revisions (``rollout.argoproj.io/revision``), newest first; traffic from weights."""
    stable_w, canary_w = _rollout_weights(r)
    out = []
    for rs in owned:
        if rs.owner_kind not in (None, "Rollout"):
            continue
        n = parse_int(rs.argo_revision) if rs.argo_revision is not None else 0
        if n is None:
            continue
        h = rs.template_labels.get(ARGO_HASH)
        pct = None
        if h is not None and h == r.stable_rs:
            pct = stable_w
        elif h is not None and h == r.current_pod_hash:
            pct = canary_w
        img = rs.images[0] if rs.images else None
        out.append(Revision(number=n, version=rs.template_labels.get(VERSION_LABEL) or image_tag(img),
                            image=img, created=rs.meta.created, change_cause=rs.change_cause,
                            who=_who(rs.last_action),
                            current=h is not None and h == r.current_pod_hash,
                            traffic_percent=pct))
    out.sort(key=lambda x: x.number, reverse=True)
    return tuple(out)


def _rollout_weights(r: RolloutRec) -> tuple[float | None, float | None]:
    """(stable %, canary %) of an Argo canary, None when unknown. Blue-green: the active
    service sends everything to the stable side until promotion; the new ReplicaSet is the
    preview, shown as the canary leg at 0 %."""
    if r.current_pod_hash is None or r.current_pod_hash == r.stable_rs:
        return 100.0, None
    if r.strategy == "blueGreen":
        return 100.0, 0.0
    w = r.canary_weight
    if w is None and r.strategy == "canary" and r.step_weights:
        idx = r.current_step_index if r.current_step_index is not None else 0
        seen = [x for x in r.step_weights[: idx + 1] if x is not None]
        w = seen[-1] if seen else 0
    if w is None:
        return None, None
    return 100.0 - w, float(w)


def rollout_traffic(r: RolloutRec, hist: tuple[Revision, ...]) -> tuple[TrafficTarget, ...]:
    stable = next((h for h in hist if h.traffic_percent is not None and not h.current), None)
    canary = next((h for h in hist if h.current), None)
    stable_w, canary_w = _rollout_weights(r)
    if canary_w is None:
        cur = canary or (hist[0] if hist else None)
        if cur is None or stable_w is None:
            return ()
        return (TrafficTarget(revision=str(cur.number), percent=stable_w, role="stable",
                              version=cur.version),)
    legs = []
    if stable is not None and stable_w is not None:
        legs.append(TrafficTarget(revision=str(stable.number), percent=stable_w, role="stable",
                                  version=stable.version))
    if canary is not None:
        legs.append(TrafficTarget(revision=str(canary.number), percent=canary_w, role="canary",
                                  version=canary.version))
    return tuple(legs)


def isvc_history(i: InferenceServiceRec) -> tuple[tuple[Revision, ...], tuple[TrafficTarget, ...]]:
    """KServe: revisions named in status.components.predictor and the traffic split."""
    names: list[str] = []
    for n in (i.latest_created, i.latest_ready, i.latest_rolledout, i.previous_rolledout,
              *(leg.revision for leg in i.traffic)):
        if n and n not in names:
            names.append(n)
    pct = {leg.revision: leg.percent for leg in i.traffic}
    current = i.latest_rolledout or i.latest_ready
    revs = [Revision(number=_knative_number(n, len(names) - k), version=None,
                     image=None, current=(n == current), traffic_percent=pct.get(n))
            for k, n in enumerate(names)]
    revs.sort(key=lambda r: r.number, reverse=True)
    traffic: list[TrafficTarget] = []
    for leg in i.traffic:
        if leg.percent is None:
            continue
        if leg.latest and i.canary_percent is not None and leg.revision != i.latest_rolledout:
            role = "canary"
        elif leg.revision == i.latest_rolledout or leg.percent >= 100:
            role = "stable"
        elif leg.revision == i.previous_rolledout:
            role = "previous"
        else:
            role = "latest" if leg.latest else "stable"
        traffic.append(TrafficTarget(revision=leg.revision, percent=leg.percent, role=role))
    return tuple(revs), tuple(traffic)


def allocate_gpus(inp: Inputs, owners: _Owners, names: dict[str, str]) -> tuple[GpuDevice, ...]:
    """One GpuDevice per GPU a node advertises; pods' requests fill them in name order.
    Without the node list (e.g. not allowed), only allocated GPUs are known."""
    if inp.pods is None:
        return ()
    by_node: dict[str, list[PodRec]] = defaultdict(list)
    for p in inp.pods.values():
        if p.gpus and p.node and p.phase not in _DONE:
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
