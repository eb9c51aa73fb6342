"""The resource types the test API server serves, and its discovery documents."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


@dataclass(frozen=True)
class Resource:
    """One served resource type (a row of ``/apis/<group>/<version>``)."""

    group: str
    version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = tuple(ALL_VERBS)
    status_subresource: bool = False
    custom: bool = False  # a CRD: no strategic merge patch, generic printer columns
    printer_columns: tuple[tuple[str, str, str, int], ...] = field(default=())  # (name, type, jsonpath, priority)

    @property
    def group_version(self) -> str:
        """``apps/v1`` or ``v1``."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def prefix(self) -> str:
        """URL prefix of the group version."""
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"


RESOURCES: tuple[Resource, ...] = (
    Resource("", "v1", "namespaces", "namespace", "Namespace", False, ("ns",),
             verbs=("create", "delete", "get", "list", "patch", "update", "watch"), status_subresource=True),
    Resource("", "v1", "nodes", "node", "Node", False, ("no",), status_subresource=True),
    Resource("", "v1", "pods", "pod", "Pod", True, ("po",), ("all",), status_subresource=True),
    Resource("", "v1", "events", "event", "Event", True, ("ev",)),
    Resource("apps", "v1", "deployments", "deployment", "Deployment", True, ("deploy",), ("all",),
             status_subresource=True),
    Resource("apps", "v1", "replicasets", "replicaset", "ReplicaSet", True, ("rs",), ("all",),
             status_subresource=True),
    Resource("apps", "v1", "statefulsets", "statefulset", "StatefulSet", True, ("sts",), ("all",),
             status_subresource=True),
    # sigs.k8s.io/lws api/leaderworkerset/v1 (shortName lws; kubectl prints its Name and Age)
    Resource("leaderworkerset.x-k8s.io", "v1", "leaderworkersets", "leaderworkerset", "LeaderWorkerSet",
             True, ("lws",), status_subresource=True, custom=True),
    # kserve pkg/apis/serving/v1alpha1/llm_inference_service_types.go (kubebuilder printcolumns)
    Resource("serving.kserve.io", "v1alpha1", "llminferenceservices", "llminferenceservice",
             "LLMInferenceService", True, ("llmisvc",), status_subresource=True, custom=True,
             printer_columns=(
                 ("URL", "string", ".status.url", 0),
                 ("Ready", "string", '.status.conditions[?(@.type=="Ready")].status', 0),
                 ("Reason", "string", '.status.conditions[?(@.type=="Ready")].reason', 0),
                 ("Age", "date", ".metadata.creationTimestamp", 0),
             )),
    Resource("serving.kserve.io", "v1beta1", "inferenceservices", "inferenceservice", "InferenceService", True,
             ("isvc",), status_subresource=True, custom=True,
             printer_columns=(
                 ("URL", "string", ".status.url", 0),
                 ("Ready", "string", '.status.conditions[?(@.type=="Ready")].status', 0),
                 ("Prev", "integer", ".status.components.predictor.traffic[?(@.tag=='prev')].percent", 0),
                 ("Latest", "integer", ".status.components.predictor.traffic[?(@.latestRevision==true)].percent", 0),
                 ("PrevRolledoutRevision", "string", ".status.components.predictor.previousRolledoutRevision", 1),
                 ("LatestReadyRevision", "string", ".status.components.predictor.latestReadyRevision", 1),
                 ("Age", "date", ".metadata.creationTimestamp", 0),
             )),
    Resource("argoproj.io", "v1alpha1", "rollouts", "rollout", "Rollout", True, ("ro",),
             status_subresource=True, custom=True,
             printer_columns=(
                 ("Desired", "integer", ".spec.replicas", 0),
                 ("Current", "integer", ".status.replicas", 0),
                 ("Up-to-date", "integer", ".status.updatedReplicas", 0),
                 ("Available", "integer", ".status.availableReplicas", 0),
                 ("Age", "date", ".metadata.creationTimestamp", 0),
             )),
    Resource("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "selfsubjectaccessreview",
             "SelfSubjectAccessReview", False, verbs=("create",)),
    Resource("authentication.k8s.io", "v1", "selfsubjectreviews", "selfsubjectreview",
             "SelfSubjectReview", False, verbs=("create",)),
    # older servers (1.26-1.27): served only when ApiServer.self_review_versions names them
    Resource("authentication.k8s.io", "v1beta1", "selfsubjectreviews", "selfsubjectreview",
             "SelfSubjectReview", False, verbs=("create",)),
    Resource("authentication.k8s.io", "v1alpha1", "selfsubjectreviews", "selfsubjectreview",
             "SelfSubjectReview", False, verbs=("create",)),
)

# Group -> preferred version, in the order the real server lists groups.
GROUPS: dict[str, str] = {
    "apps": "v1",
    "authentication.k8s.io": "v1",
    "authorization.k8s.io": "v1",
    "serving.kserve.io": "v1beta1",
    "argoproj.io": "v1alpha1",
    "leaderworkerset.x-k8s.io": "v1",
}
# Group -> its other served versions (listed after the preferred one)
MORE_VERSIONS: dict[str, tuple[str, ...]] = {"serving.kserve.io": ("v1alpha1",)}


def find(group: str, version: str, plural: str) -> Resource | None:
    """The resource served at ``group/version/plural``, if any."""
    for res in RESOURCES:
        if res.group == group and res.version == version and res.plural == plural:
            return res
    return None


def by_group_version(group_version: str, plural: str) -> Resource:
    """Look a resource up by ``apps/v1`` + ``deployments`` (the fixture API's spelling)."""
    group, _, version = group_version.rpartition("/")
    res = find(group, version, plural)
    if res is None:
        raise KeyError(f"not served: {group_version} {plural}")
    return res


def by_kind(api_version: str, kind: str) -> Resource:
    """Look a resource up by an object's apiVersion and kind."""
    group, _, version = api_version.rpartition("/")
    for res in RESOURCES:
        if res.group == group and res.version == version and res.kind == kind:
            return res
    raise KeyError(f"not served: {api_version} {kind}")


def version_doc() -> dict[str, Any]:
    """Answer to ``/version``."""
    return {
        "major": "1", "minor": "37", "emulationMajor": "1", "emulationMinor": "37",
        "minCompatibilityMajor": "1", "minCompatibilityMinor": "36",
        "gitVersion": "v1.37.0", "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean", "buildDate": "2026-04-01T00:00:00Z", "goVersion": "go1.25.0",
        "compiler": "gc", "platform": "linux/amd64",
    }


def api_versions(server_address: str) -> dict[str, Any]:
    """Answer to ``/api``."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def _group_doc(group: str) -> dict[str, Any]:
    gv = {"groupVersion": f"{group}/{GROUPS[group]}", "version": GROUPS[group]}
    more = [{"groupVersion": f"{group}/{v}", "version": v} for v in MORE_VERSIONS.get(group, ())]
    return {"name": group, "versions": [gv, *more], "preferredVersion": gv}


def api_group_list() -> dict[str, Any]:
    """Answer to ``/apis``."""
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [_group_doc(g) for g in GROUPS]}


def api_group(group: str) -> dict[str, Any] | None:
    """Answer to ``/apis/<group>``."""
    if group not in GROUPS:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group_doc(group)}


def resource_list(group: str, version: str) -> dict[str, Any] | None:
    """Answer to ``/api/v1`` or ``/apis/<group>/<version>``."""
    served = [r for r in RESOURCES if r.group == group and r.version == version]
    if not served:
        return None
    rows: list[dict[str, Any]] = []
    for res in served:
        row: dict[str, Any] = {
            "name": res.plural, "singularName": res.singular, "namespaced": res.namespaced,
            "kind": res.kind, "verbs": list(res.verbs),
        }
        if res.short_names:
            row["shortNames"] = list(res.short_names)
        if res.categories:
            row["categories"] = list(res.categories)
        rows.append(row)
        if res.status_subresource:
            rows.append({"name": f"{res.plural}/status", "singularName": "", "namespaced": res.namespaced,
                         "kind": res.kind, "verbs": ["get", "patch", "update"]})
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": rows}
