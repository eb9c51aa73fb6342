"""Who is acting: ``OS user @ host``, plus the Kubernetes identity when known.

The actor string is what the audit store records and what approval checks compare:

    alice@laptop                       (no Kubernetes identity known)
    alice@laptop k8s:alice@example.com (SelfSubjectReview / kubeconfig user)

Identity comparison (:func:`same_identity`) is deliberately conservative: when both
actors carry a Kubernetes identity those decide; otherwise the OS user names decide,
whatever the host (the same person on two laptops is still the same person).
"""

from __future__ import annotations

import getpass
import os
import re
import socket

from backends.domain.inert import printable

_K8S_MARK = " k8s:"
_MAX_PART = 120
def _clean(part: str) -> str:
    """One identity component: printable, no spaces (they separate components), bounded."""
    cleaned = printable(part.strip(), max_len=_MAX_PART)
    return re.sub(r"\s+", "_", cleaned) or "unknown"


def os_user() -> str:
    """The OS login name (``getpass.getuser``), or ``uid<N>`` when it cannot be found."""
    try:
        return _clean(getpass.getuser())
    except Exception:  # noqa: BLE001 - getuser raises OSError/KeyError depending on platform
        getuid = getattr(os, "getuid", None)
        return f"uid{getuid()}" if getuid else "unknown"


def host_name() -> str:
    """Short host name (no domain)."""
    try:
        name = socket.gethostname()
    except OSError:
        name = ""
    return _clean(name.split(".")[0] if name else "unknown-host")


def actor(kube_identity: str | None = None, *, user: str | None = None,
          host: str | None = None) -> str:
    """The actor string for the audit log: ``user@host`` plus `` k8s:<identity>`` if given.

    ``user``/``host`` default to this process's OS user and host name (tests pass them).
    """
    base = f"{_clean(user) if user else os_user()}@{_clean(host) if host else host_name()}"
    if kube_identity and kube_identity.strip():
        return f"{base}{_K8S_MARK}{_clean(kube_identity)}"
    return base


def parse_actor(value: str) -> tuple[str, str | None, str | None]:
    """Split an actor string into ``(os_user, host, kube_identity)`` (parts may be None)."""
    text = (value or "").strip()
    kube: str | None = None
    if _K8S_MARK in text:
        text, kube = text.split(_K8S_MARK, 1)
        kube = kube.strip() or None
    if "@" in text:
        user, host = text.rsplit("@", 1)
        return user, host or None, kube
    return text, None, kube


def same_identity(a: str, b: str) -> bool:
    """True when actors ``a`` and ``b`` are the same person for separation of duties.

    Both carry a Kubernetes identity -> compare those. Otherwise compare OS users
    (case-insensitively), ignoring the host.
    """
    user_a, _, kube_a = parse_actor(a)
    user_b, _, kube_b = parse_actor(b)
    if kube_a and kube_b:
        return kube_a == kube_b
    return user_a.casefold() == user_b.casefold()
