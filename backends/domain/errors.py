"""Errors raised by backends. The console catches ``BackendError`` per source."""

from __future__ import annotations


class BackendError(Exception):
    """A source failed; ``source`` names it ("kubernetes", "prometheus", ...)."""

    def __init__(self, message: str, *, source: str = "backend", status: int | None = None):
        super().__init__(message)
        self.source = source
        self.status = status


class StaleError(BackendError):
    """A source read its data, but knows it may be behind (a watch failing, down or silent
    too long): ``part`` is that data, as of then. The console shows it, the source marked
    stale with this message; a fleet shows it, the context named."""

    def __init__(self, message: str, *, part: object, source: str = "backend",
                 status: int | None = None):
        super().__init__(message, source=source, status=status)
        self.part = part


class ConfigError(BackendError):
    """Bad configuration (kubeconfig, context, URL ...). Nothing can be shown."""


class ForbiddenError(BackendError):
    """401/403 from a server; message names the missing permission when known."""


class NotFoundError(BackendError):
    """The object or namespace does not exist."""


class ConflictError(BackendError):
    """409: the object changed under us (already retried once on a fresh read)."""


class ActionRefused(BackendError):
    """The action must not run (paused deployment, nothing to roll back to, ...)."""


class NotSupported(BackendError):
    """An optional capability this backend does not have (e.g. annotating objects)."""


TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})


def is_transient(exc: BaseException) -> bool:
    """An error worth one more try: a 429 or 5xx answer, a timeout. Not a refused
    connection, a bad kubeconfig, 401/403/404: those say the same thing again."""
    if isinstance(exc, TimeoutError):
        return True
    status = getattr(exc, "status", None)
    if isinstance(status, int) and status in TRANSIENT_STATUS:
        return True
    text = str(exc).lower()
    return bool(getattr(exc, "unreachable", False)) and ("timed out" in text
                                                          or "timeout" in text)


def is_unreachable(exc: BaseException) -> bool:
    """The server could not be reached at all (refused, DNS, TLS), not a slow answer."""
    return bool(getattr(exc, "unreachable", False)) and not is_transient(exc)
