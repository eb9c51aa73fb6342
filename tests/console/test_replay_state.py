"""Cluster state at a replayed instant, from the release history."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from backends.domain.models import ModelService, Revision, TrafficTarget
from console.controllers.replay_state import cluster_at

NOW = datetime(2026, 11, 21, 14, 0, tzinfo=timezone.utc)


def svc(name: str, version: str) -> ModelService:
    return ModelService(name=name, namespace="ml", cluster="c", version=version,
                        image=f"img:{version}",
                        traffic=(TrafficTarget(revision="x", percent=100, version=version),))


def rev(n: int, version: str, days_ago: float, current: bool = False) -> Revision:
    return Revision(number=n, version=version, image=f"img:{version}",
                    created=NOW - timedelta(days=days_ago), current=current)


def test_revision_live_then_is_the_newest_that_existed():
    s = svc("llm", "v3")
    revisions = {s.key: (rev(3, "v3", 1, current=True), rev(2, "v2", 5), rev(1, "v1", 9))}
    services, hist = cluster_at((s,), revisions, NOW - timedelta(days=3))
    (then,) = services
    assert (then.version, then.image) == ("v2", "img:v2")
    assert then.traffic[0].percent == 100 and then.traffic[0].version == "v2"
    assert [r.number for r in hist[s.key]] == [2, 1]
    assert [r.current for r in hist[s.key]] == [True, False]


def test_unchanged_when_the_live_revision_already_existed():
    s = svc("llm", "v3")
    revisions = {s.key: (rev(3, "v3", 1, current=True), rev(2, "v2", 5))}
    services, hist = cluster_at((s,), revisions, NOW)
    assert services == (s,)
    assert [r.number for r in hist[s.key]] == [3, 2]


def test_service_not_deployed_yet_is_left_out_and_no_history_is_kept_as_is():
    new = svc("new", "v1")
    bare = svc("bare", "v9")
    revisions = {new.key: (rev(1, "v1", 1, current=True),)}
    services, hist = cluster_at((new, bare), revisions, NOW - timedelta(days=2))
    assert services == (bare,)
    assert new.key not in hist


def test_no_split_is_invented_where_nothing_measured_one():
    """Prometheus-only services (``traffic_note``, revisions from metric labels: no
    creation time, none live): replay keeps them as they are, no revision live at 100 %."""
    s = ModelService(name="tr", namespace="ml", cluster="prometheus",
                     traffic_note="no cluster source: traffic not measured")
    revisions = {s.key: (Revision(number=2, version="2"), Revision(number=1, version="1"))}
    services, hist = cluster_at((s,), revisions, NOW - timedelta(days=3))
    assert services == (s,) and services[0].traffic == ()
    assert [(r.number, r.current) for r in hist[s.key]] == [(2, False), (1, False)]


def test_a_service_without_a_split_gets_none_at_the_instant():
    s = svc("llm", "v3").model_copy(update={"traffic": ()})
    revisions = {s.key: (rev(3, "v3", 1, current=True), rev(2, "v2", 5))}
    (then,), _ = cluster_at((s,), revisions, NOW - timedelta(days=3))
    assert then.version == "v2" and then.traffic == ()
