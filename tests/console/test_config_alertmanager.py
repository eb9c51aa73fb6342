"""The ``[alertmanager]`` settings are the Alertmanager backend's own model (no stand-in)."""

from __future__ import annotations

import pytest

from backends.prometheus.config import AlertmanagerConfig
from console.config import ConfigProblem, Settings, load_settings


def test_settings_use_the_backend_alertmanager_config():
    assert Settings.model_fields["alertmanager"].annotation is AlertmanagerConfig
    s = load_settings(alertmanager={"url": "http://127.0.0.1:9093",
                                    "model_labels": ["svc"], "include_silenced": True})
    assert type(s.alertmanager) is AlertmanagerConfig
    assert s.alertmanager.model_labels == ["svc"] and s.alertmanager.include_silenced


def test_an_unknown_alertmanager_field_names_its_path():
    with pytest.raises(ConfigProblem, match="alertmanager"):
        load_settings(alertmanager={"url": "http://127.0.0.1:9093", "no_such_field": 1})
