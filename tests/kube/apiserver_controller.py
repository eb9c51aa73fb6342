"""A minimal Deployment (and Argo Rollout) controller plus ReplicaSet/pod upkeep, run synchronously.

Each write to the server calls :meth:`Controller.on_write` under the store lock, so what a
client reads right after its write is already reconciled, like a fast real cluster.
"""

from __future__ import annotations

import copy
import json
import math
import random
import threading
import time
from dataclasses import dataclass
from typing import Any

from . import apiserver_controller_workloads as workloads
from .apiserver_controller_bluegreen import blue_green, pause_before_promotion, preview_replicas
from .apiserver_controller_pods import PodKeeper
from .apiserver_resources import find
from .apiserver_store import Store

DEPLOY = find("apps", "v1", "deployments")
RS = find("apps", "v1", "replicasets")
ROLLOUTS = find("argoproj.io", "v1alpha1", "rollouts")
PODS = find("", "v1", "pods")
ISVC = find("serving.kserve.io", "v1beta1", "inferenceservices")

SKIP_COPY = {
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
    "rollout.argoproj.io/revision",
}


@dataclass(frozen=True)
class Flavor:
    """What differs between a Deployment and an Argo Rollout owning ReplicaSets."""

    owner: Any
    hash_label: str
    revision_key: str


DEPLOYMENT = Flavor(DEPLOY, "pod-template-hash", "deployment.kubernetes.io/revision")
ROLLOUT = Flavor(ROLLOUTS, "rollouts-pod-template-hash", "rollout.argoproj.io/revision")

_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"


def safe_encode(text: str) -> str:
    """``rand.SafeEncodeString`` from apimachinery."""
    return "".join(_ALPHANUMS[ord(c) % len(_ALPHANUMS)] for c in text)


def strip_hash(template: dict[str, Any] | None, label: str) -> dict[str, Any]:
    """A copy of a pod template without the pod-template-hash label."""
    tmpl = copy.deepcopy(template or {})
    labels = (tmpl.get("metadata") or {}).get("labels")
    if labels is not None:
        labels.pop(label, None)
    return tmpl


def template_hash(template: dict[str, Any], label: str, collisions: int = 0) -> str:
    """FNV-32a of the template (hash label excluded), safe-encoded like the real controller."""
    data = json.dumps(strip_hash(template, label), sort_keys=True).encode() + str(collisions).encode()
    h = 0x811C9DC5
    for byte in data:
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return safe_encode(str(h))


def revision(obj: dict[str, Any], key: str) -> int:
    """The revision annotation as an int (0 when missing or bad)."""
    try:
        return int(((obj.get("metadata") or {}).get("annotations") or {}).get(key, "0"))
    except ValueError:
        return 0


def controller_uid(obj: dict[str, Any]) -> str | None:
    """UID of the controlling owner."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref.get("uid")
    return None


def _percent(value: Any, total: int, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        raw = int(value[:-1]) * total / 100
        return math.ceil(raw) if round_up else math.floor(raw)
    return int(value if value is not None else 0)


class Controller:
    """Reconciles Deployments/Rollouts -> ReplicaSets -> pods, and their status."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.pods = PodKeeper(store, random.Random(7))
        self.rollout_delay_s = 0.0
        self._deadlines: dict[str, float] = {}
        self._timers: list[threading.Timer] = []
        # stepping (tests drive a rollout one state at a time), by (namespace, name):
        self.held: set[tuple[str, str]] = set()  # writes not observed (no reconcile at all)
        self.stepped: dict[tuple[str, str], int] = {}  # new-revision pods ready so far
        self.stuck: set[tuple[str, str]] = set()  # progress deadline exceeded
        from .apiserver_controller_kserve import KServeController

        self.kserve = KServeController(store)

    # ------------------------------------------------------------ entry points
    def on_write(self, res: Any, obj: dict[str, Any], deleted: bool = False) -> None:
        """React to a stored change of ``obj``."""
        with self.store.lock:
            if deleted:
                self._collect_garbage(obj["metadata"]["uid"])
                owner = self._owner_of(obj)
                if res == RS and owner is not None:
                    self.sync(owner[0], owner[1])
                return
            if (obj["metadata"].get("namespace"), obj["metadata"]["name"]) in self.held \
                    and res in (DEPLOY, ROLLOUTS, ISVC):
                return  # the controller has not seen it yet: observedGeneration lags
            if res == DEPLOY:
                self.sync(DEPLOYMENT, obj)
                self._raw_owner(obj)
            elif res == ROLLOUTS:
                self.sync(ROLLOUT, obj)
            elif res == ISVC and workloads.is_raw(obj):
                dep, changed = workloads.raw_predictor(self.store, obj)
                if changed:
                    self.sync(DEPLOYMENT, dep)
                workloads.raw_status(self.store, obj)
            elif res == ISVC:
                self.kserve.sync(obj)
            elif res == workloads.LLMISVC:
                dep, changed = workloads.llm_workload(self.store, obj)
                if changed:
                    self.sync(DEPLOYMENT, dep)
                workloads.llm_status(self.store, obj)
            elif res == workloads.STS:
                workloads.sync_statefulset(self.store, self.pods, obj)
            elif res == workloads.LWS:
                workloads.sync_leaderworkerset(self.store, self.pods, obj)
            elif res == RS:
                self.pods.sync_replicaset(obj, ready=True)
                owner = self._owner_of(obj)
                if owner is not None:
                    self.sync(owner[0], owner[1])

    def finish_rollouts(self) -> None:
        """End every delayed rollout now (as if ``rollout_delay_s`` had elapsed)."""
        with self.store.lock:
            self._deadlines = {uid: 0.0 for uid in self._deadlines}
            for res, flavor in ((DEPLOY, DEPLOYMENT), (ROLLOUTS, ROLLOUT)):
                for obj in self.store.list(res):
                    if obj["metadata"]["uid"] in self._deadlines:
                        self.sync(flavor, obj)

    def resync(self, namespace: str, name: str) -> None:
        """Reconcile one Deployment, Rollout or InferenceService now (after a step)."""
        if (namespace, name) in self.held:
            return
        with self.store.lock:
            for res, flavor in ((DEPLOY, DEPLOYMENT), (ROLLOUTS, ROLLOUT), (ISVC, None)):
                obj = self.store.get(res, namespace, name)
                if obj is None:
                    continue
                if flavor is None:
                    self.kserve.sync(obj)
                else:
                    self.sync(flavor, obj)

    def stop(self) -> None:
        """Cancel pending rollout timers."""
        for timer in self._timers:
            timer.cancel()

    # ------------------------------------------------------------ helpers
    def _raw_owner(self, dep: dict[str, Any]) -> None:
        """A raw-mode InferenceService's status follows its predictor Deployment."""
        uid = controller_uid(dep)
        for isvc in self.store.list(ISVC, dep["metadata"].get("namespace")):
            if uid and isvc["metadata"]["uid"] == uid:
                workloads.raw_status(self.store, isvc)
        for llm in self.store.list(workloads.LLMISVC, dep["metadata"].get("namespace")):
            if uid and llm["metadata"]["uid"] == uid:
                workloads.llm_status(self.store, llm)

    def _owner_of(self, obj: dict[str, Any]) -> tuple[Flavor, dict[str, Any]] | None:
        uid = controller_uid(obj)
        ns = obj["metadata"].get("namespace")
        for flavor in (DEPLOYMENT, ROLLOUT):
            for owner in self.store.list(flavor.owner, ns):
                if owner["metadata"]["uid"] == uid:
                    return flavor, owner
        return None

    def _collect_garbage(self, uid: str) -> None:
        for key, obj in list(self.store.objects.items()):
            refs = obj["metadata"].get("ownerReferences") or []
            if any(ref.get("uid") == uid for ref in refs):
                from .apiserver_resources import find as find_res

                res = find_res(key[0], "v1alpha1" if key[0] == "argoproj.io" else "v1", key[1])
                if res is None:
                    continue
                self.store.commit(res, obj, deleted=True)
                self._collect_garbage(obj["metadata"]["uid"])

    def save(self, res: Any, obj: dict[str, Any]) -> dict[str, Any]:
        """Commit ``obj`` if it changed."""
        return self.store.save(res, obj)

    def _schedule(self, flavor: Flavor, uid: str) -> None:
        self._deadlines[uid] = time.monotonic() + self.rollout_delay_s

        def fire() -> None:
            with self.store.lock:
                for obj in self.store.list(flavor.owner):
                    if obj["metadata"]["uid"] == uid:
                        self.sync(flavor, obj)

        timer = threading.Timer(self.rollout_delay_s + 0.01, fire)
        timer.daemon = True
        self._timers.append(timer)
        timer.start()

    # ------------------------------------------------------------ the sync loop
    def sync(self, flavor: Flavor, owner: dict[str, Any]) -> None:
        """One reconcile of a Deployment or Rollout."""
        meta, spec = owner["metadata"], owner.get("spec") or {}
        ns, uid = meta["namespace"], meta["uid"]
        rss = [rs for rs in self.store.list(RS, ns) if controller_uid(rs) == uid]
        wanted = strip_hash(spec.get("template"), flavor.hash_label)
        matching = sorted((rs for rs in rss if strip_hash(rs["spec"].get("template"), flavor.hash_label) == wanted),
                          key=lambda rs: (rs["metadata"]["creationTimestamp"], rs["metadata"]["name"]))
        new = matching[0] if matching else None
        olds = [rs for rs in rss if new is None or rs["metadata"]["uid"] != new["metadata"]["uid"]]
        max_old = max((revision(rs, flavor.revision_key) for rs in olds), default=0)
        desired = int(spec.get("replicas", 1))
        paused = bool(spec.get("paused")) or bool((owner.get("status") or {}).get("pauseConditions"))
        if new is None and (not paused or flavor is ROLLOUT):
            new = self._create_rs(flavor, owner, max_old + 1, desired)
            if self.rollout_delay_s > 0 and any(rs["spec"].get("replicas") for rs in olds):
                self._schedule(flavor, uid)
        elif new is not None:
            # a scaled-down ReplicaSet brought back (a rollback to an older revision) rolls
            # out like a new one
            if self.rollout_delay_s > 0 and not new["spec"].get("replicas") and uid not in \
                    self._deadlines and any(rs["spec"].get("replicas") for rs in olds):
                self._schedule(flavor, uid)
            new = self._annotate_rs(flavor, owner, new, max_old + 1, desired)
        bg = flavor is ROLLOUT and blue_green(owner) is not None
        if bg and new is not None and pause_before_promotion(
                self.store, ROLLOUTS, owner, new["metadata"]["labels"].get(flavor.hash_label, "")):
            paused = True
        in_progress = self._deadlines.get(uid, 0.0) > time.monotonic()
        if not in_progress:
            self._deadlines.pop(uid, None)
        step = self.stepped.get((ns, meta["name"])) if flavor is DEPLOYMENT else None
        if new is not None and step is not None and not paused:
            in_progress = self._step(new, olds, step, desired)
        elif new is not None:
            stable = (owner.get("status") or {}).get("stableRS")
            canary = flavor is ROLLOUT and paused and bool(olds) and \
                new["metadata"]["labels"].get(flavor.hash_label) != stable
            if bg:
                replicas = preview_replicas(owner, desired) if canary else desired
            else:
                replicas = self._canary_replicas(owner, desired) if canary else desired
            new["spec"]["replicas"] = replicas
            new = self.save(RS, new)
            new = self.pods.sync_replicaset(new, ready=not in_progress)
            if not in_progress:
                for old in olds:
                    keep = (desired if bg else desired - replicas) \
                        if canary and old["metadata"]["labels"].get(flavor.hash_label) == stable else 0
                    if old["spec"].get("replicas", 0) != keep:
                        old["spec"]["replicas"] = keep
                        self.pods.sync_replicaset(self.save(RS, old), ready=True)
        self._cleanup(flavor, spec, olds)
        self._write_status(flavor, owner, new, in_progress, paused, desired)

    def _step(self, new: dict[str, Any], olds: list[dict[str, Any]], ready: int, desired: int) -> bool:
        """A rolling update held at ``ready`` new pods ready (maxSurge 1, maxUnavailable 0):
        the new ReplicaSet runs one more pod than is ready, the newest old one keeps the
        rest. Returns whether the rollout is still in progress."""
        ready = max(0, min(ready, desired))
        new["spec"]["replicas"] = min(desired, ready + 1)
        self.pods.sync_replicaset(self.save(RS, new), ready=False, ready_count=ready)
        keep = desired - ready
        running = [o for o in olds if o["spec"].get("replicas")]
        pool = sorted(running or olds, key=lambda rs: revision(rs, DEPLOYMENT.revision_key), reverse=True)
        holder = pool[0]["metadata"]["uid"] if pool and keep else None
        for old in olds:
            want = keep if old["metadata"]["uid"] == holder else 0
            if old["spec"].get("replicas", 0) != want:
                old["spec"]["replicas"] = want
                self.pods.sync_replicaset(self.save(RS, old), ready=True)
        return ready < desired

    def _create_rs(self, flavor: Flavor, owner: dict[str, Any], rev: int, desired: int) -> dict[str, Any]:
        meta, spec = owner["metadata"], owner["spec"]
        template = copy.deepcopy(spec["template"])
        collisions = 0
        while True:
            pod_hash = template_hash(template, flavor.hash_label, collisions)
            name = f"{meta['name']}-{pod_hash}"
            if self.store.get(RS, meta["namespace"], name) is None:
                break
            collisions += 1
        template.setdefault("metadata", {}).setdefault("labels", {})[flavor.hash_label] = pod_hash
        selector = copy.deepcopy(spec.get("selector") or {})
        selector.setdefault("matchLabels", {})[flavor.hash_label] = pod_hash
        annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k not in SKIP_COPY}
        annotations[flavor.revision_key] = str(rev)
        if flavor is DEPLOYMENT:
            surge = _percent((spec.get("strategy", {}).get("rollingUpdate") or {}).get("maxSurge", "25%"), desired, True)
            annotations["deployment.kubernetes.io/desired-replicas"] = str(desired)
            annotations["deployment.kubernetes.io/max-replicas"] = str(desired + surge)
        rs = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": name,
                "namespace": meta["namespace"],
                "uid": self.store.new_uid(),
                "generation": 1,
                "creationTimestamp": self.store.timestamp(),
                "labels": dict(template["metadata"]["labels"]),
                "annotations": annotations,
                "ownerReferences": [{
                    "apiVersion": flavor.owner.group_version, "kind": flavor.owner.kind, "name": meta["name"],
                    "uid": meta["uid"], "controller": True, "blockOwnerDeletion": True,
                }],
            },
            "spec": {"replicas": 0, "minReadySeconds": spec.get("minReadySeconds", 0), "selector": selector,
                     "template": template},
            "status": {"replicas": 0},
        }
        if not rs["spec"]["minReadySeconds"]:
            del rs["spec"]["minReadySeconds"]
        return self.store.commit(RS, rs)

    def _annotate_rs(self, flavor: Flavor, owner: dict[str, Any], rs: dict[str, Any], rev: int,
                     desired: int) -> dict[str, Any]:
        annotations = rs["metadata"].setdefault("annotations", {})
        for k, v in (owner["metadata"].get("annotations") or {}).items():
            if k not in SKIP_COPY:
                annotations[k] = v
        old = revision(rs, flavor.revision_key)
        if old < rev:
            annotations[flavor.revision_key] = str(rev)
            if flavor is DEPLOYMENT and old:
                hist = annotations.get("deployment.kubernetes.io/revision-history")
                annotations["deployment.kubernetes.io/revision-history"] = f"{hist},{old}" if hist else str(old)
        if flavor is DEPLOYMENT:
            surge = _percent((owner["spec"].get("strategy", {}).get("rollingUpdate") or {}).get("maxSurge", "25%"),
                             desired, True)
            annotations["deployment.kubernetes.io/desired-replicas"] = str(desired)
            annotations["deployment.kubernetes.io/max-replicas"] = str(desired + surge)
        return rs

    def _canary_replicas(self, owner: dict[str, Any], desired: int) -> int:
        steps = ((owner["spec"].get("strategy") or {}).get("canary") or {}).get("steps") or []
        index = int((owner.get("status") or {}).get("currentStepIndex", 0))
        weight = 0
        for step in steps[:index + 1]:
            weight = step.get("setWeight", weight)
        return max(1, math.ceil(desired * weight / 100)) if weight else 1

    def _cleanup(self, flavor: Flavor, spec: dict[str, Any], olds: list[dict[str, Any]]) -> None:
        limit = int(spec.get("revisionHistoryLimit", 10))
        idle = [rs for rs in olds if not self.store.get(RS, rs["metadata"]["namespace"], rs["metadata"]["name"])
                or not rs["spec"].get("replicas")]
        idle.sort(key=lambda rs: revision(rs, flavor.revision_key))
        for rs in idle[: max(0, len(idle) - limit)]:
            current = self.store.get(RS, rs["metadata"]["namespace"], rs["metadata"]["name"])
            if current is not None and not current["spec"].get("replicas"):
                self.store.commit(RS, current, deleted=True)
                self._collect_garbage(current["metadata"]["uid"])

    # ------------------------------------------------------------ status
    def _write_status(self, flavor: Flavor, owner: dict[str, Any], new: dict[str, Any] | None,
                      in_progress: bool, paused: bool, desired: int) -> None:
        from .apiserver_controller_status import deployment_status, rollout_status

        current = self.store.get(flavor.owner, owner["metadata"]["namespace"], owner["metadata"]["name"])
        if current is None:
            return
        rss = [rs for rs in self.store.list(RS, owner["metadata"]["namespace"])
               if controller_uid(rs) == current["metadata"]["uid"]]
        if new is not None:
            new = next((rs for rs in rss if rs["metadata"]["uid"] == new["metadata"]["uid"]), None)
        if flavor is DEPLOYMENT:
            if new is not None:
                current["metadata"].setdefault("annotations", {})[flavor.revision_key] = \
                    new["metadata"]["annotations"][flavor.revision_key]
            key = (current["metadata"]["namespace"], current["metadata"]["name"])
            current["status"] = deployment_status(current, new, rss, in_progress, paused, desired,
                                                  self.store.timestamp(), stuck=key in self.stuck)
        else:
            if new is not None:
                current["metadata"].setdefault("annotations", {})[flavor.revision_key] = \
                    new["metadata"]["annotations"][flavor.revision_key]
            current["status"] = rollout_status(current, new, rss, paused, desired)
        self.save(flavor.owner, current)
