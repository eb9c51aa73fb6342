"""Fixture objects built by code: workloads without pitboard's label, and KServe's current
shapes (not a test module). Each builder names the upstream file whose shape it follows;
nothing is copied from those files.

- ``deployment`` / ``statefulset``: k8s.io/api apps/v1 types.go (a pod template, a GPU
  request as an extended resource in requests and limits).
- ``leaderworkerset``: sigs.k8s.io/lws api/leaderworkerset/v1/leaderworkerset_types.go
  (``spec.replicas``, ``spec.leaderWorkerTemplate.size`` / ``leaderTemplate`` /
  ``workerTemplate``).
- ``raw_isvc``: kserve docs/samples (a custom predictor container) with the
  ``serving.kserve.io/deploymentMode`` annotation of argo-cd
  resource_customizations/serving.kserve.io/InferenceService/testdata/healthy_raw.yaml.
- ``llmisvc``: kserve pkg/apis/serving/v1alpha1/llm_inference_service_types.go and
  docs/samples/llmisvc/agentic-tool-calling/llmisvc-single-gpu.yaml (``model.uri`` /
  ``model.name``, ``replicas``, ``router.route`` / ``router.scheduler``, ``template``).
"""

from __future__ import annotations

from typing import Any

import yaml

from .conftest import ML_FLEET

NS = "ml-serving"
NAME = "app.kubernetes.io/name"


def base() -> list[dict[str, Any]]:
    """The access policy, namespaces and GPU nodes of the ml-fleet fixture, nothing else."""
    with open(ML_FLEET, encoding="utf-8") as fh:
        docs = [d for d in yaml.safe_load_all(fh) if d]
    return [d for d in docs if d.get("kind") in ("AccessPolicy", "Namespace", "Node")]


def _container(image: str, gpus: int, resource: str, name: str = "main") -> dict[str, Any]:
    c: dict[str, Any] = {"name": name, "image": image}
    if gpus:
        c["resources"] = {"requests": {resource: str(gpus)}, "limits": {resource: str(gpus)}}
    return c


def _template(labels: dict[str, str], image: str, gpus: int, resource: str) -> dict[str, Any]:
    return {"metadata": {"labels": dict(labels)},
            "spec": {"containers": [_container(image, gpus, resource)]}}


def deployment(name: str, image: str, *, gpus: int = 0, resource: str = "nvidia.com/gpu",
               labels: dict[str, str] | None = None, replicas: int = 1,
               ns: str = NS) -> dict[str, Any]:
    sel = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns, "labels": dict(labels or {})},
            "spec": {"replicas": replicas, "selector": {"matchLabels": sel},
                     "template": _template({**sel, **(labels or {})}, image, gpus, resource)}}


def statefulset(name: str, image: str, *, gpus: int = 0, resource: str = "nvidia.com/gpu",
                labels: dict[str, str] | None = None, replicas: int = 1,
                ns: str = NS) -> dict[str, Any]:
    sel = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": name, "namespace": ns, "labels": dict(labels or {})},
            "spec": {"replicas": replicas, "serviceName": name, "selector": {"matchLabels": sel},
                     "template": _template({**sel, **(labels or {})}, image, gpus, resource)}}


def leaderworkerset(name: str, image: str, *, size: int, replicas: int = 1, gpus: int = 0,
                    labels: dict[str, str] | None = None, ns: str = NS) -> dict[str, Any]:
    tmpl = _template({}, image, gpus, "nvidia.com/gpu")
    return {"apiVersion": "leaderworkerset.x-k8s.io/v1", "kind": "LeaderWorkerSet",
            "metadata": {"name": name, "namespace": ns, "labels": dict(labels or {})},
            "spec": {"replicas": replicas, "leaderWorkerTemplate": {
                "size": size, "workerTemplate": tmpl}}}


def raw_isvc(name: str, image: str, *, mode: str = "RawDeployment", canary: int | None = None,
             labels: dict[str, str] | None = None, ns: str = NS) -> dict[str, Any]:
    pred: dict[str, Any] = {"containers": [{"name": "kserve-container", "image": image}]}
    if canary is not None:
        pred["canaryTrafficPercent"] = canary
    return {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
            "metadata": {"name": name, "namespace": ns, "labels": dict(labels or {}),
                         "annotations": {"serving.kserve.io/deploymentMode": mode}},
            "spec": {"predictor": pred}}


def llmisvc(name: str, uri: str, image: str | None, *, replicas: int = 1, gpus: int = 1,
            served: str | None = None, ns: str = NS) -> dict[str, Any]:
    spec: dict[str, Any] = {"model": {"uri": uri, "name": served or name}, "replicas": replicas,
                            "router": {"route": {}, "scheduler": {}}}
    if image:
        spec["template"] = {"containers": [_container(image, gpus, "nvidia.com/gpu")]}
    return {"apiVersion": "serving.kserve.io/v1alpha1", "kind": "LLMInferenceService",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def unlabelled_fleet() -> list[dict[str, Any]]:
    """A fleet built as a new user would: ordinary workloads labelled only
    app.kubernetes.io/name, some asking for GPUs; one web Deployment with neither."""
    return [
        *base(),
        deployment("qwen-chat", "vllm/vllm-openai:v0.11.0", gpus=2, replicas=2,
                   labels={NAME: "qwen-chat"}),
        deployment("bge-embed", "ghcr.io/huggingface/text-embeddings-inference:1.8",
                   gpus=1, labels={NAME: "bge-embed"}),
        deployment("rocm-ranker", "rocm/vllm:rocm6.4_vllm0.10", gpus=1, resource="amd.com/gpu"),
        deployment("static-web", "nginx:1.27"),  # no label, no GPU: not a model
        statefulset("sglang-r1", "lmsysorg/sglang:v0.5.3", gpus=1, replicas=2),
        leaderworkerset("llama-405b", "vllm/vllm-openai:v0.11.0", size=2, replicas=1, gpus=4,
                        labels={NAME: "llama-405b"}),
    ]


def kserve_fleet() -> list[dict[str, Any]]:
    """KServe as it ships now: a raw-deployment InferenceService (with a canary percent
    that raw mode does not apply) and an LLMInferenceService."""
    return [
        *base(),
        raw_isvc("iris-raw", "kserve/sklearnserver:v0.15.2", canary=10),
        raw_isvc("digits-std", "kserve/sklearnserver:v0.16.0", mode="Standard"),
        llmisvc("qwen-coder", "hf://Qwen/Qwen3-Coder-30B-A3B-Instruct-FP8",
                "ghcr.io/llm-d/llm-d-cuda:v0.9.0", served="Qwen/Qwen3-Coder-30B-A3B-Instruct-FP8"),
    ]


def empty_fleet() -> list[dict[str, Any]]:
    """Nothing pitboard would call a model: a web Deployment without labels or GPUs."""
    return [*base(), deployment("static-web", "nginx:1.27")]
