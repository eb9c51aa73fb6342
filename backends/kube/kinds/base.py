"""The shape every resource kind module has (:class:`Kind`) and what they share.

A kind module (``deployment``, ``rollout``, ``kserve``) says how pitboard reads one kind of
object (the caches it follows, its model services, their history and traffic) and how it
acts on one (each action's patches, preflight checks, rollout progress). The generic code
(``kube.history``, ``kube.execute``, ``kube.backend``) only goes through this protocol and
the registry in ``kube.kinds``; it never names a kind.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from backends.domain.actions import ActionKind, ActionRequest, Check, RolloutProgress
from backends.domain.models import ModelService, Revision, ServiceKind
from backends.kube.cache import KindSpec
from backends.kube.config import KubernetesConfig
from backends.kube.connect import KubeApi
from backends.kube.semantics import ActionSpec
from backends.kube.slim import PodRec, ReplicaSetRec

VERSION_LABEL = "app.kubernetes.io/version"
DONE_PHASES = frozenset({"Succeeded", "Failed"})  # pods that hold nothing any more

#: One action on one kind: (api, the object from a fresh GET, the request) -> what to send.
#: Raises ActionRefused when the reference tool would refuse.
Act = Callable[[KubeApi, dict, ActionRequest], ActionSpec]


@dataclass(frozen=True)
class ReadContext:
    """One consistent view of the caches, as a kind's :meth:`Kind.read` sees it."""

    context: str
    config: KubernetesConfig
    #: cache name -> read-only mapping of slim records (None = not followed / not synced)
    snapshots: Mapping[str, Mapping[str, Any] | None]
    #: owner uid -> the ReplicaSets it controls (Deployments' and Rollouts' history)
    replicasets_by_owner: Mapping[str, list[ReplicaSetRec]]
    #: None when the pod cache is not synced (unknown, not empty)
    pods: Mapping[str, PodRec] | None

    def objects(self, cache: str) -> Mapping[str, Any]:
        """The slim records of one cache (empty when it is not followed)."""
        return self.snapshots.get(cache) or {}


@dataclass(frozen=True)
class ServiceRead:
    """One model service a kind found, its history, and how its pods are told apart."""

    service: ModelService
    revisions: tuple[Revision, ...]
    #: its pods are those controlled by this uid, directly or through a ReplicaSet
    owner_uid: str | None = None
    #: its pods are those labelled ``serving.kserve.io/inferenceservice=<its name>``
    labelled_pods: bool = False
    #: its pods are those labelled ``leaderworkerset.sigs.k8s.io/name=<its name>``
    lws_pods: bool = False


class Kind(Protocol):
    """How pitboard reads and acts on one resource kind. Each module of ``kube.kinds``
    is one (a module object satisfies this protocol); ``kube.kinds.KINDS`` maps
    ``KIND.value`` (the kind in service keys) to it."""

    KIND: ServiceKind
    GROUP: str  # API group ("" = core)
    VERSION: str
    PLURAL: str  # the resource: the name of its cache, RBAC's resource, the URL segment
    CRD: bool  # followed only when the API server serves GROUP/VERSION
    #: what can be done to it; any other action is refused with UNSUPPORTED
    ACTIONS: Mapping[ActionKind, Act]
    UNSUPPORTED: str  # the refusal, "{action}" replaced by the action's name

    def caches(self, config: KubernetesConfig) -> tuple[KindSpec, ...]:
        """The caches it reads: its own objects' (named PLURAL) first, then any other it
        needs (a cache named like another kind's is followed once)."""
        ...

    def read(self, ctx: ReadContext) -> Iterator[ServiceRead]:
        """Its model services (without ``gpus``: the caller counts them from the pods)."""
        ...

    def preflight(self, obj: dict, request: ActionRequest) -> tuple[Check, ...]:
        """Checks of its own for the guard modal, on the object from a fresh GET."""
        ...

    def progress(self, api: KubeApi, obj: dict) -> RolloutProgress:
        """How far its rollout got (the reference tool's status logic), from a fresh GET
        (``api`` for what else it reads fresh, e.g. the new revision's ReplicaSet)."""
        ...


def api_path(kind: Kind, namespace: str, name: str) -> str:
    """The object's URL path."""
    prefix = f"/apis/{kind.GROUP}/{kind.VERSION}" if kind.GROUP else f"/api/{kind.VERSION}"
    return f"{prefix}/namespaces/{namespace}/{kind.PLURAL}/{name}"


def replicasets_of(api: KubeApi, obj: dict) -> list[dict]:
    """ReplicaSets matching the owner's selector, from a fresh LIST (ownership is checked
    by the caller, as kubectl does)."""
    meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    sel = (spec.get("selector") or {}).get("matchLabels") or {}
    query = {"labelSelector": ",".join(f"{k}={v}" for k, v in sorted(sel.items())) or None}
    doc = api.request("GET", f"/apis/apps/v1/namespaces/{meta.get('namespace')}/replicasets",
                      query=query)
    return [i for i in (doc or {}).get("items") or [] if isinstance(i, dict)]


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


def who(last_action: str | None) -> str | None:
    """The ``who`` of a ``pitboard.io/last-action`` annotation (None when unreadable)."""
    if not last_action:
        return None
    try:
        doc = json.loads(last_action)
    except ValueError:
        return None
    return str(doc.get("who")) if isinstance(doc, dict) and doc.get("who") else None
