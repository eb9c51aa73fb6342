"""Watch semantics: streamed events, resourceVersion resume, drops, 410 Gone after compaction."""

from __future__ import annotations

import http.client
import json
import threading
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

from .apiserver import ApiServer

NS = "ml-serving"
DEPLOY = f"/apis/apps/v1/namespaces/{NS}/deployments"


def stream(server: ApiServer, path: str, query: dict[str, str]) -> tuple[http.client.HTTPResponse, Any]:
    conn = http.client.HTTPConnection(urlsplit(server.url).netloc, timeout=10)
    conn.request("GET", path + "?" + urlencode({"watch": "true", **query}),
                 headers={"Authorization": "Bearer admin-token"})
    return conn.getresponse(), conn


def read_events(resp: http.client.HTTPResponse, n: int) -> list[dict[str, Any]]:
    return [json.loads(resp.readline()) for _ in range(n)]


def wait_for(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.01)


def patch(server: ApiServer, name: str, body: dict[str, Any]) -> None:
    conn = http.client.HTTPConnection(urlsplit(server.url).netloc, timeout=10)
    conn.request("PATCH", f"{DEPLOY}/{name}", body=json.dumps(body),
                 headers={"Authorization": "Bearer admin-token", "Content-Type": "application/merge-patch+json"})
    assert conn.getresponse().status == 200
    conn.close()


def test_watch_from_rv_streams_changes_and_ends_on_timeout(apiserver: ApiServer) -> None:
    rv = apiserver.get_object("apps/v1", "deployments", NS, "ranker")["metadata"]["resourceVersion"]
    resp, conn = stream(apiserver, DEPLOY, {"resourceVersion": rv, "fieldSelector": "metadata.name=ranker",
                                            "timeoutSeconds": "1", "allowWatchBookmarks": "true"})
    assert resp.status == 200 and resp.getheader("Transfer-Encoding") == "chunked"
    wait_for(lambda: apiserver.open_watches == 1)
    patch(apiserver, "ranker", {"metadata": {"labels": {"x": "1"}}})
    patch(apiserver, "embedder", {"metadata": {"labels": {"x": "1"}}})
    event = read_events(resp, 1)[0]
    assert event["type"] == "MODIFIED" and event["object"]["metadata"]["labels"]["x"] == "1"
    rest = [json.loads(line) for line in resp.read().splitlines()]  # ends cleanly at timeoutSeconds
    assert [e["type"] for e in rest] == ["BOOKMARK"]
    assert rest[0]["object"]["metadata"]["resourceVersion"] == event["object"]["metadata"]["resourceVersion"]
    conn.close()


def test_watch_without_rv_sends_added_then_label_transitions(apiserver: ApiServer) -> None:
    resp, conn = stream(apiserver, DEPLOY, {"labelSelector": "tier=gold", "timeoutSeconds": "5"})
    wait_for(lambda: apiserver.open_watches == 1)
    patch(apiserver, "ranker", {"metadata": {"labels": {"tier": "gold"}}})
    patch(apiserver, "ranker", {"metadata": {"labels": {"tier": None}}})
    assert [e["type"] for e in read_events(resp, 2)] == ["ADDED", "DELETED"]
    apiserver.drop_watches()
    conn.close()


def test_resume_after_drop_and_410_after_compaction(apiserver: ApiServer) -> None:
    rv = str(apiserver.store.rv)  # the resourceVersion a LIST would return now
    resp, conn = stream(apiserver, DEPLOY, {"resourceVersion": rv})
    wait_for(lambda: apiserver.open_watches == 1)
    assert apiserver.drop_watches() == 1
    with pytest.raises((http.client.IncompleteRead, ConnectionError, http.client.HTTPException)):
        resp.read()
    conn.close()
    patch(apiserver, "ranker", {"metadata": {"labels": {"y": "2"}}})
    resp, conn = stream(apiserver, DEPLOY, {"resourceVersion": rv, "timeoutSeconds": "1"})
    events = read_events(resp, 1)
    assert events[0]["type"] == "MODIFIED" and events[0]["object"]["metadata"]["labels"]["y"] == "2"
    conn.close()
    apiserver.compact()
    resp, conn = stream(apiserver, DEPLOY, {"resourceVersion": rv})
    error = read_events(resp, 1)[0]
    assert error["type"] == "ERROR" and error["object"]["code"] == 410 and error["object"]["reason"] == "Expired"
    assert resp.read() == b""
    conn.close()


def test_kubernetes_client_sees_410_and_continue_expiry(apiserver: ApiServer) -> None:
    api = config.new_client_from_config(config_file=str(apiserver.kubeconfig), context="test-admin")
    apps = client.AppsV1Api(api)
    first = apps.list_namespaced_deployment(NS, limit=2)
    apiserver.compact()
    with pytest.raises(ApiException) as err:
        apps.list_namespaced_deployment(NS, limit=2, _continue=first.metadata._continue)
    assert err.value.status == 410
    with pytest.raises(ApiException) as err:
        for _ in watch.Watch().stream(apps.list_namespaced_deployment, NS,
                                      resource_version=first.metadata.resource_version, timeout_seconds=2):
            pass
    assert err.value.status == 410
    api.close()


def test_injected_410_on_watch_and_delay(apiserver: ApiServer) -> None:
    apiserver.inject("GET", r"watch=true", 410)
    resp, conn = stream(apiserver, DEPLOY, {"resourceVersion": "1"})
    assert resp.status == 200 and read_events(resp, 1)[0]["object"]["code"] == 410
    conn.close()
    apiserver.inject("GET", r"/deployments$", None, delay_s=0.3)
    started = time.monotonic()
    resp, conn = stream(apiserver, DEPLOY, {"timeoutSeconds": "1"})
    assert time.monotonic() - started >= 0.3
    conn.close()


def test_delayed_rollout_is_observable(apiserver: ApiServer) -> None:
    apiserver.rollout_delay_s = 30
    patch(apiserver, "embedder", {"spec": {"template": {"metadata": {"labels": {"app.kubernetes.io/version": "25"}}}}})
    dep = apiserver.get_object("apps/v1", "deployments", NS, "embedder")
    assert dep["status"]["updatedReplicas"] == 2 and dep["status"]["replicas"] == 4
    assert dep["status"]["conditions"][1]["reason"] == "ReplicaSetUpdated"
    done = threading.Event()
    threading.Thread(target=lambda: (apiserver.finish_rollouts(), done.set()), daemon=True).start()
    assert done.wait(5)
    dep = apiserver.get_object("apps/v1", "deployments", NS, "embedder")
    assert dep["status"]["replicas"] == 2 and dep["status"]["conditions"][1]["reason"] == "NewReplicaSetAvailable"


def _reader(resp: http.client.HTTPResponse) -> list[dict[str, Any]]:
    """Events read from ``resp`` by a background thread, as they arrive."""
    got: list[dict[str, Any]] = []

    def run() -> None:
        try:
            for line in resp:
                if line.strip():
                    got.append(json.loads(line))
        except Exception:  # noqa: BLE001 - the stream cut or closed under the reader: done
            pass

    threading.Thread(target=run, daemon=True).start()
    return got


def test_periodic_bookmarks_carry_the_current_resource_version(apiserver: ApiServer) -> None:
    apiserver.bookmark_interval_s = 0.2
    rv = str(apiserver.store.rv)
    resp, conn = stream(apiserver, DEPLOY, {"resourceVersion": rv, "timeoutSeconds": "30",
                                            "allowWatchBookmarks": "true"})
    got = _reader(resp)
    wait_for(lambda: sum(e["type"] == "BOOKMARK" for e in got) >= 2)
    patch(apiserver, "ranker", {"metadata": {"labels": {"x": "1"}}})
    wait_for(lambda: any(e["type"] == "MODIFIED" for e in got))
    changed = next(e for e in got if e["type"] == "MODIFIED")["object"]["metadata"]["resourceVersion"]
    wait_for(lambda: got[-1]["type"] == "BOOKMARK" and
             int(got[-1]["object"]["metadata"]["resourceVersion"]) >= int(changed))
    marks = [e for e in got if e["type"] == "BOOKMARK"]
    for mark in marks:  # only the kind and the resourceVersion, as the real apiserver sends
        assert mark["object"] == {"kind": "Deployment", "apiVersion": "apps/v1",
                                  "metadata": {"resourceVersion": mark["object"]["metadata"]["resourceVersion"]}}
    assert marks[-1]["object"]["metadata"]["resourceVersion"] == str(apiserver.store.rv)
    apiserver.drop_watches()
    conn.close()

    # a watch resumed from the last bookmark misses nothing made after it
    resp, conn = stream(apiserver, DEPLOY, {"resourceVersion": marks[-1]["object"]["metadata"]["resourceVersion"],
                                            "timeoutSeconds": "30"})
    got = _reader(resp)
    wait_for(lambda: apiserver.open_watches == 1)
    patch(apiserver, "embedder", {"metadata": {"labels": {"x": "2"}}})
    wait_for(lambda: [e["type"] for e in got] == ["MODIFIED"])
    assert got[0]["object"]["metadata"]["name"] == "embedder"
    apiserver.drop_watches()
    conn.close()


def test_no_bookmark_without_allow_watch_bookmarks(apiserver: ApiServer) -> None:
    apiserver.bookmark_interval_s = 0.05
    rv = str(apiserver.store.rv)
    resp, conn = stream(apiserver, DEPLOY, {"resourceVersion": rv, "timeoutSeconds": "1"})
    events = [json.loads(line) for line in resp.read().splitlines() if line.strip()]
    assert events == []  # 1 s of 0.05 s bookmark intervals, none asked for: none sent
    conn.close()


def test_a_silenced_watch_stays_open_and_sends_nothing_until_lifted(apiserver: ApiServer) -> None:
    apiserver.bookmark_interval_s = 0.1
    rv = str(apiserver.store.rv)
    resp, conn = stream(apiserver, DEPLOY, {"resourceVersion": rv, "timeoutSeconds": "1",
                                            "allowWatchBookmarks": "true"})
    got = _reader(resp)
    wait_for(lambda: any(e["type"] == "BOOKMARK" for e in got))
    apiserver.silence_watches("deployments")
    time.sleep(0.3)  # let a bookmark already on its way arrive
    before = len(got)
    patch(apiserver, "ranker", {"metadata": {"labels": {"x": "silent"}}})
    end = time.monotonic() + 1.5  # past timeoutSeconds and many bookmark intervals
    while time.monotonic() < end:
        assert len(got) == before and apiserver.open_watches == 1
        time.sleep(0.05)
    apiserver.silence_watches(None)
    wait_for(lambda: any(e["type"] == "MODIFIED" for e in got[before:]))
    assert next(e for e in got[before:] if e["type"] == "MODIFIED")["object"]["metadata"]["labels"]["x"] == "silent"
    conn.close()
