"""Helpers of the end-to-end guarded-action tests (not a test module): one ActionRunner with
a SqliteAudit in a temporary file and a KubernetesCluster on the test API server."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backends.domain.actions import ActionKind, ActionPlan, ActionRequest, RolloutProgress
from backends.actions.config import ActionsConfig, GateOverrides
from backends.audit.store import SqliteAudit
from backends.actions.guard import ActionRunner
from backends.kube.backend import KubernetesCluster
from backends.domain.models import FleetSnapshot, HealthSample, utcnow

from .helpers import NS, cluster

ANA = "ana@laptop k8s:ana@example.com"
BOB = "bob@desk k8s:bob@example.com"
DEP = f"/apis/apps/v1/namespaces/{NS}/deployments/"
ROLLOUT = f"/apis/argoproj.io/v1alpha1/namespaces/{NS}/rollouts/"
ISVC = f"/apis/serving.kserve.io/v1beta1/namespaces/{NS}/inferenceservices/"
EVENTS = f"/api/v1/namespaces/{NS}/events"
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
REVISION = "deployment.kubernetes.io/revision"
LAST_ACTION = "pitboard.io/last-action"


def key(name: str, kind: str = "Deployment", ctx: str = "test-admin") -> str:
    """The ModelService.key of an object of the ml-fleet fixture."""
    return f"{ctx}/{NS}/{kind}/{name}"


def fast_actions(context: str = "test-admin", **over: Any) -> ActionsConfig:
    """Actions config polling progress quickly, with per-context gate overrides."""
    opts: dict[str, Any] = {"progress_poll_s": 0.05, "progress_timeout_s": 5}
    opts.update(over)
    return ActionsConfig(contexts={context: GateOverrides(**opts)})


@dataclass
class Rig:
    """The one action path wired to the test API server."""

    server: Any
    cluster: KubernetesCluster
    audit: SqliteAudit
    runner: ActionRunner
    progress: list[RolloutProgress] = field(default_factory=list)

    def mark(self) -> int:
        """Position in the server's request log (to look at what came after)."""
        return len(self.server.requests)

    def since(self, start: int) -> list:
        return list(self.server.requests)[start:]

    def plan(self, kind: ActionKind, service_key: str, snapshot: FleetSnapshot | None = None,
             actor: str = ANA, to_revision: int | None = None) -> ActionPlan:
        return self.runner.prepare(ActionRequest(kind=kind, service_key=service_key,
                                                 actor=actor, to_revision=to_revision),
                                   snapshot)

    def run(self, plan: ActionPlan, reason: str = "p95 doubled since 14:05", actor: str = ANA,
            **kw: Any):
        return self.runner.run(plan, reason, actor, on_progress=self.progress.append, **kw)

    def kinds(self) -> list[tuple[str, str | None]]:
        """(kind, outcome) of every audit entry, oldest first."""
        return [(e.kind, e.outcome) for e in self.audit.entries()]

    def close(self) -> None:
        self.cluster.close()
        self.audit.close()


def make_rig(server, tmp_path: Path, *, context: str = "test-admin",
             read_only: bool = False, runner_read_only: bool = False,
             config: ActionsConfig | None = None, **runner_kw: Any) -> Rig:
    """A runner + audit store (fresh file) + cluster on ``server`` as ``context``."""
    c = cluster(server, context=context, read_only=read_only)
    db = tmp_path / f"audit-{context}-{len(list(tmp_path.glob('audit-*.db')))}.db"
    audit = SqliteAudit(db)
    runner = ActionRunner(c, audit, config=config or fast_actions(context),
                          read_only=runner_read_only, **runner_kw)
    return Rig(server, c, audit, runner)


def snapshot(rig: Rig, health: dict[str, tuple[tuple[str, float, float], ...]] | None = None
             ) -> FleetSnapshot:
    """A FleetSnapshot from the cluster's caches, as the console builds it; ``health`` maps a
    model name to (revision, error ratio, p95 ms) legs measured now."""
    part = rig.cluster.read()
    now = utcnow()
    rh = {model: tuple(HealthSample(model=model, namespace=NS, revision=rev, at=now,
                                    error_ratio=err, p95_ms=p95) for rev, err, p95 in legs)
          for model, legs in (health or {}).items()}
    return FleetSnapshot(taken_at=now, context=part.context, namespace=part.namespace,
                         services=part.services, revisions=part.revisions, revision_health=rh)


def patches(records: list, path: str, *, dry_run: bool | None = None,
            content_type: str | None = None) -> list:
    """PATCH requests to exactly ``path`` (dry runs only / real ones only / both), without
    those that only leave an audit anchor (``anchor_writes`` lists them)."""
    out = []
    for r in records:
        if r.method != "PATCH" or r.path != path or is_anchor_write(r):
            continue
        if dry_run is not None and (r.query.get("dryRun") == "All") != dry_run:
            continue
        if content_type is not None and not r.content_type.startswith(content_type):
            continue
        out.append(r)
    return out


ANCHOR_KEYS = {"pitboard.io/audit", "pitboard.io/audit-chain"}


def is_anchor_write(r) -> bool:
    """A request that only leaves an audit entry's anchor on the cluster: a merge patch of
    the ``pitboard.io/audit`` annotations alone, or a ``PitboardAudit`` Event."""
    body = r.body if isinstance(r.body, dict) else {}
    if r.method == "PATCH":
        keys = set(((body.get("metadata") or {}).get("annotations") or {}))
        return bool(keys) and keys <= ANCHOR_KEYS and set(body) == {"metadata"}
    return r.method == "POST" and r.path.endswith("/events") and \
        body.get("reason") == "PitboardAudit"


def anchor_writes(records: list) -> list:
    return [r for r in records if is_anchor_write(r)]


def index_of(records: list, record) -> int:
    return next(i for i, r in enumerate(records) if r is record)


def deployment(server, name: str) -> dict:
    return server.get_object("apps/v1", "deployments", NS, name)


def owned_replicasets(server, name: str) -> dict[str, dict]:
    """ReplicaSets controlled by Deployment ``name``, by ReplicaSet name."""
    uid = deployment(server, name)["metadata"]["uid"]
    return {rs["metadata"]["name"]: rs for rs in server.list_objects("apps/v1", "replicasets", NS)
            if any(o.get("uid") == uid and o.get("controller")
                   for o in rs["metadata"].get("ownerReferences") or [])}


def rs_with_revision(server, name: str, revision: int) -> dict:
    return next(rs for rs in owned_replicasets(server, name).values()
                if rs["metadata"]["annotations"].get(REVISION) == str(revision))


def without_hash(template: dict) -> dict:
    t = copy.deepcopy(template)
    t.get("metadata", {}).get("labels", {}).pop("pod-template-hash", None)
    return t


def events_about(server, name: str, reason: str) -> list[dict]:
    return [e for e in server.list_objects("v1", "events", NS)
            if e["involvedObject"]["name"] == name and e.get("reason") == reason]


def last_action(obj: dict) -> dict | None:
    raw = (obj["metadata"].get("annotations") or {}).get(LAST_ACTION)
    return json.loads(raw) if raw else None


def status_body(code: int, message: str, reason: str) -> dict:
    """A metav1.Status as a real API server answers an error."""
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


def degraded(obj: dict) -> dict:
    """``obj`` (a Deployment) as the API shows it once its progress deadline passed."""
    obj = copy.deepcopy(obj)
    status = obj.setdefault("status", {})
    status["observedGeneration"] = obj["metadata"].get("generation")
    status["conditions"] = [c for c in status.get("conditions") or []
                            if c.get("type") != "Progressing"] + [{
        "type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
        "message": f'ReplicaSet "{obj["metadata"]["name"]}-x" has timed out progressing.'}]
    return obj


def checks(plan) -> dict:
    return {c.name: c for c in plan.checks}


def assert_chain(rig, *expected) -> list:
    """The audit log holds exactly ``expected`` (kind, outcome) pairs, linked to one intent,
    with nothing pending, and the hash chain verifies."""
    entries = rig.audit.entries()
    assert [(e.kind, e.outcome) for e in entries] == list(expected)
    intent = next((e for e in entries if e.kind == "intent"), None)
    if intent is not None:
        assert all(e.intent_seq == intent.seq for e in entries if e.kind != "intent"
                   and e.kind != "approval")
    assert rig.audit.pending_intents() == []
    ok, message = rig.audit.verify()
    assert ok, message
    return entries
