"""Pure parts of the Prometheus backend: config, templates, quantiles, answers."""

from __future__ import annotations

import json
import math
import tracemalloc

import pytest
import requests
from prometheus_api_client.exceptions import PrometheusApiClientException
from pydantic import ValidationError

from backends.alertmanager import AlertmanagerAlerts
from backends.domain.errors import BackendError, ConfigError, ForbiddenError
from backends.prometheus.client import QueryRejected, decode_result, map_exception, parse_result
from backends.prometheus.cost import table_price
from backends.prometheus.calc import bucket_quantile, chart_step, matcher
from backends.prometheus.profiles import default_profiles, render
from backends.prometheus.backend import PrometheusMetrics
from backends.prometheus.config import AlertmanagerConfig, PrometheusConfig
from tests.prometheus.generators import EVIL, quantile_from_rates


@pytest.mark.parametrize("body", [
    {"bearer_token": "x"}, {"password": "x"}, {"headers": {"Authorization": "Bearer x"}},
])
def test_secrets_in_clear_are_refused(body):
    with pytest.raises(ValidationError, match="file|env"):
        PrometheusConfig(url="http://p:9090", **body)


@pytest.mark.parametrize(("body", "reason"), [
    ({"url": "prometheus:9090"}, "http:// or https://"),
    ({"bearer_token_file": "a", "bearer_token_env": "B"}, "not both"),
    ({"basic_auth_password_env": "B"}, "needs basic_auth_user"),
    ({"insecure": True, "ca_file": "ca.pem"}, "ignores ca_file"),
    ({"timeout_s": 0}, "greater than 0"),
    ({"profiles": {"mine": {"queries": {}}}}, "kind"),
    ({"gpu_prices": {"H100": -1}}, ">= 0"),
    ({"headers": {"": "v"}}, "not a valid HTTP field name"),
    ({"headers": {"X Org": "v"}}, "not a valid HTTP field name"),
    ({"headers": {"X-Org": "a\r\nInjected: 1"}}, "holds a control character"),
    ({"headers": {"X-Org": "a\x00"}}, "holds a control character"),
])
def test_bad_config_says_why(body, reason):
    with pytest.raises(ValidationError, match=reason):
        PrometheusConfig(**body)


def test_good_headers_are_kept():
    cfg = AlertmanagerConfig(url="http://a:9093",
                             headers={"X-Scope-OrgID": "tenant-1", "X-Note": "a\tb c!"})
    assert cfg.headers == {"X-Scope-OrgID": "tenant-1", "X-Note": "a\tb c!"}


def test_a_secret_file_is_read_up_to_64_kib(tmp_path):
    from backends.prometheus.client import read_secret

    token = tmp_path / "token"
    token.write_text("  s3cret\n", encoding="utf-8")
    assert read_secret(str(token), None, "bearer token") == "s3cret"
    with pytest.raises(ConfigError, match="/dev/zero is over 64 KiB: not a secret file"):
        read_secret("/dev/zero", None, "bearer token")
    token.write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError, match="is not UTF-8 text"):
        read_secret(str(token), None, "bearer token")


def test_profile_override_keeps_other_queries():
    cfg = PrometheusConfig(profiles={"vllm": {"queries": {"queue": "q"}, "enabled": True},
                                     "mine": {"kind": "serving", "model_label": "svc"}})
    defaults = default_profiles()["vllm"].queries
    assert cfg.profiles["vllm"].queries == {**defaults, "queue": "q"}
    assert cfg.profiles["vllm"].enabled is True
    assert cfg.profiles["mine"].model_label == "svc" and "dcgm" in cfg.profiles
    assert PrometheusConfig().timeout_s == 5.0
    assert AlertmanagerConfig(url="http://am:9093/").url == "http://am:9093"


def test_constructors_are_cheap_and_check_the_url():
    PrometheusMetrics(PrometheusConfig(url="http://10.255.255.1:9090")).close()  # no I/O
    AlertmanagerAlerts(AlertmanagerConfig(url="http://10.255.255.1:9093")).close()
    with pytest.raises(ConfigError, match="--prometheus"):
        PrometheusMetrics(PrometheusConfig())
    with pytest.raises(ConfigError, match="--alertmanager"):
        AlertmanagerAlerts(AlertmanagerConfig())


def test_render_and_matcher_escape_label_values():
    p = default_profiles()["vllm"]
    q = render(p.queries["requests"], p, window="300s", match=matcher("model_name", EVIL))
    assert "$" not in q and "[300s]" in q
    assert "by (model_name, namespace, exported_namespace, namespace_name)" in q
    assert json.loads(matcher("m", EVIL).split("=", 1)[1]) == EVIL  # a valid literal
    kserve = default_profiles()["kserve"]
    assert "revision_name)" in render(kserve.queries["requests"], kserve, window="1m")


@pytest.mark.parametrize("q", [0.01, 0.5, 0.9, 0.95, 0.99])
def test_bucket_quantile_matches_independent_computation(q):
    rates = {0.1: 3.0, 0.5: 10.0, 1.0: 14.0, 5.0: 20.0, math.inf: 21.0}
    assert bucket_quantile(q, rates.items()) == pytest.approx(quantile_from_rates(q, rates))


def test_bucket_quantile_edge_cases():
    assert bucket_quantile(0.5, [(1.0, 0.0), (math.inf, 0.0)]) is None        # no traffic
    assert bucket_quantile(0.5, [(1.0, 4.0)]) is None                       # no +Inf
    assert bucket_quantile(0.99, [(1.0, 1.0), (math.inf, 10.0)]) == 1.0     # in +Inf
    assert bucket_quantile(0.5, [(1.0, 6.0), (2.0, 5.0), (math.inf, 10.0)]) is not None


def test_chart_step_is_nice():
    assert chart_step(300) == 5 and chart_step(3600) == 30 and chart_step(86400) == 900


def test_table_price_lookup():
    prices = {"H100": 4.0, "H100 80GB": 4.5, "A100": 2.0}
    assert table_price("NVIDIA H100 80GB HBM3", prices, None) == 4.5  # longest key
    assert table_price("NVIDIA L4", prices, 0.7) == 0.7
    assert table_price(None, prices, None) is None


def test_answers_parse_and_map():
    assert parse_result([1.5, "NaN"])[0].value is None                      # scalar
    s = parse_result([{"metric": {"a": "b"}, "values": [[1, "1"], [2, "+Inf"]]}])[0]
    assert s.points == ((1.0, 1.0), (2.0, None))
    odd = parse_result([{"metric": {"gpu": 3, "ok": "x", "n": None}, "value": [1, "2"]}])[0]
    assert odd.labels == {"gpu": "3", "ok": "x", "n": "None"}  # a non-string label: as text
    with pytest.raises(BackendError, match="unexpected shape"):
        parse_result({"oops": 1})
    with pytest.raises(BackendError, match="malformed"):
        parse_result([{"metric": {}, "value": ["x"]}])
    body = json.dumps({"status": "error", "errorType": "bad_data", "error": "parse error"})
    rejected = map_exception(PrometheusApiClientException(
        f"HTTP Status Code 400 ({body.encode()!r})"), "up{")
    assert isinstance(rejected, QueryRejected) and "bad_data: parse error" in str(rejected)
    denied = map_exception(PrometheusApiClientException("HTTP Status Code 403 (b'no')"))
    assert isinstance(denied, ForbiddenError)
    assert map_exception(requests.exceptions.ConnectionError()).status == -1
    assert "timeout" in str(map_exception(requests.exceptions.ReadTimeout()))
    assert "unexpected shape" in str(map_exception(KeyError("data")))


def _fraud_health(ns_cluster: list[tuple[str, str, float, float]], cluster_label=None,
                  cluster_values=None, label_of=lambda context: context):
    """build_health over KServe-like series of model ``fraud`` (revision fraud-00001),
    one per (namespace, context, requests/s, errors/s), labelled ``cluster=label_of(context)``,
    for the services named ``fraud`` in those namespaces and contexts; and a snapshot
    holding what it gave."""
    from datetime import datetime, timezone

    from backends.domain.models import FleetSnapshot, ModelService
    from backends.prometheus.assemble import ModelJoiner, build_health
    from backends.prometheus.client import Sample

    at = datetime(2026, 11, 21, 14, tzinfo=timezone.utc)
    profile = default_profiles()["kserve"]
    answers: dict[str, list[Sample]] = {"requests": [], "errors": []}
    for ns, context, rps, errs in ns_cluster:
        labels = {"service_name": "fraud", "namespace_name": ns, "revision_name": "fraud-00001",
                  "cluster": label_of(context)}
        answers["requests"].append(Sample(labels, ((at.timestamp(), rps),)))
        answers["errors"].append(Sample(labels, ((at.timestamp(), errs),)))
    services = tuple(ModelService(name="fraud", namespace=ns, cluster=ctx)
                     for ns, ctx, _, _ in ns_cluster)
    cfg = PrometheusConfig(cluster_label=cluster_label, cluster_values=cluster_values or {})
    served = build_health([("kserve", profile, answers)],
                          ModelJoiner(services, cfg.cluster_of if cluster_label else None),
                          (0.5, 0.95, 0.99), at, {}, cluster_label)
    snap = FleetSnapshot(taken_at=at, context="c", services=services, health=served.health,
                         revision_health=served.revisions, service_health=served.by_service,
                         service_revision_health=served.revisions_by_service)
    return served, snap


def test_a_model_name_in_two_namespaces_keeps_each_namespaces_figures():
    """KServe names revisions after the service: ``fraud`` in namespaces a and b both have
    revision fraud-00001. Each service gets its own namespace's figures, whole-model and
    per revision; the by-name sample is one namespace's, not filled from the other's."""
    served, snap = _fraud_health([("a", "eu", 10.0, 0.0), ("b", "eu", 40.0, 4.0)])
    a, b = snap.services
    assert [(h.namespace, h.rps, h.error_ratio) for h in served.revisions["fraud"]] == [
        ("a", 10.0, 0.0), ("b", 40.0, 0.1)]
    assert (served.health["fraud"].namespace, served.health["fraud"].rps) == ("a", 10.0)
    assert (snap.health_of(a).rps, snap.health_of(b).rps) == (10.0, 40.0)
    assert [(h.rps, h.error_ratio) for h in snap.revision_health_of(b)] == [(40.0, 0.1)]


def test_same_named_models_in_two_contexts_are_told_apart_by_the_cluster_label():
    """Same name and namespace in contexts eu and us: without a cluster label the series
    (summed over both) are neither's; with ``cluster_label`` each context gets its own,
    ``cluster_values`` mapping a context to the label's value."""
    rows = [("ml", "eu", 10.0, 0.0), ("ml", "us", 40.0, 4.0)]
    _, snap = _fraud_health(rows)
    assert [snap.health_of(s) for s in snap.services] == [None, None]
    _, snap = _fraud_health(rows, cluster_label="cluster")
    assert [snap.health_of(s).rps for s in snap.services] == [10.0, 40.0]
    assert [[h.error_ratio for h in snap.revision_health_of(s)] for s in snap.services] == [
        [0.0], [0.1]]
    # the contexts are called prod-eu / prod-us; the series say eu / us
    renamed = [("ml", "prod-eu", 10.0, 0.0), ("ml", "prod-us", 40.0, 4.0)]
    short = lambda context: context.removeprefix("prod-")  # noqa: E731
    _, snap = _fraud_health(renamed, cluster_label="cluster", label_of=short)
    assert [snap.health_of(s) for s in snap.services] == [None, None]
    _, snap = _fraud_health(renamed, cluster_label="cluster", label_of=short,
                            cluster_values={"prod-eu": "eu", "prod-us": "us"})
    assert [snap.health_of(s).rps for s in snap.services] == [10.0, 40.0]


def test_cluster_label_groups_serving_queries_and_must_be_a_label_name():
    kserve = default_profiles()["kserve"]
    assert "revision_name, cluster)" in render(kserve.queries["requests"], kserve,
                                               cluster_label="cluster", window="1m")
    dcgm = default_profiles()["dcgm"]
    assert "cluster" not in render(dcgm.queries["util"], dcgm, cluster_label="cluster")
    with pytest.raises(ValidationError, match="not a Prometheus label name"):
        PrometheusConfig(cluster_label="cluster-name")


def _histogram_answer(models: int, buckets=("0.3", "0.5", "1", "2.5", "5", "10", "+Inf")) -> bytes:
    """An instant answer of ``sum by (le, model_name, namespace, cluster)`` over vLLM's
    e2e latency histogram (vLLM METRICS-TABLE: ``vllm:e2e_request_latency_seconds``),
    as Prometheus' /api/v1/query writes it."""
    result = [{"metric": {"cluster": f"c{m % 20:02d}", "le": le, "model_name": f"model-{m:04d}",
                          "namespace": "serving"}, "value": [1796661255.5, f"{i * 0.25:g}"]}
              for m in range(models) for i, le in enumerate(buckets)]
    return json.dumps({"status": "success",
                       "data": {"resultType": "vector", "result": result}}).encode()


def test_decode_result_makes_the_samples_and_shares_what_series_repeat():
    samples = decode_result(_histogram_answer(3))
    assert len(samples) == 21
    first, second = samples[0], samples[7]
    assert first.labels == {"cluster": "c00", "le": "0.3", "model_name": "model-0000",
                            "namespace": "serving"}
    assert first.points == ((1796661255.5, 0.0),) and samples[1].value == 0.25
    assert first.labels["le"] is second.labels["le"]  # one string per distinct value
    assert first.labels["namespace"] is second.labels["namespace"]
    assert first.points[0][0] is second.points[0][0]  # one float per instant
    # the same as the decoded JSON parsed series by series
    assert samples == parse_result(json.loads(_histogram_answer(3))["data"]["result"])


def test_decode_result_keeps_every_shape_parse_result_takes():
    def body(result) -> str:
        return json.dumps({"status": "success", "data": {"resultType": "x", "result": result}})

    assert decode_result(body([1.5, "NaN"]))[0].value is None  # a scalar
    ranged = decode_result(body([{"metric": {"a": "b"}, "values": [[1, "1"], [2, "-Inf"]]}]))
    assert ranged[0].points == ((1.0, 1.0), (2.0, None))
    # a label set that happens to be named like a series' keys is labels, not a series
    named = decode_result(body([{"metric": {"metric": "m", "value": "v"}, "value": [1, "2"]}]))
    assert named[0].labels == {"metric": "m", "value": "v"} and named[0].value == 2.0
    odd = decode_result(body([{"metric": {"gpu": 3}, "value": [1, "2"]}]))
    assert odd[0].labels == {"gpu": "3"}
    assert decode_result(b'{"status":"success","data":{"result":[{"metric":{"m":"\xff"},'
                         b'"value":[1,"1"]}]}}')[0].labels == {"m": "\ufffd"}  # as requests
    with pytest.raises(BackendError, match="malformed"):
        decode_result(body([{"metric": {}, "value": ["x", "1"]}]))
    with pytest.raises(BackendError, match="malformed"):
        decode_result(body([{"metric": {}, "value": [[1], "1"]}]))  # an unhashable instant
    with pytest.raises(BackendError, match="unexpected shape"):
        decode_result(body({"oops": 1}))
    with pytest.raises(BackendError, match="unexpected shape"):
        decode_result('["not", "an", "answer"]')
    with pytest.raises(json.JSONDecodeError):  # mapped by map_exception, as before
        decode_result(b"<html>login</html>")


def test_decode_result_never_holds_the_answer_as_json_beside_its_samples():
    """Its peak is below what the decoded JSON alone holds (the library's
    ``response.json()`` then ``parse_result`` held both at once)."""
    body = _histogram_answer(600)

    def peak(fn) -> int:
        tracemalloc.start()
        try:
            kept = fn()
            assert kept
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    as_json = peak(lambda: json.loads(body))
    both = peak(lambda: parse_result(json.loads(body)["data"]["result"]))
    decoded = peak(lambda: decode_result(body))
    assert decoded < as_json < both
    assert decoded < 0.6 * both
