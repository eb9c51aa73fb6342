"""KServe LLMInferenceService (serving.kserve.io/v1alpha1), when that CRD is served.

Fields from kserve pkg/apis/serving/v1alpha1/llm_inference_service_types.go and
llm_inference_service_lifecycle.go (v1alpha2, where served, converts to it):

- spec: ``model.uri`` (``hf://...``, the weights), ``model.name`` (the served name,
  default ``metadata.name``), ``replicas``, ``template`` (the main pod spec; without it an
  LLMInferenceServiceConfig preset supplies the image), ``worker`` (multi-node: a
  LeaderWorkerSet), ``prefill`` (disaggregated prefill workload), ``parallelism``,
  ``router`` (``route`` / ``gateway`` / ``ingress``, ``scheduler``: the inference
  gateway's endpoint picker).
- status: ``url``, ``addresses[].url``, conditions ``Ready`` (= ``WorkloadsReady`` and
  ``RouterReady``), ``MainWorkloadReady``, ``WorkerWorkloadReady``,
  ``PrefillWorkloadReady``, ``SchedulerWorkloadReady``, ``HTTPRoutesReady`` ...
- Its workloads (Deployments, or LeaderWorkerSets when multi-node) are controlled by it:
  ready replicas are those of its main workload Deployment when in view.
- No revisions and no canary: KServe rolls the workload out in place. Traffic is one
  route (no split), said so in ``notes``.
- Act: nothing; every action is refused with :data:`UNSUPPORTED`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from backends.domain.actions import ActionKind, ActionRequest, Check, RolloutProgress
from backends.domain.models import ModelService, ServiceKind, running_version
from backends.kube.cache import KindSpec
from backends.kube.config import KubernetesConfig
from backends.kube.connect import KubeApi
import backends.kube.kinds.deployment as deployment
from backends.kube.kinds.base import (
    VERSION_LABEL,
    Act,
    ReadContext,
    ServiceRead,
    detect_runtime,
    image_tag,
)
from backends.kube.slim import EMPTY, Meta, images, own_annotations, parse_int, slim_meta

KIND = ServiceKind.LLM_INFERENCE_SERVICE
GROUP, VERSION, PLURAL = "serving.kserve.io", "v1alpha1", "llminferenceservices"
CRD = True
UNSUPPORTED = ("{action} is not supported for an LLMInferenceService: KServe keeps no "
               "revisions or canary for it (its workload rolls out in place); change its "
               "spec with kubectl")
#: the condition types that say which part is not ready (lifecycle.go), in order
PARTS = ("MainWorkloadReady", "WorkerWorkloadReady", "PrefillWorkloadReady",
         "PrefillWorkerWorkloadReady", "SchedulerWorkloadReady", "InferencePoolReady",
         "HTTPRoutesReady", "GatewaysReady", "WorkloadsReady", "RouterReady")


@dataclass(frozen=True, slots=True)
class LLMInferenceServiceRec:
    meta: Meta
    model_uri: str | None
    model_name: str | None
    replicas: int | None
    images: tuple[str, ...]
    multi_node: bool
    prefill: bool
    router: str | None  # "route", "gateway", "ingress" (+ "scheduler"), None = not exposed
    url: str | None
    ready: bool | None
    not_ready: tuple[str, ...]  # "<condition>: <reason> <message>" of the parts not ready
    generation: int | None
    observed_generation: int | None
    own: Mapping[str, str] = field(default_factory=lambda: EMPTY)


def slim_llmisvc(obj: dict) -> LLMInferenceServiceRec:
    m, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    raw = obj.get("status")
    st: dict = raw if isinstance(raw, dict) else {}
    found = spec.get("model")
    model: dict = found if isinstance(found, dict) else {}
    router = spec.get("router") if isinstance(spec.get("router"), dict) else None
    parts = [k for k in ("route", "gateway", "ingress", "scheduler") if router and k in router]
    conds = {str(c.get("type")): c for c in st.get("conditions") or []
             if isinstance(c, dict) and c.get("type")}
    ready = conds.get("Ready")
    failing = tuple(
        f"{t}: " + " ".join(str(x) for x in (conds[t].get("reason"), conds[t].get("message"))
                            if x) for t in PARTS if t in conds and conds[t].get("status") == "False")
    return LLMInferenceServiceRec(
        slim_meta(obj), model.get("uri"), model.get("name"),
        parse_int(spec.get("replicas")) if spec.get("replicas") is not None else None,
        images(spec.get("template")), isinstance(spec.get("worker"), dict),
        isinstance(spec.get("prefill"), dict), "+".join(parts) or None,
        st.get("url") if isinstance(st.get("url"), str) else None,
        (ready.get("status") == "True") if ready else None, failing,
        parse_int(m.get("generation")), parse_int(st.get("observedGeneration")),
        own_annotations(m))


def caches(config: KubernetesConfig) -> tuple[KindSpec, ...]:
    # its main workload is a Deployment it controls (followed once, by the Deployment kind)
    return (KindSpec(PLURAL, f"{GROUP}/{VERSION}", PLURAL, slim_llmisvc),
            *deployment.caches(config))


def workload_of(ctx: ReadContext, rec: LLMInferenceServiceRec) -> deployment.DeploymentRec | None:
    """Its main workload Deployment (controlled by it; not the scheduler's or prefill's
    when those are told apart by name: ``-kserve`` first, ``-prefill``/``-epp`` last)."""
    mine = [d for d in ctx.objects(deployment.PLURAL).values()
            if rec.meta.uid and getattr(d, "owner_uid", None) == rec.meta.uid]
    mine.sort(key=lambda d: (not d.meta.name.endswith("-kserve"),
                             "prefill" in d.meta.name or "epp" in d.meta.name
                             or "scheduler" in d.meta.name, d.meta.name))
    return mine[0] if mine else None


def read(ctx: ReadContext) -> Iterator[ServiceRead]:
    rec: LLMInferenceServiceRec
    for rec in ctx.objects(PLURAL).values():
        work = workload_of(ctx, rec)
        image = rec.images[0] if rec.images else (
            work.images[0] if work is not None and work.images else None)
        version, label = running_version(image_tag(image), rec.meta.labels.get(VERSION_LABEL))
        notes = [f"model {rec.model_name or rec.meta.name} from {rec.model_uri or '(no uri)'}",
                 "no traffic split: one route, no canary (KServe rolls the workload out in "
                 "place)"]
        if rec.url:
            notes.append(f"url {rec.url}")
        notes.append(f"router: {rec.router}" if rec.router else
                     "router: none (not exposed outside the cluster)")
        if rec.multi_node:
            notes.append("multi-node (spec.worker): replicas are groups of pods")
        if rec.prefill:
            notes.append("disaggregated: a separate prefill workload")
        if not rec.images and work is None:
            notes.append("image unknown: no spec.template and no workload in view (an "
                         "LLMInferenceServiceConfig preset supplies it)")
        notes.extend(f"not ready: {why}" for why in rec.not_ready)
        desired = rec.replicas if rec.replicas is not None else (
            work.replicas if work is not None else 1)
        svc = ModelService(
            name=rec.meta.name, namespace=rec.meta.namespace or "", cluster=ctx.context,
            kind=KIND, version=version, version_label=label, image=image or rec.model_uri,
            replicas_desired=desired, replicas_ready=work.ready if work is not None else None,
            runtime=detect_runtime(tuple(x for x in (image, rec.model_uri) if x)) or "vllm",
            rollout_in_progress=(work is not None and not deployment.deployment_progress(work)[0])
            or (rec.generation is not None and rec.observed_generation is not None
                and rec.observed_generation < rec.generation),
            labels=dict(rec.meta.labels), annotations=dict(rec.own), notes=tuple(notes))
        yield ServiceRead(svc, (), owner_uid=rec.meta.uid)


def progress(api: KubeApi, obj: dict) -> RolloutProgress:
    rec = slim_llmisvc(obj)
    if rec.ready:
        return RolloutProgress(done=True, phase="complete", message="Ready")
    return RolloutProgress(done=False, phase="progressing" if rec.ready is False else "unknown",
                           message="; ".join(rec.not_ready) or "not ready yet")


ACTIONS: Mapping[ActionKind, Act] = {}


def preflight(obj: dict, request: ActionRequest) -> tuple[Check, ...]:
    return ()
