"""``pitboard audit verify --against-cluster [--context C] [--namespace N]``: check the
audit store against the anchors its actions left in the cluster(s).

Every audit entry written for an action on an object leaves its ``COUNT:HASH`` on that
object (``pitboard.io/audit``) and in an Event about it (:mod:`backends.kube.anchors`).
Those copies are outside the store's reach, so they catch what a verify of the store alone
cannot: the newest entries deleted (an anchor names entry #N beyond the store's head) and
an entry rewritten with every later one re-hashed (the hash at #N differs). Anchors of
another audit chain (a teammate's store: another ``pitboard.io/audit-chain``) are counted
and named, not checked.

Exit status as ``audit verify``: 0 every anchor matches, 1 the chain is broken (naming the
entry and where the anchor was read), 2 bad input or a cluster that cannot be read.
"""

from __future__ import annotations

import argparse
from typing import Any

from backends.domain.errors import BackendError, ConfigError
from backends.domain.inert import printable


def _kube_settings(args: argparse.Namespace) -> tuple[str | None, list[str | None],
                                                     list[str] | None, float]:
    """(kubeconfig, contexts, namespaces or None for all, request timeout) from the flags,
    else the config's ``[kubernetes]``. Raises ConfigError."""
    from console.config import load_settings  # noqa: PLC0415 - pydantic-settings
    from console.config_core import ConfigProblem  # noqa: PLC0415

    try:
        k8s = load_settings(getattr(args, "config", None)).kubernetes
    except ConfigProblem as exc:
        raise ConfigError(f"bad configuration\n{exc}", source="config") from None
    kubeconfig = getattr(args, "kubeconfig", None) or k8s.kubeconfig
    contexts: list[str | None] = list(getattr(args, "context", None) or k8s.contexts) or [None]
    namespaces = list(getattr(args, "namespace", None) or k8s.namespaces) or None
    return kubeconfig, list(dict.fromkeys(contexts)), namespaces, k8s.request_timeout_s


def _read_cluster(kubeconfig: str | None, context: str | None, namespaces: list[str] | None,
                  timeout_s: float) -> tuple[str, list[Any], list[str]]:
    """(context name, anchors found, notes) of one context. Raises ConfigError /
    BackendError."""
    from backends.kube.anchors import collect  # noqa: PLC0415 - the kubernetes client
    from backends.kube.connect import KubeApi, connect  # noqa: PLC0415

    api = KubeApi(connect(kubeconfig, context), timeout_s=timeout_s, read_only=True)
    try:
        found, notes = collect(api, namespaces)
        return api.context, found, notes
    finally:
        api.close()


def cmd_verify_cluster(args: argparse.Namespace, open_store: Any, fail: Any,
                       to_stdout: Any) -> int:
    """The store (read-only) against every anchor in the cluster(s); see the module."""
    from backends.audit.verify import Anchor  # noqa: PLC0415

    try:
        kubeconfig, contexts, namespaces, timeout_s = _kube_settings(args)
        read = [_read_cluster(kubeconfig, c, namespaces, timeout_s) for c in contexts]
    except ConfigError as exc:
        return fail(str(exc))
    except BackendError as exc:
        return fail(f"cannot read the anchors in the cluster: {exc}")
    try:
        audit = open_store(args)
    except BackendError as exc:
        return fail(str(exc))
    try:
        first = audit.entry(1)
        chain = first.hash[:16] if first is not None else None
        ours: list[Any] = []
        theirs: list[Any] = []
        for _ctx, found, _notes in read:
            for f in found:
                (ours if f.chain in (None, chain) else theirs).append(f)
        state = audit.chain_state(tuple(Anchor(f.count, f.hash) for f in ours))
    except BackendError as exc:
        return fail(str(exc))
    finally:
        audit.close()
    where = ", ".join(printable(str(ctx), max_len=60) for ctx, _f, _n in read)
    notes = [n for _c, _f, ns in read for n in ns]
    others = (f"; {len(theirs)} anchor{'s' if len(theirs) != 1 else ''} of other audit "
              f"chains not checked ({', '.join(sorted({str(f.chain) for f in theirs}))})"
              if theirs else "")
    unread = f"; not read: {'; '.join(notes)}" if notes else ""
    if state.needs_key:
        return fail(f"audit log not verified: {state.message}")
    if not state.ok:
        at = state.broken_at
        named = [f for f in ours if at is not None and (f.count == at or f.count > state.head[0])]
        shown = "; ".join(f"{f.where} names entry #{f.count} {f.hash[:16]}"
                          for f in sorted(named, key=lambda f: f.count)[:3])
        return fail(f"audit log BROKEN against the cluster ({where}): {state.message}"
                    + (f"; {shown}" if shown else "") + others + unread, 1)
    if not ours:
        message = (f"no anchor of this audit chain in the cluster ({where}); the chain "
                   f"alone: {state.message}")
    else:
        message = (f"{state.message}; {len(ours)} anchor{'s' if len(ours) != 1 else ''} "
                   f"read in the cluster ({where}) match")
    return to_stdout(lambda: print(printable(message + others + unread)))
