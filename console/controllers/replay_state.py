"""Cluster state as known at a past instant, for replay (``T``).

Prometheus gives the figures at any instant; the cluster only gives today's objects. Their
release history says more: a revision created after the replayed instant did not exist
then, and the revision live then is the newest one that did. A service whose every
revision is newer than the instant was not deployed yet and is left out.

Nothing is invented where nothing was measured: a service whose split the live source
did not report (``traffic_note``, e.g. models discovered from Prometheus alone) gets no
split at the instant either, and a history that carries neither creation times nor a
live revision (revision labels seen in metrics) does not say which revision was live.

Limit (documented, not guessed around): a ReplicaSet reused by a rollback keeps its
creation time, so the moment of a rollback is not in the history; the audit store's
entries (shown in the releases view) are what records it.
"""

from __future__ import annotations

from datetime import datetime

from backends.domain.models import ModelService, Revision, TrafficTarget


def cluster_at(services: tuple[ModelService, ...], revisions: dict[str, tuple[Revision, ...]],
               at: datetime) -> tuple[tuple[ModelService, ...], dict[str, tuple[Revision, ...]]]:
    """(services, revisions) as they stood at ``at``, judged from the release history."""
    out_services: list[ModelService] = []
    out_revisions: dict[str, tuple[Revision, ...]] = {}
    for svc in services:
        history = revisions.get(svc.key, ())
        if not history or (svc.traffic_note is not None and not svc.traffic) or not any(
                r.created is not None or r.current for r in history):
            out_services.append(svc)  # no history, or one that says nothing about when
            if history:
                out_revisions[svc.key] = history
            continue
        known = [r for r in history if r.created is None or r.created <= at]
        if not known:
            continue  # not deployed yet at ``at``
        then = max(known, key=lambda r: r.number)
        live = next((r for r in history if r.current), None)
        out_revisions[svc.key] = tuple(
            r.model_copy(update={"current": r.number == then.number}) for r in known)
        if live is not None and live.number == then.number:
            out_services.append(svc)
            continue
        # the live revision then took the traffic, if the live source measures a split
        out_services.append(svc.model_copy(update={
            "version": then.version, "image": then.image, "rollout_in_progress": False,
            "traffic": (TrafficTarget(revision=str(then.number), percent=100.0,
                                      version=then.version),) if svc.traffic else (),
        }))
    return tuple(out_services), out_revisions
