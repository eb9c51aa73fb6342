"""Fixtures for the demo fleet tests: a frozen clock at 14:00 UTC and a default fleet."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from backends.demo.fleet import DemoFleet, FrozenClock, make_demo

T0 = datetime(2026, 11, 21, 14, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def fleet(clock: FrozenClock) -> DemoFleet:
    return make_demo(seed=7, clock=clock)


def key_of(fleet: DemoFleet, name: str) -> str:
    """ModelService.key of the service called ``name``."""
    return next(s.key for s in fleet.cluster.read().services if s.name == name)


def service(fleet: DemoFleet, name: str):
    return next(s for s in fleet.cluster.read().services if s.name == name)


def history(fleet: DemoFleet, name: str):
    part = fleet.cluster.read()
    return part.revisions[next(s.key for s in part.services if s.name == name)]
