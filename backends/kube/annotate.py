"""Who we are to a cluster, and approvals mirrored on the objects they approve.

- :func:`self_subject_review`: ``POST /apis/authentication.k8s.io/v1/selfsubjectreviews``
  (Kubernetes >= 1.28; v1beta1 on 1.27), the user name the API server sees. ``None`` when
  the server does not serve it or refuses; the caller falls back to the kubeconfig user.
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
from backends.domain.errors import BackendError, ConflictError, NotFoundError
from backends.kube.semantics import MERGE_PATCH
from backends.kube.connect import SOURCE, KubeApi

log = logging.getLogger(__name__)

_REVIEW_PATHS = ("/apis/authentication.k8s.io/v1/selfsubjectreviews",
                 "/apis/authentication.k8s.io/v1beta1/selfsubjectreviews")


def self_subject_review(api: KubeApi) -> str | None:
    """The user name the API server authenticates us as, or None when it cannot say."""
    for path in _REVIEW_PATHS:
        version = path.split("/")[3]
        body = {"apiVersion": f"authentication.k8s.io/{version}", "kind": "SelfSubjectReview"}
        try:
            doc = api.request("POST", path, body=body)
        except NotFoundError:
            continue  # older server: try the beta version, then give up
        except BackendError as exc:
            log.info("SelfSubjectReview not available on %s: %s", api.context, exc)
            return None
        user = (((doc or {}).get("status") or {}).get("userInfo") or {}).get("username")
        return user.strip() or None if isinstance(user, str) else None
    return None


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
