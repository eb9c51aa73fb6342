"""A fleet read under faults and contention is whole or names what is missing: for every
context, either all its models are on screen, or the context is named in ``errors`` (with
nothing, or with its last good models). Never a quiet part of a cluster -- the on-call
engineer would read a missing model as a model that does not exist."""

from __future__ import annotations

import random
import threading
import time

import pytest

from backends.domain.errors import BackendError
from backends.kube.backend import KubernetesFleet

from .helpers import NS, config
from .test_backend_fleet import merged_kubeconfig

pytestmark = pytest.mark.integration

CONTEXTS = [f"region-{i}" for i in range(6)]
LISTED = ("deployments", "replicasets", "rollouts", "inferenceservices", "pods")


def _by_context(part) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {c: set() for c in CONTEXTS}
    for s in part.services:
        out[s.cluster].add(s.name)
    return out


def _check(fleet: KubernetesFleet, part, whole: set[str], seen: list) -> None:
    """The invariant, for one read."""
    got = _by_context(part)
    assert set(got) == set(CONTEXTS), f"services of unknown clusters: {set(got) - set(CONTEXTS)}"
    for ctx, names in got.items():
        if ctx in fleet.errors:
            assert names in (set(), whole), (ctx, sorted(whole - names), fleet.errors[ctx])
            seen.append(("named", ctx))
        else:
            assert names == whole, (f"{ctx} is not named failing but shows "
                                    f"{len(names)}/{len(whole)} models; missing "
                                    f"{sorted(whole - names)}")
            seen.append(("whole", ctx))


def test_a_fleet_read_is_whole_or_names_each_missing_context(apiserver_factory, tmp_path):
    servers = {ctx: apiserver_factory() for ctx in CONTEXTS}
    kc = merged_kubeconfig(tmp_path, servers)
    first = next(iter(servers.values()))
    healthy = KubernetesFleet(config(first, kubeconfig=kc), CONTEXTS, [NS])
    try:
        got = _by_context(healthy.read())
    finally:
        healthy.close()
    whole = got[CONTEXTS[0]]
    assert len(whole) >= 6 and all(names == whole for names in got.values())

    # faults on every server, different on each (seeded): LISTs slower than the sync
    # timeout, 500s and 503s for a while, watches that end with 410 Gone or are refused
    rng = random.Random(1208)
    rules = []
    for ctx, server in servers.items():
        for plural in rng.sample(LISTED, 3):
            path = rf"/{plural}$"
            kind = rng.choice(("slow", "500", "503", "gone", "refused"))
            if kind == "slow":  # the first LIST outlasts the sync timeout
                rules.append((server, server.inject("GET", path, None, times=1, delay_s=1.6,
                                                    query={"watch": None})))
            elif kind in ("500", "503"):
                rules.append((server, server.inject("GET", path, int(kind),
                                                    times=rng.randint(1, 40),
                                                    query={"watch": None})))
            elif kind == "gone":  # the watch expires: a relist, while reads go on
                rules.append((server, server.inject("GET", path, 410, times=3,
                                                    query={"watch": "1"})))
            else:
                rules.append((server, server.inject("GET", path, 503, times=20,
                                                    query={"watch": "1"})))

    fleet = KubernetesFleet(config(first, kubeconfig=kc, sync_timeout_s=1.0,
                                   request_timeout_s=2, stale_after_s=60), CONTEXTS, [NS])
    seen: list[tuple[str, str]] = []
    failures: list[BaseException] = []
    stop = threading.Event()
    rng_churn = random.Random(812)

    def churn() -> None:  # watches cut and history compacted while reads run: resumes
        # and relists (a 410 on resume) on every server, one after another
        servers_list = list(servers.values())
        while not stop.wait(0.15):
            server = rng_churn.choice(servers_list)
            if rng_churn.random() < 0.5:
                server.compact()
            server.drop_watches(abrupt=rng_churn.random() < 0.5)

    churner = threading.Thread(target=churn, daemon=True)
    try:
        fleet.warm()
        churner.start()
        deadline = time.monotonic() + 8
        reads = 0
        while time.monotonic() < deadline:
            try:
                part = fleet.read()
            except BackendError:  # every context failing at once: the whole source stale
                reads += 1
                continue
            except BaseException as exc:  # pragma: no cover - reported below
                failures.append(exc)
                break
            _check(fleet, part, whole, seen)
            reads += 1
        assert not failures, failures
        assert reads >= 5
        # faults were met and named, and reads were whole
        assert any(k == "named" for k, _ in seen), \
            "no fault reached a read: the test proves nothing"
        assert any(k == "whole" for k, _ in seen)
        # the faults lifted: every context whole again, none named
        stop.set()
        for server, rule in rules:
            server.remove_injection(rule)

        def recovered() -> bool:
            part = fleet.read()
            _check(fleet, part, whole, seen)
            return not fleet.errors

        end = time.monotonic() + 20
        while not recovered():
            assert time.monotonic() < end, f"still failing: {fleet.errors}"
            time.sleep(0.1)
        assert all(names == whole for names in _by_context(fleet.read()).values())
    finally:
        stop.set()
        fleet.close()
