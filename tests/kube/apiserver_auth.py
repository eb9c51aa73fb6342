"""Token authentication and a small RBAC-like policy (per user rules) loaded from the fixture."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Rule:
    """Allows ``verbs`` on ``resources`` (``plural`` or ``plural/sub``) of ``api_groups`` in ``namespaces``."""

    verbs: tuple[str, ...]
    api_groups: tuple[str, ...] = ("*",)
    resources: tuple[str, ...] = ("*",)
    namespaces: tuple[str, ...] = ("*",)
    resource_names: tuple[str, ...] = ()

    def allows(self, verb: str, group: str, resource: str, namespace: str | None, name: str | None) -> bool:
        """True when this rule covers the request."""
        def hit(patterns: tuple[str, ...], value: str) -> bool:
            return any(p == "*" or p == value or fnmatch.fnmatchcase(value, p) for p in patterns)

        if not hit(self.verbs, verb) or not hit(self.api_groups, group) or not hit(self.resources, resource):
            return False
        if namespace and not hit(self.namespaces, namespace):
            return False
        if not namespace and "*" not in self.namespaces:
            return False
        return not self.resource_names or (name is not None and name in self.resource_names)


@dataclass
class User:
    """An identity: its bearer token, groups and rules."""

    name: str
    token: str
    groups: tuple[str, ...] = ("system:authenticated",)
    rules: list[Rule] = field(default_factory=list)
    uid: str = ""


class Policy:
    """Users by token, and the allow decision for a request."""

    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.set_user("admin", "admin-token", [Rule(verbs=("*",))], groups=("system:masters",))
        self.set_user("viewer", "viewer-token", [Rule(verbs=("get", "list", "watch"))])

    def set_user(self, name: str, token: str, rules: list[Rule], groups: tuple[str, ...] = (),
                 uid: str = "") -> User:
        """Add or replace a user (``uid``: what SelfSubjectReview reports, if anything)."""
        for key, user in list(self.users.items()):
            if user.name == name:
                del self.users[key]
        user = User(name, token, tuple(groups) + ("system:authenticated",), rules, uid)
        self.users[token] = user
        return user

    def load(self, doc: dict[str, Any]) -> None:
        """Load an ``AccessPolicy`` fixture document (replaces the users it names)."""
        for name, spec in (doc.get("users") or {}).items():
            rules = [Rule(
                verbs=tuple(r.get("verbs") or ()),
                api_groups=tuple(r.get("apiGroups") or ("*",)),
                resources=tuple(r.get("resources") or ("*",)),
                namespaces=tuple(r.get("namespaces") or ("*",)),
                resource_names=tuple(r.get("resourceNames") or ()),
            ) for r in spec.get("rules") or []]
            self.set_user(name, spec.get("token", f"{name}-token"), rules, tuple(spec.get("groups") or ()))

    def authenticate(self, header: str | None) -> User | None:
        """The user of an ``Authorization: Bearer`` header."""
        if not header or not header.startswith("Bearer "):
            return None
        return self.users.get(header[len("Bearer "):].strip())

    def by_name(self, name: str) -> User | None:
        """The user called ``name``."""
        return next((u for u in self.users.values() if u.name == name), None)

    def allowed(self, user: User, verb: str, group: str, resource: str, subresource: str,
                namespace: str | None, name: str | None) -> bool:
        """Whether ``user`` may do ``verb`` on the resource."""
        full = f"{resource}/{subresource}" if subresource else resource
        return any(rule.allows(verb, group, full, namespace, name) for rule in user.rules)

    def review(self, user: User, body: dict[str, Any]) -> dict[str, Any]:
        """Answer a SelfSubjectAccessReview body."""
        spec = body.get("spec") or {}
        attrs = spec.get("resourceAttributes")
        if attrs is not None:
            ok = self.allowed(user, attrs.get("verb", ""), attrs.get("group", ""), attrs.get("resource", ""),
                              attrs.get("subresource", ""), attrs.get("namespace") or None, attrs.get("name") or None)
        else:
            ok = True  # non-resource URLs (discovery, /version) are open to authenticated users
        status: dict[str, Any] = {"allowed": ok}
        if ok:
            status["reason"] = (f'RBAC: allowed by ClusterRoleBinding "pitboard-test-{user.name}" of ClusterRole '
                                f'"pitboard-test-{user.name}" to User "{user.name}"')
        return {
            "kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
            "metadata": {"creationTimestamp": None}, "spec": spec, "status": status,
        }

    def self_review(self, user: User, version: str) -> dict[str, Any]:
        """Answer a SelfSubjectReview (``authentication.k8s.io/<version>``) for ``user``: the
        user the request's credentials (token, or the per-user port) authenticate as."""
        info: dict[str, Any] = {"username": user.name, "groups": list(user.groups)}
        if user.uid:
            info["uid"] = user.uid
        return {"kind": "SelfSubjectReview", "apiVersion": f"authentication.k8s.io/{version}",
                "metadata": {"creationTimestamp": None}, "status": {"userInfo": info}}
