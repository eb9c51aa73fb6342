"""The guarded actions from a shell: ``pitboard rollback MODEL --reason TEXT [--yes]`` and
one subcommand for every other guarded action declared in ``backends.actions.catalog``
(``ActionSpec.shell``), for runbooks and chat-ops.

The same path as the console's keys, through the same :class:`ActionRunner`: resolve the
model, ``prepare`` (preview and preflight, printed), confirm (``--yes``, or a y/N prompt on
a terminal; no terminal and no ``--yes`` refuses), the object's name on a protected
context (``--confirm NAME``), then ``run`` (intent, call, outcome, Event and annotation,
progress until settled). Exit codes:

- 0: done (or nothing to change);
- 1: refused by a check (read-only, a failed preflight, not confirmed, protected context
  without the name) -- nothing sent, nothing recorded;
- 2: bad input (unknown or ambiguous model, a bad value, bad configuration, the cluster
  cannot be reached);
- 3: failed, or the outcome is unknown (timed out, settled degraded or stuck).

``--format json`` prints one JSON object with the plan and the result on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

from backends.actions import catalog
from backends.actions.catalog import ActionSpec
from backends.domain.errors import ActionRefused, BackendError, ConfigError
from console.cli.argtypes import whole_number
from backends.domain.models import FleetSnapshot, ModelService
from backends.domain.redact import redact
from widgets.text import safe

if TYPE_CHECKING:
    from backends.actions.guard import ActionRunner
    from backends.domain.actions import ActionPlan, ActionRequest, ActionResult

# The action models (backends.domain.actions) are imported where an action is made: the
# console builds this module's subcommands (add_subcommands) before its first frame.
DONE, REFUSED, BAD_INPUT, FAILED = 0, 1, 2, 3
OK_STATUSES = ("succeeded", "skipped")
"""The ActionStatus values of a done action."""
# the console's own flags, accepted after the subcommand too (``pitboard rollback X
# --context C``); SUPPRESS keeps what was given before the subcommand
_SHARED = (("--context", dict(action="append", metavar="CTX", help="kubeconfig context")),
           ("--kubeconfig", dict(metavar="PATH", help="kubeconfig file")),
           ("--namespace", dict(action="append", metavar="NS", help="namespace")),
           ("--config", dict(metavar="PATH", help="config file")),
           ("--alertmanager", dict(metavar="URL", help="Alertmanager base URL")),
           ("--prometheus", dict(metavar="URL", help="Prometheus base URL")))


class Exit(Exception):
    """Leave with ``code`` after printing ``message`` (to stderr)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def _replicas(text: str) -> int:
    """``--replicas``: the console's own rule (0 to MAX_REPLICAS)."""
    from backends.domain.actions import parse_replicas  # noqa: PLC0415 - scale only

    try:
        return parse_replicas(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _duration(text: str) -> float:
    from console.screens.modals.params import parse_duration  # noqa: PLC0415 - silence only

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_subcommands(sub: Any) -> None:
    """One subcommand per guarded action with a ``shell`` name in the catalog."""
    for spec in catalog.SHELL.values():
        p = sub.add_parser(spec.shell, help=spec.help, description=spec.help)
        p.add_argument("model", metavar="MODEL",
                       help="the model's name (or its key context/namespace/Kind/name)")
        p.add_argument("--reason", required=True, help="why (recorded in the audit log)")
        wants = spec.params + spec.optional
        if "to_revision" in wants:
            p.add_argument("--to-revision", type=whole_number(0), metavar="N",
                           required="to_revision" in spec.params,
                           help="the revision to roll back to (default: the previous one)")
        if "replicas" in wants:
            p.add_argument("--replicas", type=_replicas, metavar="N",
                           required="replicas" in spec.params, help="replicas wanted")
        if "duration" in wants:
            # a string default is parsed by argparse only when the flag is absent: building
            # the parser (every start of the console) imports no modal
            p.add_argument("--duration", type=_duration, default="2h",
                           metavar="D", help="how long the silence lasts (30m, 2h, 1d; "
                                             "default 2h)")
        p.add_argument("--yes", action="store_true",
                       help="do not ask for confirmation (needed without a terminal)")
        p.add_argument("--confirm", metavar="OBJECT-NAME",
                       help="the object's name: required on a protected context")
        p.add_argument("--override", action="store_true",
                       help="go ahead despite failed overridable checks (recorded)")
        p.add_argument("--format", choices=["text", "json"], default=argparse.SUPPRESS,
                       help="text (default) or one JSON object on stdout")
        p.add_argument("--read-only", action="store_true", default=argparse.SUPPRESS,
                       help="refuse (as the console's --read-only does)")
        p.add_argument("--demo", action="store_true", default=argparse.SUPPRESS,
                       help="act on the embedded simulated fleet")
        for flag, kw in _SHARED:
            p.add_argument(flag, default=argparse.SUPPRESS, **kw)
        p.set_defaults(func=main, action_name=spec.name)


# -- the steps ---------------------------------------------------------------------------
def find_model(services: tuple[ModelService, ...], model: str,
               namespaces: list[str] | None = None) -> ModelService:
    """The one service ``model`` names (a key, or a name, narrowed by ``--namespace``)."""
    exact = [s for s in services if s.key == model]
    if exact:
        return exact[0]
    found = [s for s in services if s.name == model
             and (not namespaces or s.namespace in namespaces)]
    if not found:
        names = ", ".join(sorted({s.name for s in services})[:12]) or "none"
        raise Exit(BAD_INPUT, f"no model {model!r} here (models: {names})")
    if len(found) > 1:
        keys = ", ".join(s.key for s in found)
        raise Exit(BAD_INPUT, f"{model!r} is ambiguous: {keys} (give --context, --namespace "
                              f"or the key)")
    return found[0]


def request_for(spec: ActionSpec, service: ModelService, args: argparse.Namespace,
                actor: str) -> ActionRequest:
    """The request the console's key would make, with the values given as options."""
    if service.kind.value not in spec.kinds:
        raise Exit(BAD_INPUT, spec.not_for(service.name, service.kind.value))
    from backends.domain.actions import ActionRequest  # noqa: PLC0415 - see OK_STATUSES

    assert spec.kind is not None
    return ActionRequest(kind=spec.kind, service_key=service.key, actor=actor,
                         to_revision=getattr(args, "to_revision", None),
                         replicas=getattr(args, "replicas", None),
                         duration_s=getattr(args, "duration", None)
                         if "duration" in spec.params else None)


def plan_dict(plan: ActionPlan) -> dict[str, Any]:
    return {"context": plan.context, "namespace": plan.namespace, "object": plan.object_ref,
            "changes": [c.model_dump() for c in plan.changes],
            "checks": [{"name": c.name, "status": c.status.value, "reason": c.reason,
                        "blocking": c.blocking, "overridable": c.overridable}
                       for c in plan.checks],
            "noop": plan.noop, "noop_reason": plan.noop_reason}


def print_plan(plan: ActionPlan, spec: ActionSpec, out: IO[str]) -> None:
    """The preview and the preflight, as the guard modal shows them."""
    from backends.domain.actions import CheckStatus  # noqa: PLC0415 - see OK_STATUSES

    print(f"{spec.label}: {safe(plan.context)} / {safe(plan.namespace)} / "
          f"{safe(plan.object_ref)}", file=out)
    for change in plan.changes:
        before = safe(change.before, 120) if change.before is not None else "—"
        after = safe(change.after, 200) if change.after is not None else "—"
        print(f"  {safe(change.field, 30):<14} {before} -> {after}", file=out)
    icons = {CheckStatus.PASSED: "ok  ", CheckStatus.FAILED: "FAIL", CheckStatus.UNKNOWN: "??  "}
    for c in plan.checks:
        extra = "" if c.blocking or c.status == CheckStatus.PASSED else " (warning)"
        print(f"  [{icons[c.status]}] {safe(c.name, 60)}{extra}"
              + (f": {safe(c.reason, 300)}" if c.reason else ""), file=out)
    if plan.noop:
        print(f"  nothing to change: {safe(plan.noop_reason, 300)}", file=out)


def confirm(args: argparse.Namespace, runner: ActionRunner, plan: ActionPlan,
            ask: Callable[[str], str], tty: bool, err: IO[str]) -> str | None:
    """``--yes``, or y/N on a terminal; the typed object name on a protected context.
    Returns the name to pass as ``confirm_text``; raises Exit(REFUSED) when not given."""
    name = runner.confirm_name(plan)
    typed = getattr(args, "confirm", None)
    if name is not None and typed is None and tty and not args.yes:
        typed = ask(f"{plan.context} is a protected context: type {name!r} to confirm: ")
    if name is not None and (typed or "").strip() != name:
        raise Exit(REFUSED, f"refused: {plan.context} is a protected context: pass "
                            f"--confirm {name} (nothing was sent or recorded)")
    if args.yes:
        return typed
    if not tty:
        raise Exit(REFUSED, "refused: not confirmed (no terminal to ask on: pass --yes); "
                            "nothing was sent or recorded")
    answer = ask("Go ahead? [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise Exit(REFUSED, "cancelled: nothing was sent or recorded")
    print("", file=err)
    return typed


def code_of(result: ActionResult) -> int:
    return DONE if result.status.value in OK_STATUSES else FAILED


def result_dict(result: ActionResult) -> dict[str, Any]:
    return {"status": result.status.value, "message": result.message,
            "detail": json.loads(json.dumps(result.detail, default=str))}


# -- the command -------------------------------------------------------------------------
def main(args: argparse.Namespace, *, stdin: IO[str] | None = None,
         stdout: IO[str] | None = None, stderr: IO[str] | None = None) -> int:
    """Run the guarded action ``args.action_name``; the exit code (module docstring)."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    source = stdin or sys.stdin
    fmt = getattr(args, "format", "text")
    spec = catalog.BY_NAME[args.action_name]
    report: dict[str, Any] = {"action": spec.shell, "model": args.model}
    human = err if fmt == "json" else out

    def ask(prompt: str) -> str:
        print(prompt, end="", file=err, flush=True)
        return source.readline()

    try:
        code = _run(args, spec, report, human, err, ask, _isatty(source))
    except Exit as exc:
        code = exc.code
        report["error"] = str(exc)
        print(f"pitboard {spec.shell}: {safe(str(exc), 2000)}", file=err)
    report["exit_code"] = code
    if fmt == "json":
        out.write(json.dumps(report, indent=2, sort_keys=True, default=str) + "\n")
    return code


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _run(args: argparse.Namespace, spec: ActionSpec, report: dict[str, Any], human: IO[str],
         err: IO[str], ask: Callable[[str], str], tty: bool) -> int:
    from console.cli.main import settings_from_args  # noqa: PLC0415 - main imports this module
    from console.config_core import ConfigProblem  # noqa: PLC0415

    try:
        settings = settings_from_args(args)
    except ConfigProblem as exc:
        raise Exit(BAD_INPUT, f"bad configuration\n{exc}") from None
    if settings.read_only:  # before anything is read or opened: nothing at all is sent
        raise Exit(REFUSED, "refused: read-only mode (--read-only): nothing was sent or "
                            "recorded")
    backends = _connect(settings)
    try:
        return _act(args, spec, settings, backends, report, human, err, ask, tty)
    finally:
        backends.close()


def _connect(settings: Any) -> Any:
    from console.wiring import build_backends  # noqa: PLC0415 - the clients, on demand

    try:
        return build_backends(settings)
    except (ConfigError, BackendError) as exc:
        raise Exit(BAD_INPUT, f"cannot reach the cluster: {redact(str(exc))}") from None


def _act(args: argparse.Namespace, spec: ActionSpec, settings: Any, backends: Any,
         report: dict[str, Any], human: IO[str], err: IO[str], ask: Callable[[str], str],
         tty: bool) -> int:
    from backends.actions import identity  # noqa: PLC0415
    from backends.actions.guard import ActionRunner  # noqa: PLC0415 - the guard, on demand
    from backends.domain.actions import ActionStatus, CheckStatus  # noqa: PLC0415
    from console.cli.report import take_snapshot  # noqa: PLC0415
    from console.presenters.records import cluster_identity  # noqa: PLC0415
    from console.wiring import open_audit  # noqa: PLC0415

    try:
        snapshot: FleetSnapshot = take_snapshot(backends)
    except BackendError as exc:
        raise Exit(BAD_INPUT, f"cannot read the cluster: {redact(str(exc))}") from None
    service = find_model(snapshot.services, args.model, getattr(args, "namespace", None))
    report["service_key"] = service.key
    runner = ActionRunner(backends.cluster, open_audit(settings, backends.clock),
                          backends.clock, config=settings.actions,
                          read_only=settings.read_only, alerts=backends.alerts)
    try:
        why = runner.read_only_reason(service.cluster)
        if why:
            raise Exit(REFUSED, f"refused: {why}: nothing was sent or recorded")
        actor = str(backends.extra.get("actor") or "") or identity.actor(
            None if callable(getattr(backends.cluster, "whoami_for", None))
            else cluster_identity(backends.cluster))  # the runner adds the context's answer
        try:
            actor = runner.actor_for(service.cluster, actor)
        except ActionRefused as exc:
            raise Exit(REFUSED, f"{exc}; nothing was sent or recorded") from None
        request = request_for(spec, service, args, actor)
        try:
            plan = runner.prepare(request, snapshot)
        except ActionRefused as exc:
            raise Exit(REFUSED, f"refused: {exc}") from None
        except BackendError as exc:
            raise Exit(FAILED, f"preflight failed: {redact(str(exc))}") from None
        report["plan"] = plan_dict(plan)
        print_plan(plan, spec, human)
        if plan.noop:
            report["result"] = {"status": ActionStatus.SKIPPED.value,
                                "message": plan.noop_reason}
            return DONE
        failed = [c for c in plan.checks if c.status == CheckStatus.FAILED and c.blocking]
        if failed and not (args.override and all(c.overridable for c in failed)):
            names = "; ".join(f"{c.name}: {c.reason}" for c in failed)
            hint = " (--override to go ahead anyway)" if all(c.overridable for c in failed) \
                else ""
            raise Exit(REFUSED, f"refused by the preflight: {names}{hint}; nothing was sent "
                                f"or recorded")
        typed = confirm(args, runner, plan, ask, tty, err)

        said: list[str] = []

        def progressed(p: Any) -> None:  # each new state once
            line = safe(p.message or p.phase, 300)
            if not said or said[-1] != line:
                said.append(line)
                print(f"  … {line}", file=human, flush=True)

        try:
            result = runner.run(plan, args.reason, actor, confirm_text=typed,
                                override=bool(failed), on_progress=progressed)
        except ActionRefused as exc:
            raise Exit(REFUSED, f"refused: {exc}") from None
        except BackendError as exc:  # the intent could not be written: nothing was sent
            raise Exit(FAILED, f"not done: {redact(str(exc))}") from None
        report["result"] = result_dict(result)
        warnings = list(result.warnings)
        report["warnings"] = warnings
        print(f"{result.status.value.replace('_', ' ')}: {safe(result.message, 2000)}",
              file=human)
        for w in warnings:
            print(f"warning: {safe(w, 1000)}", file=err)
        return code_of(result)
    finally:
        close = getattr(runner.audit, "close", None)
        if callable(close):
            close()
