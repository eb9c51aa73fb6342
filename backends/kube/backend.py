"""The Kubernetes cluster backend: live model services from list-then-watch caches, their
release history, GPUs held, and the guarded release actions.

``KubernetesCluster`` follows one kubeconfig context; ``KubernetesFleet`` several at once
(each row tagged with its cluster). ``make_cluster_backend`` picks one or the other.
Importing this module does not import the ``kubernetes`` client (it is slow): ``kube.connect``
loads it when a backend is built.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from datetime import datetime
from types import MappingProxyType

from backends.actions.approvals import APPROVALS, approval_record, object_target
from backends.actions.catalog import read_only
from backends.domain.ahead import Ahead
from backends.domain.actions import (ActionPlan, ActionRequest, ActionResult, ClusterIdentity,
                                     RolloutProgress)
from backends.domain.errors import (ActionRefused, BackendError, ForbiddenError, NotFoundError,
                                    StaleError)
from backends.domain.sources import ClusterBackend, ClusterPart
from backends.kube import execute
from backends.kube.annotate import annotate_approval
from backends.kube.whoami import self_subject_review
from backends.kube.cache import KindSpec, WatchCache
from backends.kube.config import KubernetesConfig
from backends.kube.connect import KubeApi, connect
from backends.kube.execute import Target, default_actor
from backends.kube.history import Inputs, build_part
from backends.kube.kinds import KINDS
from backends.kube.kinds.workload import looked_for
from backends.kube.slim import slim_event, slim_node, slim_pod, slim_replicaset

__all__ = ["KubernetesCluster", "KubernetesFleet", "make_cluster_backend"]

SOURCE = "kubernetes"
#: Caches every kind's reading shares (history.build_part joins them); the rest are the kinds'.
SHARED = (
    KindSpec("replicasets", "apps/v1", "replicasets", slim_replicaset),
    KindSpec("pods", "v1", "pods", slim_pod, optional=True),
    KindSpec("nodes", "v1", "nodes", slim_node, namespaced=False, optional=True),
    KindSpec("events", "v1", "events", slim_event, optional=True),
)


def _kind_specs(config: KubernetesConfig, groups: set[str]) -> list[KindSpec]:
    """The caches to follow: the kinds every API server serves, the shared ones
    (ReplicaSets, pods, nodes, events), then the kinds whose CRD this server serves.
    A cache asked for by two kinds is followed once."""
    core = [k for k in KINDS.values() if not k.CRD]
    crds = [k for k in KINDS.values() if k.CRD and f"{k.GROUP}/{k.VERSION}" in groups]
    specs = [*(s for k in core for s in k.caches(config)), *SHARED,
             *(s for k in crds for s in k.caches(config))]
    unique: dict[str, KindSpec] = {}
    for spec in specs:
        unique.setdefault(spec.name, spec)
    return list(unique.values())


class StaleClusterError(StaleError):
    """The caches are listed but a watch has been failing, down or silent too long: the
    data may be behind. ``part`` is that data, as of then."""

    def __init__(self, message: str, status: int | None = None, *, part: ClusterPart):
        super().__init__(message, part=part, source=SOURCE, status=status)
        self.part: ClusterPart = part


class KubernetesCluster(ClusterBackend):
    """One kubeconfig context. Construction is local (kubeconfig and context are checked,
    raising ConfigError); the first ``read()`` reaches the API (discovery, namespaces,
    caches) and waits for the initial LISTs."""

    def __init__(self, config: KubernetesConfig | None = None, context: str | None = None,
                 namespaces: Sequence[str] | str | None = None, *, read_only: bool = False,
                 actor: str | None = None, kubeconfig: str | None = None):
        self.config = config or KubernetesConfig()
        if context is None and self.config.contexts:
            context = self.config.contexts[0]
        self._conn = connect(kubeconfig or self.config.kubeconfig, context)
        self.context = self._conn.context
        if isinstance(namespaces, str):
            namespaces = [namespaces]
        ns = list(namespaces) if namespaces is not None else list(self.config.namespaces)
        self.namespaces: list[str] = list(dict.fromkeys(n for n in ns if n))
        self.namespace = ",".join(self.namespaces) or None
        self.read_only = read_only
        self.actor = actor or default_actor()
        self.api = KubeApi(self._conn, timeout_s=self.config.request_timeout_s,
                           read_only=read_only)
        self.caches: dict[str, list] = {}
        self.api_groups: set[str] = set()
        self._lock = threading.Lock()
        self._started = False
        self._closed = False
        self._ahead: Ahead | None = None  # the start begun by warm(), for start to take
        self._part_key: tuple | None = None
        self._part: ClusterPart | None = None
        self._reviewed: ClusterIdentity | None = None
        self._review_lock = threading.Lock()

    # -- identity ---------------------------------------------------------------------------
    @property
    def identity(self) -> str | None:
        """Who the cluster knows us as: the SelfSubjectReview answer once ``whoami`` asked
        (None before, and when the server cannot say). Never the kubeconfig's user entry
        name: that is the client's choice. No request."""
        return self._reviewed.user if self._reviewed is not None else None

    def whoami_for(self, context: str | None = None) -> ClusterIdentity:
        """The API server's SelfSubjectReview answer (:mod:`backends.kube.whoami`), asked
        once (an answer, or "unsupported", is kept; a failure to ask is asked again next
        time). Read-only: nothing is sent, and the identity is unknown. Blocks: call it
        from a thread."""
        with self._review_lock:
            if self._reviewed is not None:
                return self._reviewed
            if self.read_only:
                return ClusterIdentity(context=self.context, problem=(
                    f"context {self.context!r} is read-only: pitboard did not ask who you are"))
            found = self_subject_review(self.api)
            if found.user or found.unsupported:
                self._reviewed = found
            return found

    def whoami(self) -> str | None:
        """``identity``, asking the API server once (SelfSubjectReview) unless read-only
        (no POST at all then). Blocks: call it from a thread."""
        return self.whoami_for().user

    # -- start-up ---------------------------------------------------------------------------
    def warm(self, pool: Executor | None = None) -> None:
        """Begin :meth:`start` (discovery, the caches' first LIST and WATCH) now, in a
        thread; or in ``pool`` (a fleet's), waiting there for the caches' first LIST too,
        so as many contexts list at once as the pool reads at once. The first read takes
        it (``backends.domain.ahead``)."""
        if not self._started and self._ahead is None:
            work = self._start if pool is None else self._start_and_list
            self._ahead = Ahead(work, f"kube-start-{self.context}", pool)

    def _start_and_list(self) -> None:
        self._start()
        self._wait_caches()

    def start(self) -> None:
        """Discovery, namespace check, caches. Idempotent; raises BackendError. The
        start begun by :meth:`warm` is waited for, and its error raised, once."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            ahead.take()
        self._start()

    def _start(self) -> None:
        with self._lock:
            if self._started:
                return
            if self._closed:
                raise BackendError(f"context {self.context!r}: closed", source=SOURCE)
            doc = self.api.request("GET", "/apis")
            self.api_groups = {v["groupVersion"] for g in (doc or {}).get("groups") or []
                               for v in g.get("versions") or []
                               if isinstance(v, dict) and v.get("groupVersion")}
            for ns in self.namespaces:
                try:
                    self.api.request("GET", f"/api/v1/namespaces/{ns}")
                except NotFoundError:
                    raise NotFoundError(f"namespace {ns!r} does not exist in context "
                                        f"{self.context!r}", source=SOURCE, status=404) from None
                except ForbiddenError:
                    pass  # may not read namespaces; the caches will tell
            c = self.config
            for spec in _kind_specs(c, self.api_groups):
                where = [None] if not spec.namespaced or not self.namespaces else self.namespaces
                self.caches[spec.name] = [
                    WatchCache(self.api, spec, ns, watch_timeout_s=c.watch_timeout_s,
                               backoff_initial_s=c.backoff_initial_s,
                               backoff_max_s=c.backoff_max_s, page_size=c.page_size,
                               max_items=c.max_events if spec.name == "events" else None,
                               bookmark_interval_s=c.bookmark_interval_s)
                    for ns in where]
            if self._closed:  # closed while discovery ran (a warm start at exit)
                raise BackendError(f"context {self.context!r}: closed", source=SOURCE)
            for caches in self.caches.values():
                for cache in caches:
                    cache.start()
            self._started = True

    def wait_synced(self, timeout: float | None = None) -> None:
        """Block until the required caches listed once; raise the error of one that failed."""
        self.start()
        self._wait_caches(timeout)

    def _wait_caches(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (timeout or self.config.sync_timeout_s)
        for name, caches in self.caches.items():
            for cache in caches:
                ok = cache.wait_synced(max(0.0, deadline - time.monotonic()))
                if not ok and not cache.spec.optional:
                    if cache.error is not None:
                        raise cache.error
                    raise BackendError(f"{name} of context {self.context!r} not listed within "
                                       f"{timeout or self.config.sync_timeout_s:.0f}s",
                                       source=SOURCE)
        # optional kinds get a short extra grace only if still syncing without an error
        for caches in self.caches.values():
            for cache in caches:
                if cache.spec.optional and cache.error is None:
                    cache.wait_synced(max(0.0, min(1.0, deadline - time.monotonic())))

    # -- reading ----------------------------------------------------------------------------
    def snapshot(self, kind: str) -> Mapping | None:
        """Merged read-only view of one kind over the namespaces, None if not known."""
        caches = self.caches.get(kind)
        if not caches or not all(c.synced.is_set() for c in caches):
            return None
        if len(caches) == 1:
            return caches[0].snapshot()
        merged: dict = {}
        for c in caches:
            merged.update(c.snapshot())
        return MappingProxyType(merged)

    def read(self) -> ClusterPart:
        """Services, histories and GPUs from the caches (cheap once synced)."""
        self.wait_synced()
        now = time.monotonic()
        for caches in self.caches.values():
            for cache in caches:
                cache.give_up_if_silent(now)  # silent twice too long: watched again
        stale = self._stale(now)
        key = tuple(c.version for cs in self.caches.values() for c in cs)
        if key == self._part_key and self._part is not None:
            if stale is not None:
                raise StaleClusterError(*stale, part=self._part)
            return self._part
        shared = {s.name for s in SHARED}
        part = build_part(Inputs(
            context=self.context, namespace=self.namespace,
            replicasets=self.snapshot("replicasets"), pods=self.snapshot("pods"),
            nodes=self.snapshot("nodes"),
            objects={n: self.snapshot(n) for n in self.caches if n not in shared},
            config=self.config))
        if not part.services:  # say what was looked for, never just an empty table
            part = part.model_copy(update={"search": looked_for(
                self.config, self.context, self.namespaces,
                [k.KIND.value for k in KINDS.values() if k.PLURAL in self.caches],
                [k.KIND.value for k in KINDS.values() if k.PLURAL not in self.caches])})
        self._part_key, self._part = key, part
        if stale is not None:
            raise StaleClusterError(*stale, part=part)
        return part

    def _stale(self, now: float) -> tuple[str, int | None] | None:
        """Why the listed data may be behind (a required watch failing, down or silent too
        long): (message, HTTP status); None when every watch keeps it current."""
        for name, caches in self.caches.items():
            for cache in caches:
                if cache.spec.optional:
                    continue
                if cache.error is not None:
                    return (f"{name} watch of context {self.context!r} is failing "
                            f"(showing cached data): {cache.error}", cache.error.status)
                down = cache.down_for(now)
                if down >= self.config.stale_after_s:  # freshness from the watch itself
                    return (f"{name} watch of context {self.context!r} down for "
                            f"{down:.0f}s (showing data as of then): "
                            f"{cache.down_reason}", None)
                silent = cache.silent_for(now)
                if silent >= cache.silent_after_s:  # connected, but nothing comes through
                    return (f"{name} watch of context {self.context!r} silent for "
                            f"{silent:.0f}s: neither an event nor a bookmark "
                            f"(bookmarks are due every "
                            f"{self.config.bookmark_interval_s:g}s; showing data as "
                            f"of then)", None)
        return None

    def events_for(self, kind: str, name: str, namespace: str) -> list:
        """Cached events about one object, newest first (slim EventRec records)."""
        evs = self.snapshot("events") or {}
        out = [e for e in evs.values() if e.kind == kind and e.object_name == name
               and e.namespace == namespace]
        return sorted(out, key=lambda e: (e.last is not None, e.last), reverse=True)

    def health(self) -> dict[str, str | None]:
        """Per cache: last error message (None = fine)."""
        return {f"{n}/{c.namespace or '*'}": (str(c.error) if c.error else None)
                for n, cs in self.caches.items() for c in cs}

    def stats(self) -> dict[str, int]:
        """LIST / WATCH / relist counters summed over the caches."""
        cs = [c for cl in self.caches.values() for c in cl]
        return {"lists": sum(c.lists for c in cs), "watches": sum(c.watches for c in cs),
                "relists": sum(c.relists for c in cs)}

    # -- actions ----------------------------------------------------------------------------
    def _refuse_unlabelled(self, service_key: str) -> None:
        """An unlabelled model (as last read) takes no action until adopted."""
        part = self._part
        svc = next((s for s in part.services if s.key == service_key), None) if part else None
        why = read_only(self.context, flag=False, service=svc) if svc is not None else None
        if why is not None:
            raise ActionRefused(why.message, source=SOURCE)

    def plan(self, request: ActionRequest) -> ActionPlan:
        self._refuse_unlabelled(request.service_key)
        return execute.plan(self.api, request, read_only=self.read_only)

    def execute(self, request: ActionRequest) -> ActionResult:
        self._refuse_unlabelled(request.service_key)
        if self.read_only:
            raise ActionRefused(f"context {self.context!r} is read-only: {request.kind.value} "
                                "was not sent", source=SOURCE)
        return execute.execute(self.api, request, self.actor)

    def progress(self, service_key: str) -> RolloutProgress:
        return execute.progress(self.api, service_key)

    def annotate_approval(self, service_key: str, approver: str, reason: str, at: datetime,
                          *, canary: str | None = None) -> str:
        """Append the approval to the object's ``pitboard.io/approvals`` annotation (dry run
        first; refused, nothing sent, in read-only), naming its ``target``
        (``namespace/Kind/name``: a copied manifest does not carry it to another object).
        Returns the object ref."""
        if self.read_only:
            raise ActionRefused(f"context {self.context!r} is read-only: the approval "
                                "annotation was not sent", source=SOURCE)
        t = Target.parse(service_key)
        record = approval_record(approver, reason, at, canary,
                                 target=object_target(t.namespace, t.kind, t.name))
        annotate_approval(self.api, t.path, t.ref, record)
        return t.ref

    def mirror_audit(self, service_key: str, anchor: str, chain: str | None, what: str, *,
                     reason: str = "PitboardAudit",
                     annotations: dict[str, str] | None = None,
                     annotate: bool = True) -> list[str]:
        if self.read_only:
            raise ActionRefused(f"context {self.context!r} is read-only", source=SOURCE)
        return execute.mirror_audit(self.api, service_key, anchor, chain, what,
                                    reason=reason, annotations=annotations,
                                    annotate=annotate)

    def approvals_annotation(self, service_key: str) -> str | None:
        """The object's ``pitboard.io/approvals`` annotation, from a GET of the object
        now (not the watch cache, which may lag behind a deletion)."""
        obj = self.api.request("GET", Target.parse(service_key).path) or {}
        value = ((obj.get("metadata") or {}).get("annotations") or {}).get(APPROVALS)
        return value if isinstance(value, str) else None

    def close(self) -> None:
        self._closed = True
        caches = [c for cl in list(self.caches.values()) for c in cl]
        for c in caches:
            c._stop.set()
        for c in caches:
            c.stop()
        self.api.close()


class KubernetesFleet(ClusterBackend):
    """Several contexts at once; one row per service, each tagged with its cluster.

    A cluster that fails is reported in ``errors`` while the others keep showing, and its
    data keeps showing too -- as listed, when its watch is behind (even at the first read:
    :class:`StaleClusterError`), else its last good part -- the error naming it stale, as a
    failed source's panel keeps its data; ``read()`` raises only when every cluster failed."""

    def __init__(self, config: KubernetesConfig | None = None,
                 contexts: Sequence[str] | None = None,
                 namespaces: Sequence[str] | str | None = None, *, read_only: bool = False,
                 read_only_contexts: Sequence[str] = (), actor: str | None = None,
                 kubeconfig: str | None = None):
        self.config = config or KubernetesConfig()
        names = list(dict.fromkeys(contexts or self.config.contexts))
        if not names:
            raise BackendError("a fleet needs at least one context", source=SOURCE)
        self._pool = ThreadPoolExecutor(max_workers=min(8, len(names)),
                                        thread_name_prefix="kube-fleet")
        # the contexts connected side by side: each may run its kubeconfig's exec
        # credential plugin (aws eks get-token, gke-gcloud-auth-plugin, kubelogin: ~0.5-1 s
        # each), which one after another cost a 20-context fleet 10-20 s before any read
        made = [(ctx, self._pool.submit(
            KubernetesCluster, self.config, ctx, namespaces,
            read_only=read_only or ctx in read_only_contexts, actor=actor,
            kubeconfig=kubeconfig)) for ctx in names]
        self.clusters: dict[str, KubernetesCluster] = {}
        first_error: BaseException | None = None
        for ctx, future in made:
            try:
                self.clusters[ctx] = future.result()
            except BaseException as exc:  # noqa: BLE001 - the first (in context order) raised
                first_error = first_error or exc
        if first_error is not None:
            for cluster in self.clusters.values():
                cluster.close()
            self._pool.shutdown(wait=False, cancel_futures=True)
            raise first_error
        self.context = ",".join(self.clusters)
        first = next(iter(self.clusters.values()))
        self.namespace = first.namespace
        self.read_only = all(c.read_only for c in self.clusters.values())
        self.errors: dict[str, str] = {}
        self._last: dict[str, ClusterPart] = {}  # context -> its last good part

    def read(self) -> ClusterPart:
        futures = {ctx: self._pool.submit(c.read) for ctx, c in self.clusters.items()}
        parts, errors, first_exc = [], {}, None
        fresh = 0
        for ctx, fut in futures.items():
            try:
                part = fut.result()
            except BackendError as exc:
                errors[ctx] = str(exc)
                first_exc = first_exc or exc
                # its data as of then (listed, its watch behind), else its last good data:
                # named in errors, never left out unnamed
                shown = exc.part if isinstance(exc, StaleClusterError) else self._last.get(ctx)
                if shown is not None:
                    parts.append(shown)
                continue
            self._last[ctx] = part
            parts.append(part)
            fresh += 1
        self.errors = errors
        if not fresh and first_exc is not None:
            if len(parts) == len(futures) and isinstance(first_exc, StaleClusterError):
                # every context listed, every one behind: all their data, the source stale
                raise StaleClusterError(str(first_exc), first_exc.status,
                                        part=self._combine(parts)) from first_exc
            raise first_exc  # nothing answered: the app marks the whole source stale
        return self._combine(parts)

    def _combine(self, parts: Sequence[ClusterPart]) -> ClusterPart:
        revisions: dict = {}
        for p in parts:
            revisions.update(p.revisions)
        services = tuple(s for p in parts for s in p.services)
        search = None if services else "\n".join(p.search for p in parts if p.search) or None
        return ClusterPart(context=self.context, namespace=self.namespace,
                           services=services, revisions=revisions,
                           gpus=tuple(g for p in parts for g in p.gpus), search=search)

    def cluster_for(self, service_key: str) -> KubernetesCluster:
        t = Target.parse(service_key)
        try:
            return self.clusters[t.cluster]
        except KeyError:
            raise NotFoundError(f"unknown cluster {t.cluster!r} in {service_key!r}; known: "
                                f"{', '.join(self.clusters)}", source=SOURCE) from None

    def plan(self, request: ActionRequest) -> ActionPlan:
        return self.cluster_for(request.service_key).plan(request)

    def execute(self, request: ActionRequest) -> ActionResult:
        return self.cluster_for(request.service_key).execute(request)

    def progress(self, service_key: str) -> RolloutProgress:
        return self.cluster_for(service_key).progress(service_key)

    def annotate_approval(self, service_key: str, approver: str, reason: str, at: datetime,
                          *, canary: str | None = None) -> str:
        return self.cluster_for(service_key).annotate_approval(
            service_key, approver, reason, at, canary=canary)

    def approvals_annotation(self, service_key: str) -> str | None:
        return self.cluster_for(service_key).approvals_annotation(service_key)

    def mirror_audit(self, service_key: str, anchor: str, chain: str | None, what: str, *,
                     reason: str = "PitboardAudit",
                     annotations: dict[str, str] | None = None,
                     annotate: bool = True) -> list[str]:
        return self.cluster_for(service_key).mirror_audit(
            service_key, anchor, chain, what, reason=reason, annotations=annotations,
            annotate=annotate)

    @property
    def identity(self) -> str | None:
        """The clusters' identities, distinct, comma-separated (None when none is known)."""
        names = dict.fromkeys(i for c in self.clusters.values() if (i := c.identity))
        return ",".join(names) or None

    def whoami_for(self, context: str | None = None) -> ClusterIdentity:
        """Who the cluster of ``context`` says we are (each context has its own answer)."""
        if context is None or context not in self.clusters:
            return ClusterIdentity(context=context or "", problem=(
                f"no cluster {context!r} in this fleet ({', '.join(self.clusters)})"))
        return self.clusters[context].whoami_for(context)

    def whoami(self) -> str | None:
        """Ask every cluster (in parallel) who we are; then ``identity``."""
        for fut in [self._pool.submit(c.whoami) for c in self.clusters.values()]:
            fut.result()
        return self.identity

    def warm(self) -> None:
        """Every context's start and first LIST begun, in the fleet's pool: as many at
        once as it reads at once (all 20 contexts' watch caches listing at once measured
        slower: 8.1 s to the full fleet against 6.4 s, the client's threads contending
        for the interpreter; tests/bench_kube_fleet.py)."""
        for c in self.clusters.values():
            c.warm(self._pool)

    def close(self) -> None:
        for c in self.clusters.values():
            c.close()
        self._pool.shutdown(wait=False, cancel_futures=True)


def make_cluster_backend(config: KubernetesConfig | None = None,
                         contexts: Sequence[str] | None = None,
                         namespaces: Sequence[str] | str | None = None, *,
                         read_only: bool = False, read_only_contexts: Sequence[str] = (),
                         actor: str | None = None, kubeconfig: str | None = None
                         ) -> ClusterBackend:
    """One context (or none: the current one) -> KubernetesCluster; several -> a fleet."""
    config = config or KubernetesConfig()
    names = list(dict.fromkeys(contexts or config.contexts))
    if len(names) <= 1:
        ctx = names[0] if names else None
        return KubernetesCluster(config, ctx, namespaces,
                                 read_only=read_only or (ctx in read_only_contexts),
                                 actor=actor, kubeconfig=kubeconfig)
    return KubernetesFleet(config, names, namespaces, read_only=read_only,
                           read_only_contexts=read_only_contexts, actor=actor,
                           kubeconfig=kubeconfig)
