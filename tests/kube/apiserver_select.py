"""Label selectors (equality and set based) and field selectors, as the API server parses them."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .apiserver_errors import ApiError

Requirement = Callable[[dict[str, str]], bool]

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"


def _split_top(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts]


def _bad(detail: str) -> ApiError:
    return ApiError(400, f"unable to parse requirement: {detail}")


def _check_key(key: str) -> str:
    if not re.fullmatch(_KEY, key) or len(key.rpartition("/")[2]) > 63:
        raise _bad(f'found \'{key}\', expected: valid label key')
    return key


def _check_value(value: str) -> str:
    if len(value) > 63 or not re.fullmatch(_VALUE, value):
        raise _bad(f"invalid label value: \"{value}\": a valid label must be an empty string or consist of "
                   "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character")
    return value


def _requirement(text: str) -> Requirement:
    if not text:
        raise _bad("found '', expected: !, identifier, or 'end of string'")
    m = re.fullmatch(r"(\S+)\s+(in|notin)\s*\((.*)\)", text)
    if m:
        key = _check_key(m.group(1))
        values = {_check_value(v.strip()) for v in m.group(3).split(",")}
        if m.group(2) == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if text.startswith("!"):
        key = _check_key(text[1:].strip())
        return lambda labels: key not in labels
    m = re.fullmatch(r"([^=!<>\s]+)\s*(==|=|!=|<|>)\s*(.*)", text)
    if m:
        key, op, value = _check_key(m.group(1)), m.group(2), m.group(3).strip()
        if op in ("<", ">"):
            try:
                bound = int(value)
            except ValueError:
                raise _bad(f"for 'Gt', 'Lt' operators, the value must be an integer: {value}") from None

            def cmp(labels: dict[str, str]) -> bool:
                try:
                    got = int(labels[key])
                except (KeyError, ValueError):
                    return False
                return got > bound if op == ">" else got < bound

            return cmp
        value = _check_value(value)
        if op == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    key = _check_key(text)
    return lambda labels: key in labels


def parse_label_selector(text: str | None) -> Requirement:
    """Parse a ``labelSelector`` query value into a predicate over a labels dict."""
    if not text or not text.strip():
        return lambda labels: True
    reqs = [_requirement(part) for part in _split_top(text)]
    return lambda labels: all(r(labels) for r in reqs)


def match_label_selector(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """Match a ``metav1.LabelSelector`` (matchLabels + matchExpressions). Empty selects all."""
    if not selector:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def selector_to_string(selector: dict[str, Any] | None) -> str:
    """``metav1.FormatLabelSelector``: the text kubectl shows in SELECTOR columns."""
    if not selector:
        return "<none>"
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        op = expr["operator"]
        values = ",".join(sorted(expr.get("values") or []))
        if op == "In":
            parts.append(f"{expr['key']} in ({values})")
        elif op == "NotIn":
            parts.append(f"{expr['key']} notin ({values})")
        elif op == "Exists":
            parts.append(expr["key"])
        else:
            parts.append(f"!{expr['key']}")
    return ",".join(sorted(parts)) or "<none>"


def _dig(obj: dict[str, Any], path: str) -> str:
    cur: Any = obj
    for part in path.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


_EXTRA_FIELDS: dict[str, tuple[str, ...]] = {
    "pods": ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
             "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"),
    "events": ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
               "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
               "reason", "reportingComponent", "source", "type"),
    "nodes": ("spec.unschedulable",),
    "namespaces": ("status.phase",),
    "replicasets": ("status.replicas",),
}


def parse_field_selector(text: str | None, plural: str, custom: bool) -> Callable[[dict[str, Any]], bool]:
    """Parse a ``fieldSelector`` for ``plural``; unsupported fields answer 400 like the real server."""
    if not text or not text.strip():
        return lambda obj: True
    allowed = ("metadata.name", "metadata.namespace") + _EXTRA_FIELDS.get(plural, ())
    reqs: list[tuple[str, str, bool]] = []
    for part in text.split(","):
        m = re.fullmatch(r"\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*", part)
        if not m:
            raise ApiError(400, f"invalid selector: '{text}'; can't understand '{part}'")
        field_name, op, value = m.groups()
        if field_name not in allowed:
            if custom:
                raise ApiError(400, f'"{field_name}" is not a known field selector: only "metadata.name", '
                                    '"metadata.namespace"')
            raise ApiError(400, f"field label not supported: {field_name}")
        reqs.append((field_name, value, op == "!="))

    def match(obj: dict[str, Any]) -> bool:
        for field_name, value, negate in reqs:
            got = _dig(obj, "source.component" if field_name == "source" else field_name)
            if (got == value) == negate:
                return False
        return True

    return match
