"""REST behaviour of the test API server: discovery, auth, reads, writes, patches, errors, faults."""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from .apiserver import ApiServer

NS = "ml-serving"
DEPLOY = f"/apis/apps/v1/namespaces/{NS}/deployments"


def call(server: ApiServer, method: str, path: str, body: Any = None, token: str | None = "admin-token",
         ctype: str = "application/json", query: dict[str, str] | None = None,
         accept: str = "application/json") -> tuple[int, Any]:
    """One request on the token port; returns (status, decoded JSON)."""
    conn = http.client.HTTPConnection(urlsplit(server.url).netloc, timeout=10)
    headers = {"Accept": accept}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = ctype
    conn.request(method, path + ("?" + urlencode(query) if query else ""), body=data, headers=headers)
    resp = conn.getresponse()
    raw = resp.read()
    conn.close()
    return resp.status, json.loads(raw) if raw else None


def test_discovery_documents(apiserver: ApiServer) -> None:
    assert call(apiserver, "GET", "/version")[1]["gitVersion"] == "v1.37.0"
    groups = {g["name"] for g in call(apiserver, "GET", "/apis")[1]["groups"]}
    assert {"apps", "serving.kserve.io", "argoproj.io", "authorization.k8s.io"} <= groups
    apps = call(apiserver, "GET", "/apis/apps/v1")[1]
    names = {r["name"] for r in apps["resources"]}
    assert {"deployments", "deployments/status", "replicasets"} <= names
    assert call(apiserver, "GET", "/openapi/v2")[0] == 404


def test_auth_required_and_identity_from_token(apiserver: ApiServer) -> None:
    code, body = call(apiserver, "GET", DEPLOY, token=None)
    assert code == 401 and body["reason"] == "Unauthorized"
    assert call(apiserver, "GET", DEPLOY, token="wrong")[0] == 401
    code, body = call(apiserver, "PATCH", f"{DEPLOY}/ranker", {"spec": {"replicas": 2}}, token="viewer-token",
                      ctype="application/merge-patch+json")
    assert code == 403
    assert body["message"] == ('deployments.apps "ranker" is forbidden: User "viewer" cannot patch resource '
                               '"deployments" in API group "apps" in the namespace "ml-serving"')
    assert apiserver.requests[-1].user == "viewer" and apiserver.requests[-1].status == 403


def test_ssar_from_policy(apiserver: ApiServer) -> None:
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
              "spec": {"resourceAttributes": {"namespace": NS, "verb": "patch", "group": "apps",
                                              "resource": "deployments", "name": "ranker"}}}
    path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
    assert call(apiserver, "POST", path, review)[1]["status"]["allowed"] is True
    assert call(apiserver, "POST", path, review, token="viewer-token")[1]["status"]["allowed"] is False
    assert call(apiserver, "POST", path, review, token="deployer-token")[1]["status"]["allowed"] is True
    review["spec"]["resourceAttributes"].update(resource="events", verb="create", group="")
    assert call(apiserver, "POST", path, review, token="deployer-token")[1]["status"]["allowed"] is False


def test_list_selectors_and_pagination(apiserver: ApiServer) -> None:
    code, body = call(apiserver, "GET", f"/api/v1/namespaces/{NS}/pods",
                      query={"labelSelector": "pitboard.io/model in (llama-chat,ranker),!missing"})
    assert code == 200 and body["kind"] == "PodList"
    assert sorted({p["metadata"]["labels"]["pitboard.io/model"] for p in body["items"]}) == ["llama-chat", "ranker"]
    assert "apiVersion" not in body["items"][0]  # built-in list items carry no TypeMeta, like the real server
    code, body = call(apiserver, "GET", "/apis/apps/v1/deployments", query={"fieldSelector": "metadata.namespace!=ml-serving"})
    assert [d["metadata"]["name"] for d in body["items"]] == ["batch-embedder"]
    code, body = call(apiserver, "GET", DEPLOY, query={"labelSelector": "app.kubernetes.io/name notin (ranker)"})
    assert "ranker" not in [d["metadata"]["name"] for d in body["items"]]
    seen, token = [], None
    while True:
        query = {"limit": "2"} | ({"continue": token} if token else {})
        body = call(apiserver, "GET", DEPLOY, query=query)[1]
        seen += [d["metadata"]["name"] for d in body["items"]]
        token = body["metadata"].get("continue")
        if not token:
            break
    assert seen == [d["metadata"]["name"] for d in apiserver.list_objects("apps/v1", "deployments", NS)]
    code, body = call(apiserver, "GET", DEPLOY, query={"fieldSelector": "spec.replicas=1"})
    assert code == 400 and body["message"] == "field label not supported: spec.replicas"
    assert call(apiserver, "GET", DEPLOY, query={"labelSelector": "a in (b"})[0] == 400


def test_events_field_selector(apiserver: ApiServer) -> None:
    dep = apiserver.get_object("apps/v1", "deployments", NS, "llama-chat")
    body = call(apiserver, "GET", f"/api/v1/namespaces/{NS}/events", query={
        "fieldSelector": f"involvedObject.name=llama-chat,involvedObject.kind=Deployment,"
                         f"involvedObject.uid={dep['metadata']['uid']}"})[1]
    assert [e["reason"] for e in body["items"]] == ["ScalingReplicaSet"]


def test_not_found_status(apiserver: ApiServer) -> None:
    code, body = call(apiserver, "GET", f"{DEPLOY}/nope")
    assert code == 404
    assert body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                    "message": 'deployments.apps "nope" not found', "reason": "NotFound", "code": 404,
                    "details": {"name": "nope", "group": "apps", "kind": "deployments"}}


def test_update_conflict_and_generation(apiserver: ApiServer) -> None:
    dep = call(apiserver, "GET", f"{DEPLOY}/embedder")[1]
    stale = json.loads(json.dumps(dep))
    dep["spec"]["replicas"] = 3
    code, updated = call(apiserver, "PUT", f"{DEPLOY}/embedder", dep)
    assert code == 200 and updated["metadata"]["generation"] == dep["metadata"]["generation"] + 1
    assert int(updated["metadata"]["resourceVersion"]) > int(dep["metadata"]["resourceVersion"])
    stale["spec"]["replicas"] = 1
    code, body = call(apiserver, "PUT", f"{DEPLOY}/embedder", stale)
    assert code == 409 and body["reason"] == "Conflict"
    assert "the object has been modified" in body["message"]
    stored = apiserver.get_object("apps/v1", "deployments", NS, "embedder")
    assert stored["spec"]["replicas"] == 3 and stored["status"]["readyReplicas"] == 3


def test_status_subresource_is_separate(apiserver: ApiServer) -> None:
    path = f"/apis/argoproj.io/v1alpha1/namespaces/{NS}/rollouts/mistral-chat"
    before = apiserver.get_object("argoproj.io/v1alpha1", "rollouts", NS, "mistral-chat")
    code, body = call(apiserver, "PATCH", path, {"status": {"phase": "Bogus"}}, ctype="application/merge-patch+json")
    assert code == 200 and body["status"]["phase"] == "Paused"
    code, body = call(apiserver, "PATCH", path + "/status", {"status": {"pauseConditions": None}},
                      ctype="application/merge-patch+json")
    assert code == 200 and "pauseConditions" not in body["status"]
    after = apiserver.get_object("argoproj.io/v1alpha1", "rollouts", NS, "mistral-chat")
    assert after["metadata"]["generation"] == before["metadata"]["generation"]
    assert after["status"]["phase"] == "Healthy"  # promoted: the controller finished the canary
    assert after["status"]["stableRS"] == after["status"]["currentPodHash"]


def test_patch_types(apiserver: ApiServer) -> None:
    sm = {"spec": {"template": {"spec": {"containers": [{"name": "vllm", "image": "vllm/vllm-openai:v0.8.0"}]}}}}
    code, body = call(apiserver, "PATCH", f"{DEPLOY}/llama-chat", sm, ctype="application/strategic-merge-patch+json")
    container = body["spec"]["template"]["spec"]["containers"][0]
    assert code == 200 and container["image"] == "vllm/vllm-openai:v0.8.0" and container["args"][0] == "--model"
    mp = {"metadata": {"annotations": {"team": "llm"}}}
    assert call(apiserver, "PATCH", f"{DEPLOY}/llama-chat", mp,
                ctype="application/merge-patch+json")[1]["metadata"]["annotations"]["team"] == "llm"
    jp = [{"op": "replace", "path": "/spec/replicas", "value": 1}]
    assert call(apiserver, "PATCH", f"{DEPLOY}/llama-chat", jp,
                ctype="application/json-patch+json")[1]["spec"]["replicas"] == 1
    bad = [{"op": "replace", "path": "/spec/nope/deeper", "value": 1}]
    assert call(apiserver, "PATCH", f"{DEPLOY}/llama-chat", bad, ctype="application/json-patch+json")[0] == 422
    isvc = f"/apis/serving.kserve.io/v1beta1/namespaces/{NS}/inferenceservices/sentiment-bert"
    code, body = call(apiserver, "PATCH", isvc, {"spec": {}}, ctype="application/strategic-merge-patch+json")
    assert code == 415
    code, body = call(apiserver, "PATCH", isvc, {"spec": {"predictor": {"canaryTrafficPercent": None}}},
                      ctype="application/merge-patch+json")
    assert code == 200 and "canaryTrafficPercent" not in body["spec"]["predictor"]


def test_controller_new_rs_and_change_cause(apiserver: ApiServer) -> None:
    patch = {"metadata": {"annotations": {"kubernetes.io/change-cause": "v0.8.0 [b]bold[/b]"}},
             "spec": {"template": {"spec": {"containers": [{"name": "vllm", "image": "vllm/vllm-openai:v0.8.0"}]}}}}
    call(apiserver, "PATCH", f"{DEPLOY}/llama-chat", patch, ctype="application/strategic-merge-patch+json")
    dep = apiserver.get_object("apps/v1", "deployments", NS, "llama-chat")
    assert dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "5"
    new = [rs for rs in apiserver.list_objects("apps/v1", "replicasets", NS)
           if rs["metadata"]["annotations"].get("deployment.kubernetes.io/revision") == "5"
           and rs["metadata"]["name"].startswith("llama-chat-")]
    assert len(new) == 1
    rs = new[0]
    assert rs["metadata"]["annotations"]["kubernetes.io/change-cause"] == "v0.8.0 [b]bold[/b]"
    assert rs["metadata"]["name"] == f"llama-chat-{rs['metadata']['labels']['pod-template-hash']}"
    assert rs["metadata"]["ownerReferences"][0]["uid"] == dep["metadata"]["uid"]
    assert rs["metadata"]["ownerReferences"][0]["controller"] is True
    assert dep["status"]["updatedReplicas"] == 2 and dep["status"]["observedGeneration"] == dep["metadata"]["generation"]
    assert [c["reason"] for c in dep["status"]["conditions"]] == ["MinimumReplicasAvailable", "NewReplicaSetAvailable"]


def test_paused_deployment_gets_no_new_rs(apiserver: ApiServer) -> None:
    before = len(apiserver.list_objects("apps/v1", "replicasets", NS))
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "asr", "image": "whisper:9"}]}}}}
    call(apiserver, "PATCH", f"{DEPLOY}/whisper-asr", patch, ctype="application/strategic-merge-patch+json")
    assert len(apiserver.list_objects("apps/v1", "replicasets", NS)) == before
    dep = apiserver.get_object("apps/v1", "deployments", NS, "whisper-asr")
    assert dep["status"]["conditions"][1]["reason"] == "DeploymentPaused"


def test_dry_run_on_every_verb(apiserver: ApiServer) -> None:
    snapshot = (apiserver.store.rv, apiserver.list_objects("apps/v1", "deployments"))
    dry = {"dryRun": "All"}
    dep = call(apiserver, "GET", f"{DEPLOY}/ranker")[1]
    dep["spec"]["replicas"] = 4
    assert call(apiserver, "PUT", f"{DEPLOY}/ranker", dep, query=dry)[1]["spec"]["replicas"] == 4
    assert call(apiserver, "PATCH", f"{DEPLOY}/ranker", {"spec": {"replicas": 5}}, query=dry,
                ctype="application/merge-patch+json")[1]["spec"]["replicas"] == 5
    new = {"metadata": {"name": "copy"}, "spec": dep["spec"]}
    code, created = call(apiserver, "POST", DEPLOY, new, query=dry)
    assert code == 201 and created["metadata"]["name"] == "copy"
    assert call(apiserver, "DELETE", f"{DEPLOY}/ranker", query=dry)[1]["status"] == "Success"
    assert (apiserver.store.rv, apiserver.list_objects("apps/v1", "deployments")) == snapshot
    assert call(apiserver, "PATCH", f"{DEPLOY}/ranker", {}, query={"dryRun": "Some"},
                ctype="application/merge-patch+json")[0] == 400


def test_create_delete_and_event_post(apiserver: ApiServer) -> None:
    event = {"apiVersion": "v1", "kind": "Event", "metadata": {"generateName": "ranker."},
             "involvedObject": {"kind": "Deployment", "name": "ranker", "namespace": NS, "apiVersion": "apps/v1"},
             "reason": "PitboardRollback", "message": "rolled back by pitboard", "type": "Normal"}
    code, body = call(apiserver, "POST", f"/api/v1/namespaces/{NS}/events", event)
    assert code == 201 and body["metadata"]["name"].startswith("ranker.")
    assert call(apiserver, "POST", f"/api/v1/namespaces/{NS}/events", body)[0] == 409
    assert call(apiserver, "POST", "/api/v1/namespaces/nope/events", event)[0] == 404
    code, body = call(apiserver, "DELETE", f"{DEPLOY}/ranker")
    assert code == 200 and body["status"] == "Success"
    assert not [p for p in apiserver.list_objects("v1", "pods", NS) if p["metadata"]["name"].startswith("ranker-")]
    assert not [r for r in apiserver.list_objects("apps/v1", "replicasets", NS)
                if r["metadata"]["name"].startswith("ranker-")]


def test_fault_injection_and_request_log(apiserver: ApiServer) -> None:
    apiserver.inject("GET", r"/deployments/ranker$", 500, times=1)
    apiserver.inject("PATCH", r"deployments", 409, times=2)
    assert call(apiserver, "GET", f"{DEPLOY}/ranker")[0] == 500
    assert call(apiserver, "GET", f"{DEPLOY}/ranker")[0] == 200
    for _ in range(2):
        assert call(apiserver, "PATCH", f"{DEPLOY}/ranker", {}, ctype="application/merge-patch+json")[0] == 409
    assert call(apiserver, "PATCH", f"{DEPLOY}/ranker", {}, ctype="application/merge-patch+json")[0] == 200
    custom = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 403, "reason": "Forbidden",
              "message": "custom"}
    apiserver.inject("*", r"replicasets", 403, body=custom)
    assert call(apiserver, "GET", f"/apis/apps/v1/namespaces/{NS}/replicasets")[1]["message"] == "custom"
    rec = apiserver.requests[-2]
    assert (rec.method, rec.path, rec.content_type, rec.body, rec.user, rec.status) == \
        ("PATCH", f"{DEPLOY}/ranker", "application/merge-patch+json", {}, "admin", 200)
    assert rec.mutating and not apiserver.requests[0].mutating


@pytest.mark.parametrize("accept", ["application/json;as=Table;v=v1;g=meta.k8s.io,application/json"])
def test_table_columns(apiserver: ApiServer, accept: str) -> None:
    body = call(apiserver, "GET", DEPLOY, accept=accept)[1]
    assert body["kind"] == "Table"
    assert [c["name"] for c in body["columnDefinitions"]][:5] == ["Name", "Ready", "Up-to-date", "Available", "Age"]
    row = next(r for r in body["rows"] if r["cells"][0] == "llama-chat")
    assert row["cells"][1:4] == ["2/2", 2, 2] and row["object"]["kind"] == "PartialObjectMetadata"
