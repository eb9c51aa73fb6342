"""pitboard's Alertmanager backend against a real Alertmanager fed by a real Prometheus.

A gauge of the live exporter crosses a rule's threshold -> Prometheus fires -> Alertmanager
holds the alert -> ``AlertmanagerAlerts`` lists it joined to its model (or GPU). Back to
normal, it resolves; a silence made through Alertmanager's API suppresses it until the
silence expires (at its ``endsAt``, or at once through the API).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from backends.alertmanager import AlertmanagerAlerts
from backends.domain.models import Alert
from backends.prometheus.config import AlertmanagerConfig
from tests.alertmanager.conftest import RUNBOOK_ERRORS, RUNBOOK_GPU
from tests.alertmanager.support import (
    create_silence,
    expire_silence,
    get_silence,
    list_silences,
    wait_for,
)
from tests.prometheus.generators import H100

pytestmark = pytest.mark.integration
ERRORS = "ModelErrorRateHigh"
SHORT_S = 4  # a short silence's length


@pytest.fixture
def backends(alert_stack) -> Iterator[tuple[AlertmanagerAlerts, AlertmanagerAlerts]]:
    """(default backend: silenced alerts hidden, backend that includes silenced ones)."""
    made = [AlertmanagerAlerts(AlertmanagerConfig(url=alert_stack.url, **extra))
            for extra in ({}, {"include_silenced": True})]
    yield made[0], made[1]
    for b in made:
        b.close()


def _model_alert(backend: AlertmanagerAlerts, model: str, state: str | None = None
                 ) -> Alert | None:
    return next((a for a in backend.alerts() if a.name == ERRORS and a.model == model
                 and (state is None or a.state == state)), None)


@pytest.fixture
def error_ratio(alert_stack):
    """Set a model's error ratio on the exporter; every series set is removed afterwards."""
    gauge = alert_stack.exporter.error_ratio
    made: list[tuple[str, str]] = []

    def set_ratio(model: str, namespace: str, value: float) -> None:
        gauge.labels(model, namespace).set(value)
        made.append((model, namespace))

    yield set_ratio
    for labels in set(made):
        gauge.remove(*labels)


def test_firing_alerts_are_listed_joined_to_their_model_and_gpu(alert_stack, backends,
                                                                error_ratio):
    default, _ = backends
    before = datetime.now(timezone.utc) - timedelta(seconds=1)
    error_ratio("fraud-detector", "risk", 0.25)
    error_ratio("fraud-detector-calm", "risk", 0.01)  # below the threshold: never fires
    temp = alert_stack.exporter.gpu_temp
    temp.labels("3", "GPU-hot-3", H100, "gpu-node-hot").set(91)
    temp.labels("4", "GPU-cool-4", H100, "gpu-node-hot").set(60)
    try:
        alert = wait_for(lambda: _model_alert(default, "fraud-detector"), "model alert fired",
                         deadline_s=30)  # the first alert waits for Prometheus' first rounds
        gpu = wait_for(lambda: next((a for a in default.alerts()
                                     if a.gpu_uuid == "GPU-hot-3"), None), "GPU alert fired")
        assert (alert.name, alert.severity, alert.state) == (ERRORS, "critical", "firing")
        assert alert.labels["namespace"] == "risk" and alert.labels["job"] == "live"
        assert alert.summary == "fraud-detector in risk fails 25% of requests"
        assert alert.runbook_url == RUNBOOK_ERRORS
        assert alert.gpu_uuid is None
        assert before <= alert.starts_at <= datetime.now(timezone.utc)
        assert (gpu.name, gpu.severity, gpu.state) == ("GpuTemperatureHigh", "warning", "firing")
        assert gpu.summary == "GPU GPU-hot-3 on gpu-node-hot at 91 C"
        assert gpu.runbook_url == RUNBOOK_GPU
        # modelName is the GPU's product name, not a served model: no model join
        assert gpu.model is None and gpu.labels["modelName"] == H100
        listed = default.alerts()
        assert {(a.name, a.model or a.gpu_uuid) for a in listed} >= {
            (ERRORS, "fraud-detector"), ("GpuTemperatureHigh", "GPU-hot-3")}
        assert not any(a.model == "fraud-detector-calm" or a.gpu_uuid == "GPU-cool-4"
                       for a in listed)
    finally:
        temp.remove("3", "GPU-hot-3", H100, "gpu-node-hot")
        temp.remove("4", "GPU-cool-4", H100, "gpu-node-hot")


def test_the_alert_resolves_when_the_value_is_back_to_normal(backends, error_ratio):
    default, _ = backends
    error_ratio("llm-resolve", "serving", 0.5)
    wait_for(lambda: _model_alert(default, "llm-resolve"), "alert fired")
    error_ratio("llm-resolve", "serving", 0.01)
    wait_for(lambda: _model_alert(default, "llm-resolve") is None, "alert resolved")


def _silence_test(alert_stack, backends, error_ratio, model: str, minutes: float
                  ) -> tuple[str, float]:
    """Fire ``model``'s alert and a neighbour's, silence ``model``'s; return the id and
    the (monotonic) time the silence was made."""
    default, with_silenced = backends
    error_ratio(model, "serving", 0.3)
    error_ratio(f"{model}-neighbour", "serving", 0.3)
    wait_for(lambda: _model_alert(default, model) and _model_alert(default,
                                                                    f"{model}-neighbour"),
             "both alerts fired")
    made = time.monotonic()
    sid = create_silence(alert_stack.url, {"alertname": ERRORS, "model": model}, minutes,
                         created_by="pitboard-tests", comment=f"silence test of {model}")
    held = next(s for s in list_silences(alert_stack.url) if s["id"] == sid)
    assert held["status"]["state"] == "active" and held["createdBy"] == "pitboard-tests"
    assert {(m["name"], m["value"]) for m in held["matchers"]} == {
        ("alertname", ERRORS), ("model", model)}
    suppressed = wait_for(lambda: _model_alert(with_silenced, model, "suppressed"),
                          "alert suppressed")
    assert suppressed.labels["namespace"] == "serving"
    assert _model_alert(default, model) is None  # hidden unless silenced ones are asked for
    # the silence's matchers are exact: the neighbour's alert still fires
    assert _model_alert(default, f"{model}-neighbour", "firing") is not None
    return sid, made


def test_a_silence_suppresses_the_alert_until_its_end(alert_stack, backends, error_ratio):
    default, with_silenced = backends
    sid, made = _silence_test(alert_stack, backends, error_ratio, "llm-quiet",
                              minutes=SHORT_S / 60)
    assert _model_alert(with_silenced, "llm-quiet", "suppressed") is not None
    again = wait_for(lambda: _model_alert(default, "llm-quiet", "firing"),
                     "alert firing again after the silence's end", deadline_s=SHORT_S + 10)
    assert time.monotonic() - made >= SHORT_S - 0.5  # not before the silence's end
    assert get_silence(alert_stack.url, sid)["status"]["state"] == "expired"
    assert again.summary == "llm-quiet in serving fails 30% of requests"
    assert _model_alert(with_silenced, "llm-quiet", "firing") is not None


def test_expiring_a_silence_lifts_it_at_once(alert_stack, backends, error_ratio):
    default, _ = backends
    sid, _ = _silence_test(alert_stack, backends, error_ratio, "llm-hushed", minutes=60)
    expire_silence(alert_stack.url, sid)
    assert get_silence(alert_stack.url, sid)["status"]["state"] == "expired"
    wait_for(lambda: _model_alert(default, "llm-hushed", "firing"), "alert firing again",
             deadline_s=5)


def test_warm_makes_the_client_ahead_and_the_first_read_uses_that_one(alert_stack):
    """warm() (the console's start) makes the HTTP client in a thread; the first read
    uses that client, not a second one."""
    backend = AlertmanagerAlerts(AlertmanagerConfig(url=alert_stack.url))
    try:
        backend.warm()
        made = wait_for(lambda: backend._client, "the client made ahead")  # noqa: SLF001
        backend.warm()  # a client is there: nothing more is begun
        assert isinstance(backend.alerts(), tuple)
        assert backend._client is made  # noqa: SLF001
    finally:
        backend.close()
