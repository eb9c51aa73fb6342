"""Lookups by model name over a snapshot's rows, built once per row tuple.

Assessing every model scanned every GPU, drift series and service for each model: at
3,000 models and 20,000 GPUs that was 60 million checks a refresh (tens of seconds in the
poller's thread, ~100 ms on the UI thread for one model detail). These indexes make each
lookup proportional to the model's own rows. They are keyed by the identity of the
(immutable) tuple they index, and only the last two are kept: a refresh makes new tuples,
so an index never outlives the rows it describes by more than one refresh. Pure, no I/O.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from backends.domain.models import Alert, DriftSeries, GpuDevice, ModelService

_T = TypeVar("_T")
_KEEP = 2
_lock = threading.Lock()
_held: dict[str, list[tuple[Any, Any]]] = {}


def _cached(kind: str, rows: Sequence[Any], build: Callable[[Sequence[Any]], _T]) -> _T:
    """``build(rows)``, reused while ``rows`` is the same tuple (a list may change: never
    cached)."""
    if not isinstance(rows, tuple):
        return build(rows)
    with _lock:
        for held, index in _held.get(kind, ()):
            if held is rows:
                return index
    index = build(rows)
    with _lock:
        _held[kind] = [*_held.get(kind, [])[-(_KEEP - 1):], (rows, index)]
    return index


def _gpus_by_model(gpus: Sequence[GpuDevice]) -> dict[str, list[GpuDevice]]:
    out: dict[str, list[GpuDevice]] = {}
    for g in gpus:
        if g.slices:
            names = {x.model for x in g.slices if x.model is not None}
        else:
            names = {g.model} if g.model is not None else set()
        for name in names:
            out.setdefault(name, []).append(g)
    return out


def gpus_by_model(gpus: Sequence[GpuDevice]) -> dict[str, list[GpuDevice]]:
    """Model name -> the GPUs (in their order) that it or a share of it is on."""
    return _cached("gpus", gpus, _gpus_by_model)


def _drift_by_model(drift: Sequence[DriftSeries]) -> dict[str, list[DriftSeries]]:
    out: dict[str, list[DriftSeries]] = {}
    for d in drift:
        out.setdefault(d.model, []).append(d)
    return out


def drift_by_model(drift: Sequence[DriftSeries]) -> dict[str, list[DriftSeries]]:
    """Model name -> its drift series, in order."""
    return _cached("drift", drift, _drift_by_model)


def _alerts_by_model(alerts: Sequence[Alert]) -> dict[str | None, list[Alert]]:
    out: dict[str | None, list[Alert]] = {}
    for a in alerts:
        out.setdefault(a.model, []).append(a)
    return out


def alerts_by_model(alerts: Sequence[Alert]) -> dict[str | None, list[Alert]]:
    """Model name (None: no model label) -> its alerts, in order."""
    return _cached("alerts", alerts, _alerts_by_model)


def _keys_by_name(services: Sequence[ModelService]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for s in services:
        out.setdefault(s.name, set()).add(s.key)
    return out


def name_shared(service: ModelService, services: Sequence[ModelService]) -> bool:
    """Whether another service (another key) in ``services`` has ``service``'s name."""
    keys = _cached("names", services, _keys_by_name).get(service.name, ())
    return any(k != service.key for k in keys)


def _clusters(services: Sequence[ModelService]) -> frozenset[str]:
    return frozenset(s.cluster for s in services)


def clusters_of(services: Sequence[ModelService]) -> frozenset[str]:
    """The contexts (``cluster``) the services are in (every view asks, every refresh)."""
    return _cached("clusters", services, _clusters)
