"""Who we are to a cluster: ``SelfSubjectReview`` (``kubectl auth whoami``).

``POST /apis/authentication.k8s.io/v1/selfsubjectreviews`` (Kubernetes >= 1.28), falling
back, on a 404, to ``v1beta1`` (1.27) and ``v1alpha1`` (1.26, behind a feature gate) in
the order ``kubectl auth whoami`` tries them. The answer is the API server's: the user its
authenticators made of our credentials (token, client certificate, exec plugin, ...), so it
cannot be claimed by setting ``$USER`` or renaming the kubeconfig's user entry.
"""

from __future__ import annotations

import logging

from backends.domain.actions import ClusterIdentity
from backends.domain.errors import BackendError, NotFoundError
from backends.domain.inert import printable
from backends.kube.connect import KubeApi

log = logging.getLogger(__name__)

VERSIONS = ("v1", "v1beta1", "v1alpha1")
UNSUPPORTED = ("the API server does not serve SelfSubjectReview (authentication.k8s.io "
               "v1, v1beta1, v1alpha1: all 404), so it cannot say who you are")


def _texts(value: object, limit: int = 40) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(printable(v, max_len=200) for v in value[:limit] if isinstance(v, str))


def self_subject_review(api: KubeApi) -> ClusterIdentity:
    """Ask the API server of ``api`` who we are. Never raises: a server without the API
    gives ``unsupported=True``; any other failure (unreachable, 401/403, a malformed
    answer) a ``problem`` naming it."""
    context = api.context
    for version in VERSIONS:
        path = f"/apis/authentication.k8s.io/{version}/selfsubjectreviews"
        body = {"apiVersion": f"authentication.k8s.io/{version}", "kind": "SelfSubjectReview"}
        try:
            doc = api.request("POST", path, body=body)
        except NotFoundError:
            continue  # an older server: the next version, as kubectl auth whoami does
        except BackendError as exc:
            log.info("SelfSubjectReview failed on %s: %s", context, exc)
            return ClusterIdentity(context=context, problem=f"could not ask the API server "
                                                            f"who you are: {exc}")
        info = (((doc or {}).get("status") or {}).get("userInfo") or {}) \
            if isinstance(doc, dict) else {}
        user = info.get("username") if isinstance(info, dict) else None
        if not isinstance(user, str) or not user.strip():
            return ClusterIdentity(context=context, problem=(
                f"the API server's SelfSubjectReview ({version}) named no user"))
        uid = info.get("uid")
        return ClusterIdentity(context=context, user=printable(user.strip(), max_len=200),
                               groups=_texts(info.get("groups")),
                               uid=uid if isinstance(uid, str) and uid else None,
                               api_version=f"authentication.k8s.io/{version}")
    return ClusterIdentity(context=context, unsupported=True, problem=UNSUPPORTED)
