"""The silence action: an Alertmanager silence of one model's alerts, through the guard
like every other action (preview, checks, reason, confirm, audit intent / outcome /
settle). It expires on its own at its ``endsAt``; nothing needs to undo it.

What it matches: the label the model's alerts carry its name in (the first of the
source's ``model_labels`` seen on them, else the first configured), its value or the
KServe predictor's (``<model>-predictor``, as a regex), and the namespace when its alerts
carry one. The preview says how many alerts match now (none is fine: the silence also
covers the ones that fire later).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from backends.domain.actions import (ActionPlan, ActionRequest, ActionResult, ActionStatus,
                                     Change, Check, CheckStatus, RolloutProgress)
from backends.domain.errors import BackendError, NotSupported
from backends.domain.models import Alert, ModelService
from backends.domain.sources import AlertsBackend

DEFAULT_S = 2 * 3600.0


def matchers_for(alerts: tuple[Alert, ...], model: str, namespace: str | None,
                 model_labels: tuple[str, ...]) -> list[dict]:
    """Alertmanager matchers selecting ``model``'s alerts (see the module docstring)."""
    mine = [a for a in alerts if a.model == model]
    label = next((k for a in mine for k in model_labels if a.labels.get(k)),
                 model_labels[0] if model_labels else "model")
    out = [{"name": label, "value": f"{re.escape(model)}(-predictor(-default)?)?",
            "isRegex": True, "isEqual": True}]
    if namespace and mine and all(a.labels.get("namespace") == namespace for a in mine):
        out.append({"name": "namespace", "value": namespace, "isRegex": False,
                    "isEqual": True})
    return out


def _matches(alert: Alert, matchers: list[dict]) -> bool:
    for m in matchers:
        value = alert.labels.get(str(m["name"]), "")
        hit = re.fullmatch(str(m["value"]), value) is not None if m.get("isRegex") \
            else value == m["value"]
        if hit != bool(m.get("isEqual", True)):
            return False
    return True


def text_of(matchers: list[dict]) -> str:
    """``model=~"llm-chat(...)", namespace="ml"`` as Alertmanager prints them."""
    return ", ".join(f'{m["name"]}{"=~" if m.get("isRegex") else "="}"{m["value"]}"'
                     for m in matchers)


def plan(alerts: AlertsBackend | None, request: ActionRequest, context: str, namespace: str,
         service: ModelService | None, name: str, now: datetime) -> ActionPlan:
    """The preview: what the silence matches, for how long, and the checks."""
    duration = request.duration_s or DEFAULT_S
    base = dict(request=request, context=context, namespace=namespace,
                object_ref=f"alerts of {name}")
    if alerts is None:
        return ActionPlan(**base, checks=(Check(
            name="Alertmanager", status=CheckStatus.FAILED, overridable=False,
            reason="no Alertmanager configured (--alertmanager URL)"),))
    checks: list[Check] = []
    try:
        firing = alerts.alerts()
        checks.append(Check(name="Alertmanager reachable", status=CheckStatus.PASSED,
                            reason=getattr(alerts, "label", "")))
    except BackendError as exc:
        return ActionPlan(**base, checks=(Check(
            name="Alertmanager reachable", status=CheckStatus.FAILED, overridable=False,
            reason=f"{exc.source}: {exc}"),))
    matchers = matchers_for(firing, name, service.namespace if service else namespace,
                            tuple(alerts.model_labels))
    now_matched = [a for a in firing if _matches(a, matchers)]
    checks.append(Check(
        name="alerts matched now", blocking=False,
        status=CheckStatus.PASSED if now_matched else CheckStatus.UNKNOWN,
        reason=(", ".join(sorted({a.name for a in now_matched}))[:300] if now_matched else
                f"none of {name}'s alerts is active now: the silence covers those that "
                f"fire before it ends")))
    ends = now + timedelta(seconds=duration)
    changes = (Change(field="silence", before=None, after=text_of(matchers)),
               Change(field="for", before=None, after=_human(duration)),
               Change(field="until", before=None, after=ends.strftime("%Y-%m-%d %H:%M:%SZ")))
    return ActionPlan(**base, changes=changes, checks=tuple(checks))


def run(alerts: AlertsBackend | None, request: ActionRequest, name: str, namespace: str,
        now: datetime) -> ActionResult:
    """Create the silence (after the intent is written); BackendError when it failed."""
    if alerts is None:
        raise NotSupported("no Alertmanager configured", source="alerts")
    duration = request.duration_s or DEFAULT_S
    matchers = matchers_for(alerts.alerts(), name, namespace, tuple(alerts.model_labels))
    ends = now + timedelta(seconds=duration)
    comment = f"pitboard: {request.reason}".strip()
    silence_id = alerts.create_silence(matchers, now, ends, request.actor or "pitboard",
                                       comment[:1000])
    return ActionResult(status=ActionStatus.SUCCEEDED,
                        message=f"silenced the alerts of {name} for {_human(duration)} "
                                f"(silence {silence_id}, until "
                                f"{ends.strftime('%H:%M:%SZ')}; it expires on its own)",
                        detail={"silence_id": silence_id, "matchers": matchers,
                                "ends_at": ends.isoformat(), "source":
                                getattr(alerts, "label", type(alerts).__name__)})


def progress(alerts: AlertsBackend | None, silence_id: str) -> RolloutProgress:
    """Settled once Alertmanager holds the silence as active."""
    if alerts is None:
        raise NotSupported("no Alertmanager configured", source="alerts")
    doc = alerts.silence(silence_id)
    state = str((doc.get("status") or {}).get("state") or "unknown")
    ends = doc.get("endsAt") or "?"
    return RolloutProgress(done=state in ("active", "expired"),
                           phase="complete" if state == "active" else (
                               "degraded" if state == "expired" else "progressing"),
                           message=f"silence {silence_id} {state} until {ends}")


def _human(seconds: float) -> str:
    if seconds < 60 or seconds % 60:
        return f"{seconds:g}s"
    if seconds % 86400 == 0:
        return f"{seconds / 86400:g}d"
    if seconds % 3600 == 0:
        return f"{seconds / 3600:g}h"
    return f"{seconds / 60:g}m"
