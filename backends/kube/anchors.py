"""Audit anchors in the cluster: each audit entry written for an action on an object leaves
its ``COUNT:HASH`` on that object and in an Event about it, outside the store's reach.

Written (best effort: a failure is a warning, the action stands):

- the object's annotations ``pitboard.io/audit`` (``COUNT:HASH`` of the newest entry about
  it) and ``pitboard.io/audit-chain`` (the chain's id: its entry #1's hash, 16 hex digits,
  so one store's anchors are told from a teammate's store's), plus any the caller adds
  (the silence's ``pitboard.io/silence``);
- a core/v1 Event on the object whose message ends ``[audit COUNT:HASH]`` and whose
  annotations carry the same two keys.

Read back by ``pitboard audit verify --against-cluster`` (:func:`collect`): every Event
pitboard reported and every model object's annotations, in the namespaces asked for.
Events expire (an hour by default on most clusters): the annotation keeps the newest
anchor of each object for as long as the object lives.
"""

from __future__ import annotations

import re
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from backends.domain.errors import BackendError, ForbiddenError, NotFoundError
from backends.kube.connect import KubeApi
from backends.kube.kinds import KINDS
from backends.kube.semantics import MERGE_PATCH

AUDIT = "pitboard.io/audit"
AUDIT_CHAIN = "pitboard.io/audit-chain"
SILENCE = "pitboard.io/silence"
_IN_MESSAGE = re.compile(r"\[audit (\d{1,18}):([0-9a-f]{16,64})\]")
_VALUE = re.compile(r"^(\d{1,18}):([0-9a-f]{16,64})$")


def anchor_annotations(anchor: str | None, chain: str | None) -> dict[str, str]:
    """The two annotations an anchor is written as (none without an anchor)."""
    if not anchor:
        return {}
    return {AUDIT: anchor, **({AUDIT_CHAIN: chain} if chain else {})}


def message_tail(anchor: str | None) -> str:
    """`` [audit COUNT:HASH]``, the end of an Event message carrying ``anchor``."""
    return f" [audit {anchor}]" if anchor else ""


def write(api: KubeApi, *, path: str, namespace: str, involved: dict[str, Any],
          name: str, anchor: str, chain: str | None, reason: str, message: str,
          annotations: dict[str, str] | None = None, annotate: bool = True) -> list[str]:
    """Annotate the object at ``path`` with ``anchor`` (and ``annotations``; not with
    ``annotate=False``) and post an Event carrying it. Returns warnings (empty when all
    landed)."""
    marks = anchor_annotations(anchor, chain)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    warnings: list[str] = []
    event = {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": f"{name[:200]}.pitboard-{uuid.uuid4().hex[:12]}",
                     "namespace": namespace, "annotations": marks},
        "involvedObject": involved, "reason": reason,
        "message": (message[:900] + message_tail(anchor)),
        "type": "Normal", "source": {"component": "pitboard"},
        "firstTimestamp": now, "lastTimestamp": now, "count": 1,
        "reportingComponent": "pitboard", "reportingInstance": socket.gethostname()[:128],
        "action": "Audit",
    }
    try:
        api.request("POST", f"/api/v1/namespaces/{namespace}/events", body=event)
    except BackendError as exc:
        warnings.append(f"event not recorded (audit anchor {anchor[:24]}…): {exc}")
    if not annotate:
        return warnings
    try:
        api.request("PATCH", path, body={"metadata": {"annotations": {
            **marks, **(annotations or {})}}}, content_type=MERGE_PATCH)
    except BackendError as exc:
        warnings.append(f"annotation {AUDIT} not written (anchor {anchor[:24]}…): {exc}")
    return warnings


# -- reading them back ---------------------------------------------------------------------

@dataclass(frozen=True)
class Found:
    """One anchor found in the cluster: entry #``count`` had hash ``hash`` (per the chain
    ``chain``, None when not said), and where it was read (``where``, for the message)."""

    count: int
    hash: str
    chain: str | None
    where: str


def _parse(value: object) -> tuple[int, str] | None:
    if not isinstance(value, str):
        return None
    match = _VALUE.match(value.strip().lower())
    return (int(match.group(1)), match.group(2)) if match else None


def _list(api: KubeApi, prefix: str, plural: str, namespaces: list[str] | None
          ) -> list[dict]:
    """Every object of ``plural`` in ``namespaces`` (None: all), paged."""
    where = [f"{prefix}/namespaces/{ns}/{plural}" for ns in namespaces] if namespaces \
        else [f"{prefix}/{plural}"]
    items: list[dict] = []
    for url in where:
        cont: str | None = None
        while True:
            query: dict[str, Any] = {"limit": 500}
            if cont:
                query["continue"] = cont
            doc = api.request("GET", url, query=query) or {}
            items.extend(i for i in doc.get("items") or [] if isinstance(i, dict))
            cont = (doc.get("metadata") or {}).get("continue") or None
            if not cont:
                break
    return items


def collect(api: KubeApi, namespaces: list[str] | None) -> tuple[list[Found], list[str]]:
    """The anchors pitboard left in the cluster behind ``api``: (anchors, notes on what
    could not be read). Events of pitboard (``source.component``/``reportingComponent``)
    and the ``pitboard.io/audit`` annotation of every object of the model kinds. Raises
    BackendError when the Events cannot be listed at all (unreachable, forbidden)."""
    found: list[Found] = []
    notes: list[str] = []
    for ev in _list(api, "/api/v1", "events", namespaces):
        meta = ev.get("metadata") or {}
        if "pitboard" not in ((ev.get("source") or {}).get("component"),
                              ev.get("reportingComponent")):
            continue
        marks = meta.get("annotations") or {}
        parsed = _parse(marks.get(AUDIT))
        if parsed is None:
            hit = _IN_MESSAGE.search(str(ev.get("message") or ""))
            parsed = (int(hit.group(1)), hit.group(2)) if hit else None
        if parsed is None:
            continue
        inv = ev.get("involvedObject") or {}
        chain = marks.get(AUDIT_CHAIN)
        found.append(Found(parsed[0], parsed[1], chain if isinstance(chain, str) else None,
                           f"Event {meta.get('namespace')}/{meta.get('name')} "
                           f"({ev.get('reason')} on {str(inv.get('kind')).lower()}/"
                           f"{inv.get('name')})"))
    for kind in KINDS.values():
        prefix = f"/apis/{kind.GROUP}/{kind.VERSION}" if kind.GROUP else f"/api/{kind.VERSION}"
        try:
            objs = _list(api, prefix, kind.PLURAL, namespaces)
        except NotFoundError:
            continue  # this server does not serve the kind (a CRD not installed)
        except ForbiddenError as exc:
            notes.append(f"{kind.PLURAL}: not readable ({exc})")
            continue
        for obj in objs:
            meta = obj.get("metadata") or {}
            marks = meta.get("annotations") or {}
            parsed = _parse(marks.get(AUDIT))
            if parsed is None:
                continue
            chain = marks.get(AUDIT_CHAIN)
            found.append(Found(parsed[0], parsed[1], chain if isinstance(chain, str) else None,
                               f"annotation {AUDIT} of {str(obj.get('kind') or kind.PLURAL).lower()}"
                               f"/{meta.get('name')} in {meta.get('namespace')}"))
    return found, notes
