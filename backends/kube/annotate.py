"""Approvals mirrored on the objects they approve.

- who we are (SelfSubjectReview) lives in :mod:`backends.kube.whoami`.
- :func:`annotate_approval`: append one approval (a record naming its ``target``,
  ``namespace/Kind/name``, so a manifest copied elsewhere does not carry it over) to the
  ``pitboard.io/approvals`` annotation (a JSON list, newest last, bounded) with a merge
  patch that carries the object's ``resourceVersion`` (a concurrent approval is never
  overwritten: 409, re-read, retry once), after a server-side dry run. Teammates see it
  in ``kubectl describe``, and their pitboard counts it at the promote gate
  (``backends.actions.approvals.read_approvals``).
"""

from __future__ import annotations

import logging

from backends.actions.approvals import APPROVALS, parse_approvals, with_approval
from backends.domain.errors import BackendError, ConflictError
from backends.kube.semantics import MERGE_PATCH
from backends.kube.connect import SOURCE, KubeApi

log = logging.getLogger(__name__)

def annotate_approval(api: KubeApi, path: str, ref: str, record: dict) -> str:
    """Append ``record`` (``backends.actions.approvals.approval_record``, with its ``target``) to
    the approvals annotation of the object at ``path`` (dry run first). Returns the
    annotation value written. Raises BackendError (ForbiddenError, ConflictError after one
    retry, NotFoundError ...)."""
    for attempt in (1, 2):
        obj = api.request("GET", path) or {}
        meta = obj.get("metadata") or {}
        current = parse_approvals((meta.get("annotations") or {}).get(APPROVALS), ref,
                                  source=SOURCE)
        value = with_approval(current, record)
        body: dict = {"metadata": {"annotations": {APPROVALS: value}}}
        if meta.get("resourceVersion"):  # a concurrent change -> 409, never a lost update
            body["metadata"]["resourceVersion"] = meta["resourceVersion"]
        try:
            try:
                api.request("PATCH", path, query={"dryRun": "All"}, body=body,
                            content_type=MERGE_PATCH)
            except ConflictError:
                raise
            except BackendError as exc:
                raise type(exc)(f"server-side dry run refused the {APPROVALS} annotation on "
                                f"{ref}, nothing was changed: {exc}", source=exc.source,
                                status=exc.status) from None
            api.request("PATCH", path, body=body, content_type=MERGE_PATCH)
            return value
        except ConflictError as exc:
            if attempt == 2:
                raise ConflictError(f"{ref} changed while pitboard was annotating it, twice: "
                                    f"{exc}", source=SOURCE, status=409) from None
    raise AssertionError("unreachable")  # pragma: no cover
