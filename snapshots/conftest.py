"""Every snapshot test runs isolated: its own XDG dirs, no config or kubeconfig from the
environment, no benchmark hook."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    for var in ("PITBOARD_CONFIG", "PITBOARD_FIRST_FRAME_FILE", "KUBECONFIG"):
        monkeypatch.delenv(var, raising=False)
