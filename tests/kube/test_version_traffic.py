"""What the console calls a model's version is what runs (the image tag of the current
revision; the label beside it when they differ), and a traffic split reads
``stable 90 / canary 10`` the same way for every kind."""

from __future__ import annotations

import pytest

from backends.domain.models import ModelService, TrafficTarget, ordered_traffic, traffic_text

from .helpers import NS, cluster, eventually, merge_patch

pytestmark = pytest.mark.integration


def svc(c, name: str) -> ModelService:
    return next(s for s in c.read().services if s.name == name)


def test_set_image_shows_what_runs_with_the_label_beside(apiserver):
    c = cluster(apiserver)
    try:
        before = svc(c, "llama-chat")
        assert before.version_label is None  # label and image tag agree
        merge_patch(apiserver, f"/apis/apps/v1/namespaces/{NS}/deployments/llama-chat",
                    {"spec": {"template": {"spec": {"containers": [
                        {"name": "vllm", "image": "vllm/vllm-openai:v0.8.0"}]}}}})
        after = eventually(lambda: (s := svc(c, "llama-chat")).version == "v0.8.0" and s)
        assert after.version_label == before.version  # the label still says the old one
        assert after.version_text == f"v0.8.0 (label {before.version})"
        # the new ReplicaSet becomes the current revision once the controller has rolled it
        # (a read between the template change and that can still show the old one current)
        newest = eventually(lambda: (r := c.read().revisions[after.key][0]).current and r)
        assert newest.version == "v0.8.0"
    finally:
        c.close()


def test_traffic_is_stable_first_and_labelled_for_every_kind(apiserver):
    c = cluster(apiserver)
    try:
        bert = svc(c, "sentiment-bert")  # KServe lists the canary (latest) first
        assert [t.role for t in bert.traffic] == ["stable", "canary"]
        assert bert.traffic_text == "stable 90 / canary 10"
        mistral = svc(c, "mistral-chat")  # Argo, paused at its first canary step
        assert [t.role for t in mistral.traffic] == ["stable", "canary"]
        assert mistral.traffic_text == "stable 80 / canary 20"
        # a Deployment rolled out: its current revision takes everything, as in the demo
        llama = svc(c, "llama-chat")
        assert llama.traffic_text == "stable 100" and not llama.rollout_in_progress
        current = next(r for r in c.read().revisions[llama.key] if r.current)
        assert llama.traffic[0].revision == str(current.number)
        assert current.traffic_percent == 100.0  # the history says the same
    finally:
        c.close()


def test_the_order_and_text_helpers():
    legs = (TrafficTarget(revision="b", percent=10, role="canary"),
            TrafficTarget(revision="a", percent=60, role="stable"))
    assert [t.revision for t in ordered_traffic(legs)] == ["a", "b"]
    assert traffic_text(legs) == "stable 60 / canary 10"  # need not sum to 100
    assert traffic_text(()) == ""
