"""Fixtures for the test Kubernetes API server (see tests/kube/apiserver.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .apiserver import ApiServer

FIXTURES = Path(__file__).parent / "fixtures"
ML_FLEET = FIXTURES / "ml-fleet.yaml"


@pytest.fixture
def apiserver(tmp_path: Path) -> Iterator[ApiServer]:
    """A fresh server loaded with fixtures/ml-fleet.yaml, started, stopped after the test."""
    server = ApiServer(tmp_path / "apiserver")
    server.load_yaml(ML_FLEET)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def apiserver_factory(tmp_path: Path) -> Iterator[Callable[..., ApiServer]]:
    """``factory(fixture_yaml_path=None)`` -> a started server (ml-fleet.yaml by default); all stopped after."""
    servers: list[ApiServer] = []

    def make(fixture_yaml_path: str | Path | None = None) -> ApiServer:
        server = ApiServer(tmp_path / f"apiserver-{len(servers)}")
        server.load_yaml(fixture_yaml_path or ML_FLEET)
        servers.append(server)
        return server.start()

    try:
        yield make
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def rigs(apiserver: ApiServer, tmp_path: Path):
    """``rigs(**kw)`` -> a guarded-action Rig (runner + audit + cluster) on the ml-fleet
    server (tests/kube/helpers_guard.py); all closed after the test."""
    from .helpers_guard import make_rig

    made = []

    def make(**kw):
        made.append(make_rig(apiserver, tmp_path, **kw))
        return made[-1]

    yield make
    for rig in made:
        rig.close()


@pytest.fixture
def server_of(tmp_path: Path) -> Iterator[Callable[[list[dict]], ApiServer]]:
    """``server_of(docs)`` -> a started server loaded with ``docs`` (fixture objects built
    by code, e.g. tests/kube/gen_workloads.py); all stopped after the test."""
    made: list[ApiServer] = []

    def make(docs: list[dict]) -> ApiServer:
        server = ApiServer(tmp_path / f"apiserver-docs-{len(made)}")
        server.load(docs)
        made.append(server.start())
        return made[-1]

    yield make
    for server in made:
        server.stop()
