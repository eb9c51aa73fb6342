"""metav1.Status bodies and the exception the test API server raises to answer with one."""

from __future__ import annotations

from typing import Any

REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


def status_body(
    code: int,
    message: str,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``metav1.Status`` failure body as the real API server writes it."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason if reason is not None else REASONS.get(code, ""),
        "code": code,
    }
    if details:
        body["details"] = details
    return body


def success_status(details: dict[str, Any] | None = None) -> dict[str, Any]:
    """A ``metav1.Status`` success body (answer to a DELETE)."""
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
    if details:
        body["details"] = details
    return body


class ApiError(Exception):
    """Raised inside the server to answer with a Status of ``code``."""

    def __init__(
        self,
        code: int,
        message: str,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.body = status_body(code, message, reason, details)


def qualified(group: str, plural: str) -> str:
    """``deployments.apps`` / ``pods``: how the real server names a resource in messages."""
    return f"{plural}.{group}" if group else plural


def not_found(group: str, plural: str, name: str) -> ApiError:
    """404 ``deployments.apps "x" not found``."""
    return ApiError(
        404,
        f'{qualified(group, plural)} "{name}" not found',
        details={"name": name, "group": group, "kind": plural},
    )


def already_exists(group: str, plural: str, name: str) -> ApiError:
    """409 AlreadyExists."""
    return ApiError(
        409,
        f'{qualified(group, plural)} "{name}" already exists',
        reason="AlreadyExists",
        details={"name": name, "group": group, "kind": plural},
    )


def conflict(group: str, plural: str, name: str) -> ApiError:
    """409 Conflict on a stale resourceVersion, with the real server's wording."""
    return ApiError(
        409,
        f'Operation cannot be fulfilled on {qualified(group, plural)} "{name}": the object has been '
        "modified; please apply your changes to the latest version and try again",
        details={"name": name, "group": group, "kind": plural},
    )


def invalid(kind: str, group: str, name: str, field: str, value: Any, detail: str) -> ApiError:
    """422 Invalid with one cause."""
    kind_q = f"{kind}.{group}" if group else kind
    msg = f'{kind_q} "{name}" is invalid: {field}: Invalid value: {value!r}: {detail}'
    return ApiError(
        422,
        msg,
        details={
            "name": name,
            "group": group,
            "kind": kind,
            "causes": [{"reason": "FieldValueInvalid", "message": f"Invalid value: {value!r}: {detail}", "field": field}],
        },
    )


def forbidden(user: str, verb: str, group: str, plural: str, sub: str, namespace: str | None, name: str | None) -> ApiError:
    """403 with the exact message kubectl prints after ``Error from server (Forbidden):``."""
    res = f"{plural}/{sub}" if sub else plural
    what = f'{qualified(group, plural)} "{name}"' if name else qualified(group, plural)
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    msg = f'{what} is forbidden: User "{user}" cannot {verb} resource "{res}" in API group "{group}" {scope}'
    details: dict[str, Any] = {"group": group, "kind": plural}
    if name:
        details["name"] = name
    return ApiError(403, msg, details=details)


def expired(message: str) -> ApiError:
    """410 Gone / Expired."""
    return ApiError(410, message, reason="Expired")
