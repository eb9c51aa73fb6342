"""A minimal KServe (serverless) predictor controller: revisions and the traffic split.

A change of the predictor (anything but ``canaryTrafficPercent``) creates the next Knative
revision ``<name>-predictor-0000N``, ready at once; the split follows
``canaryTrafficPercent`` as KServe does: unset (or 100) sends everything to the latest
ready revision, which becomes ``latestRolledoutRevision`` (the one before it
``previousRolledoutRevision``); ``N`` sends N % to the latest (tag ``latest``) and the rest
to the last rolled-out one (tag ``prev``); 0 pins the previous one. ``observedGeneration``
follows ``metadata.generation``. Tests hold an object (``Controller.held``) to see it
before the controller acted.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from .apiserver_resources import find
from .apiserver_store import Store

ISVC = find("serving.kserve.io", "v1beta1", "inferenceservices")


def _predictor_template(obj: dict[str, Any]) -> str:
    pred = copy.deepcopy((obj.get("spec") or {}).get("predictor") or {})
    pred.pop("canaryTrafficPercent", None)
    return json.dumps(pred, sort_keys=True)


def _number(revision: str | None) -> int:
    m = re.search(r"-(\d+)$", revision or "")
    return int(m.group(1)) if m else 0


class KServeController:
    """Reconciles InferenceServices: revisions, traffic, readiness, observedGeneration."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._templates: dict[str, str] = {}  # uid -> the predictor the latest revision runs

    def sync(self, obj: dict[str, Any]) -> None:
        """One reconcile (under the store lock)."""
        meta = obj["metadata"]
        current = self.store.get(ISVC, meta.get("namespace"), meta["name"])
        if current is None:
            return
        status = copy.deepcopy(current.get("status") or {})
        pred = ((status.setdefault("components", {})).setdefault("predictor", {}))
        template = _predictor_template(current)
        uid = current["metadata"]["uid"]
        known = self._templates.get(uid)
        if known is None:  # first seen (created, or loaded with its status): as it is
            self._templates[uid] = template
            return
        latest = pred.get("latestReadyRevision") or pred.get("latestCreatedRevision")
        if template != known or latest is None:
            latest = f"{meta['name']}-predictor-{_number(latest) + 1:05d}"
            pred["latestCreatedRevision"] = pred["latestReadyRevision"] = latest
            self._templates[uid] = template
        rolled = pred.get("latestRolledoutRevision")
        pct = ((current.get("spec") or {}).get("predictor") or {}).get("canaryTrafficPercent")
        if pct is None or pct >= 100 or rolled is None or rolled == latest:
            if rolled != latest:
                if rolled is not None:
                    pred["previousRolledoutRevision"] = rolled
                pred["latestRolledoutRevision"] = latest
            pred["traffic"] = [{"revisionName": latest, "percent": 100, "latestRevision": True,
                                "tag": "latest"}]
            if pct is not None and pct < 100 and pred.get("previousRolledoutRevision"):
                prev = pred["previousRolledoutRevision"]
                pred["traffic"] = [
                    {"revisionName": latest, "percent": pct, "latestRevision": True, "tag": "latest"},
                    {"revisionName": prev, "percent": 100 - pct, "latestRevision": False, "tag": "prev"}]
        else:
            pred["traffic"] = [
                {"revisionName": latest, "percent": pct, "latestRevision": True, "tag": "latest"},
                {"revisionName": rolled, "percent": 100 - pct, "latestRevision": False, "tag": "prev"}]
        status["observedGeneration"] = current["metadata"].get("generation", 1)
        current["status"] = status
        self.store.save(ISVC, current)
