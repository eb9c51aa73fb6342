"""Fixture documents (plain objects plus ``fixture.pitboard.test/v1`` Clock/Edit/AccessPolicy) and kubeconfig."""

from __future__ import annotations

import copy
import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import yaml

from .apiserver_resources import by_kind

if TYPE_CHECKING:
    from .apiserver import ApiServer

FIXTURE_API = "fixture.pitboard.test/v1"
DEFAULT_NAMESPACE = "ml-serving"
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_offset(text: str | int | float) -> timedelta:
    """``-72h``, ``-30m``, ``-2d``, ``0`` -> timedelta."""
    if isinstance(text, (int, float)):
        return timedelta(seconds=float(text))
    m = re.fullmatch(r"\s*([-+]?\d+(?:\.\d+)?)\s*([smhd]?)\s*", str(text))
    if not m:
        raise ValueError(f"bad time offset {text!r} (use e.g. -72h, -30m, -2d)")
    return timedelta(**{_UNITS[m.group(2) or "s"]: float(m.group(1))})


def _apply_edit(server: ApiServer, doc: dict[str, Any]) -> None:
    target = doc["target"]
    res = by_kind(target["apiVersion"], target["kind"])
    if "at" in doc:
        server.store.clock_offset = parse_offset(doc["at"])
    patch = copy.deepcopy(doc.get("patch") or {})
    kind = doc.get("patchType") or ("merge" if res.custom else "strategic")
    if doc.get("changeCause") is not None:
        patch.setdefault("metadata", {}).setdefault("annotations", {})["kubernetes.io/change-cause"] = \
            doc["changeCause"]
    ctype = {"strategic": "application/strategic-merge-patch+json", "merge": "application/merge-patch+json",
             "json": "application/json-patch+json"}[kind]
    server.registry.patch(res, target.get("namespace"), target["name"], patch, ctype, False,
                          doc.get("subresource", ""))


def _fill_involved(server: ApiServer, obj: dict[str, Any]) -> None:
    inv = obj.get("involvedObject") or {}
    if inv.get("uid") or not inv.get("kind"):
        return
    try:
        res = by_kind(inv.get("apiVersion", "v1"), inv["kind"])
    except KeyError:
        return
    ns = inv.get("namespace") or obj["metadata"].get("namespace")
    target = server.store.get(res, ns, inv.get("name", ""))
    if target is not None:
        inv["uid"] = target["metadata"]["uid"]
        inv.setdefault("resourceVersion", target["metadata"]["resourceVersion"])


def load_documents(server: ApiServer, docs: list[dict[str, Any]]) -> None:
    """Create each object (keeping status) or apply each fixture document, in order."""
    try:
        for doc in docs:
            if doc.get("apiVersion") == FIXTURE_API:
                kind = doc.get("kind")
                if kind == "AccessPolicy":
                    server.policy.load(doc)
                elif kind == "Clock":
                    server.store.clock_offset = parse_offset(doc.get("offset", 0))
                elif kind == "Edit":
                    _apply_edit(server, doc)
                else:
                    raise ValueError(f"unknown fixture document kind {kind!r}")
                continue
            res = by_kind(doc["apiVersion"], doc["kind"])
            obj = copy.deepcopy(doc)
            if res.plural == "events":
                _fill_involved(server, obj)
                obj.setdefault("firstTimestamp", server.store.timestamp())
                obj.setdefault("lastTimestamp", obj["firstTimestamp"])
            ns = obj.get("metadata", {}).get("namespace") if res.namespaced else None
            server.registry.create(res, ns, obj, dry_run=False, keep_status=True)
    finally:
        server.store.clock_offset = timedelta(0)


def write_kubeconfig(server: ApiServer) -> None:
    """Write a kubeconfig with a ``test-<user>`` context per policy user (``test-admin`` current)."""
    users = sorted({u.name: u for u in server.policy.users.values()}.values(), key=lambda u: u.name)
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": f"test-{u.name}", "cluster": {"server": server.user_urls.get(u.name, server.url)}}
                     for u in users],
        "users": [{"name": u.name, "user": {"token": u.token}} for u in users],
        "contexts": [{"name": f"test-{u.name}", "context": {"cluster": f"test-{u.name}", "user": u.name,
                                                             "namespace": DEFAULT_NAMESPACE}} for u in users],
        "current-context": "test-admin",
        "preferences": {},
    }
    server.kubeconfig.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
