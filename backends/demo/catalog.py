"""Static structure of the demo fleet: model profiles, release histories, nodes and GPUs.

Built once per :func:`backends.demo.fleet.make_demo` call; everything that moves with time lives
in ``demo_metrics`` and everything that actions change lives in ``demo_state``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from backends.demo.sim import GPU_TYPES, GpuType, entity_key, unit
from backends.domain.models import ServiceKind

NAMESPACE = "ml-serving"
CONTEXT = "demo"
REGISTRY = "registry.example.com/ml"

D, ISVC, RO = ServiceKind.DEPLOYMENT, ServiceKind.INFERENCE_SERVICE, ServiceKind.ROLLOUT


@dataclass(frozen=True, slots=True)
class RevSpec:
    """One revision's pod template and what it does to health (hidden from the UI)."""

    number: int
    version: str
    image: str
    created_ts: float
    change_cause: str
    who: str
    err_mult: float = 1.0
    lat_mult: float = 1.0

    @property
    def template(self) -> tuple[str, str]:
        return (self.version, self.image)


@dataclass(slots=True)
class ServiceSpec:
    """A model service's static profile and its initial release state."""

    name: str
    kind: ServiceKind
    runtime: str
    gpu_type: str | None
    gpus_per_replica: int
    replicas: int
    base_rps: float
    base_err: float
    p50_ms: float
    tail95: float
    tail99: float
    util_peak: float
    mem_frac: float
    peak_hour: float
    team: str
    history: tuple[RevSpec, ...]  # oldest first
    canary_percent: float | None = None  # None: no split
    stable: int | None = None  # stable leg (or KServe previousRolledoutRevision)
    canary_replicas: int = 0
    paused: bool = False
    llm: bool = False
    ttft_ms: float | None = None
    out_tokens: float | None = None
    idle: bool = False
    key: int = 0
    allocated: int = 0  # GPUs actually placed on nodes
    index: int = 0
    mig: tuple[str, ...] = ()  # MIG profiles its replicas run on (one each), e.g. "3g.40gb"


@dataclass(frozen=True, slots=True)
class MigSlot:
    """One MIG instance of a GPU (dcgm-exporter's ``GPU_I_PROFILE`` / ``GPU_I_ID``)."""

    profile: str          # e.g. "3g.40gb": 3 of the GPU's 7 compute slices, 40 GB
    instance: str
    service: int | None   # index into Catalog.services
    replica: int          # the service's replica this instance holds
    pod: str | None
    memory_mib: float


@dataclass(frozen=True, slots=True)
class GpuSlot:
    """One physical GPU and the pod holding it (if any); a MIG GPU lists its instances
    (its own ``service``/``pod`` are then the first held instance's)."""

    node: str
    index: int
    uuid: str
    gtype: GpuType
    service: int | None  # index into Catalog.services
    pod: str | None
    key: int
    hot: bool = False
    mig: tuple[MigSlot, ...] = ()
    old_xid: tuple[int, float] | None = None  # (code, seconds before the anchor): cleared


@dataclass(frozen=True, slots=True)
class DriftSpec:
    model: str
    feature: str
    base: float
    threshold: float
    climbs: bool
    key: int
    phase_h: float = 0.0
    """Climbing features ramp once a day; this shifts the ramp (hours), so that between
    them a demo opened at any hour shows a feature past its threshold."""


@dataclass(slots=True)
class Catalog:
    seed: int
    anchor_ts: float
    services: list[ServiceSpec]
    gpus: list[GpuSlot]
    drift: list[DriftSpec]
    monthly_budget: float
    by_name: dict[str, int] = field(default_factory=dict)


# name, kind, runtime, gpu, gpus/replica, replicas, rps, err, p50, util, mem, peak, team,
# versions (oldest first), extra. Error ratios sit well inside the default 99.9 %
# availability objective (0.02-0.08 %: burn rates below 1) except the recommender, whose
# stable leg burns its budget ~4x and whose canary (x8.5) fails the promote gate.
_CAUSES = (
    "retrain on October traffic", "bump base image to CUDA 12.8", "raise max batch size",
    "fix tokenizer padding side", "FP8 quantisation", "revert: OOM under peak load",
    "tune autoscaler targets", "new feature set from the feature store",
    "upgrade runtime for security patch", "pin numpy to avoid ABI break",
)
_WHO = ("ci-bot@ml-platform", "argocd", "a.kovacs", "j.mensah", "s.ito", "r.okafor")


def _catalog() -> list[dict]:
    return [
        dict(name="llm-chat", kind=D, runtime="vllm", gpu="h100", gpr=4, replicas=2,
             rps=38.0, err=0.0006, p50=1800.0, t95=2.1, t99=1.45, util=94.0, mem=0.92,
             peak=15.0, team="assistant", llm=True, ttft=420.0, out=210.0,
             versions=["v1.1.0", "v1.2.0", "v1.3.1", "v1.4.0", "v1.4.2"], first=8,
             causes=["Llama 3.1 8B -> 70B", "enable prefix caching", "vLLM 0.10 upgrade",
                     "gpu_memory_utilization 0.92", "vLLM 0.11.2, chunked prefill"]),
        dict(name="code-assist", kind=RO, runtime="vllm", gpu="h100", gpr=4, replicas=1,
             rps=12.0, err=0.0007, p50=2400.0, t95=2.3, t99=1.5, util=88.0, mem=0.9,
             peak=14.0, team="devtools", llm=True, ttft=380.0, out=320.0,
             versions=["v0.8.0", "v0.9.0", "v0.9.3"], first=3),
        dict(name="text-embedder", kind=D, runtime="http", gpu="l4", gpr=1, replicas=2,
             rps=850.0, err=0.0003, p50=9.0, t95=2.4, t99=1.6, util=71.0, mem=0.38,
             peak=13.0, team="search", versions=["v2.0.0", "v2.1.0", "v2.1.1", "v2.2.0"],
             first=11),
        dict(name="fraud-scorer", kind=D, runtime="triton", gpu="a100", gpr=1, replicas=2,
             rps=1200.0, err=0.0002, p50=4.2, t95=2.6, t99=1.8, util=63.0, mem=0.21,
             peak=16.0, team="risk",
             versions=["v3.2.0", "v3.3.0", "v3.4.0", "v3.4.1", "v3.5.0", "v3.6.0"], first=21,
             drift=[("amount", 0.06), ("merchant_category", None), ("device_age_days", None, 11.5),
                    ("txn_hour", 0.03)]),
        dict(name="recommender", kind=ISVC, runtime="kserve", gpu="a100", gpr=1, replicas=2,
             rps=420.0, err=0.004, p50=35.0, t95=2.2, t99=1.6, util=58.0, mem=0.44,
             peak=19.0, team="growth", versions=["v2.0.1", "v2.1.0", "v2.2.0", "v2.3.0"],
             first=1, canary=10.0, canary_err=8.5, canary_lat=1.25,
             causes=["two-tower model", "add recency features", "retrain weekly",
                     "new ranking head (canary)"],
             drift=[("user_embedding_norm", 0.05), ("item_popularity", 0.08)]),
        dict(name="reranker", kind=RO, runtime="http", gpu="l4", gpr=1, replicas=1,
             rps=300.0, err=0.0005, p50=22.0, t95=2.0, t99=1.5, util=66.0, mem=0.55,
             peak=13.0, team="search", versions=["v1.0.0", "v1.1.0", "v1.2.0", "v1.3.0"],
             first=4, canary=20.0, canary_err=0.95, canary_lat=0.92,
             causes=["cross-encoder baseline", "distilled MiniLM", "ONNX export",
                     "int8 cross-encoder (canary)"]),
        dict(name="vision-detector", kind=D, runtime="triton", gpu="h100", gpr=1, replicas=1,
             rps=90.0, err=0.0004, p50=28.0, t95=2.2, t99=1.6, util=55.0, mem=0.33,
             peak=12.0, team="trust-safety", versions=["v5.0.0", "v5.1.0", "v5.1.2"], first=6,
             paused=True),
        dict(name="speech-asr", kind=D, runtime="triton", gpu="h100", gpr=1, replicas=2,
             rps=25.0, err=0.0006, p50=380.0, t95=1.9, t99=1.4, util=61.0, mem=0.41,
             peak=15.5, team="voice",
             versions=["v0.9.0", "v1.0.0", "v1.0.1", "v1.1.0", "v1.2.0"], first=2),
        dict(name="legacy-sentiment", kind=D, runtime="http", gpu="a100", gpr=1, replicas=2,
             rps=0.3, err=0.0004, p50=45.0, t95=1.8, t99=1.4, util=3.0, mem=0.12,
             peak=15.0, team="support", versions=["v0.3.0", "v0.4.0", "v0.4.1"], first=5,
             idle=True),
        dict(name="doc-ocr", kind=D, runtime="http", gpu=None, gpr=0, replicas=3,
             rps=15.0, err=0.0007, p50=450.0, t95=2.0, t99=1.5, util=0.0, mem=0.0,
             peak=11.0, team="documents", versions=["v1.0.0", "v1.1.0", "v1.1.3"], first=9),
        # one model per engine of 2026 (runtime = the engine its metric profile reports)
        dict(name="chat-sglang", kind=D, runtime="sglang", gpu="h100", gpr=2, replicas=1,
             rps=9.0, err=0.0005, p50=1500.0, t95=2.0, t99=1.4, util=84.0, mem=0.88,
             peak=15.0, team="assistant", llm=True, ttft=300.0, out=180.0,
             versions=["v0.4.0", "v0.5.0", "v0.5.2"], first=3),
        dict(name="summarize-tgi", kind=D, runtime="tgi", gpu="h100", gpr=1, replicas=1,
             rps=4.0, err=0.0006, p50=2600.0, t95=1.9, t99=1.4, util=72.0, mem=0.8,
             peak=14.0, team="documents", llm=True, ttft=None, out=260.0,
             versions=["v2.2.0", "v2.3.0", "v2.4.1"], first=2),
        dict(name="assist-rayserve", kind=D, runtime="ray-serve", gpu="h100", gpr=2,
             replicas=1, rps=6.0, err=0.0007, p50=2000.0, t95=2.1, t99=1.4, util=79.0,
             mem=0.9, peak=16.0, team="assistant", llm=True, ttft=450.0, out=230.0,
             versions=["v0.9.0", "v1.0.0", "v1.1.0"], first=1),
        dict(name="router-llmd", kind=D, runtime="llm-d", gpu="h100", gpr=2, replicas=1,
             rps=14.0, err=0.0004, p50=1700.0, t95=2.0, t99=1.5, util=86.0, mem=0.9,
             peak=15.0, team="platform", llm=True, ttft=280.0, out=200.0,
             versions=["v0.2.0", "v0.3.0", "v0.3.1"], first=4),
        dict(name="intent-knative", kind=ISVC, runtime="knative", gpu=None, gpr=0,
             replicas=2, rps=60.0, err=0.0005, p50=35.0, t95=2.2, t99=1.6, util=0.0,
             mem=0.0, peak=13.0, team="support", versions=["v1.0.0", "v1.1.0", "v1.2.0"],
             first=1),
        # small models on MIG instances of one A100 (profile per replica)
        dict(name="tiny-llm", kind=D, runtime="vllm", gpu=None, gpr=0, replicas=1,
             rps=3.0, err=0.0006, p50=900.0, t95=2.0, t99=1.4, util=68.0, mem=0.7,
             peak=10.0, team="assistant", llm=True, ttft=160.0, out=120.0,
             versions=["v0.1.0", "v0.2.0", "v0.2.1"], first=1,
             mig=("3g.40gb",)),
        dict(name="embed-mini", kind=D, runtime="triton", gpu=None, gpr=0, replicas=2,
             rps=220.0, err=0.0003, p50=6.0, t95=2.3, t99=1.6, util=47.0, mem=0.5,
             peak=13.0, team="search", versions=["v0.9.0", "v1.0.0", "v1.0.1"], first=2,
             mig=("2g.20gb", "1g.10gb")),
    ]


_HOSTILE = [
    "[bold red]x[/]",
    "evil\x1b[2Jmodel",
    "long-" + "x" * 295,
    "\U0001f525-llama-\U0001f999-chat",
]
_DOMAINS = ("search", "ads", "churn", "pricing", "eta", "support", "moderation", "caption",
            "translate", "forecast", "ranking", "payments")
_KINDS = (("embedder", 2), ("ranker", 5), ("chat", 0), ("scorer", 3), ("detector", 6),
          ("asr", 7), ("classifier", 8))


def _history(seed: int, name: str, versions: list[str], first: int, anchor: float,
             causes: list[str] | None, err_mults: dict[int, float],
             lat_mults: dict[int, float]) -> tuple[RevSpec, ...]:
    revs = []
    n = len(versions)
    for i, version in enumerate(versions):
        age_days = (n - 1 - i) * (4 + 10 * unit(seed, name, "age", i)) + 0.2 + unit(seed, name, i)
        cause = causes[i] if causes and i < len(causes) else _CAUSES[
            int(unit(seed, name, "cause", i) * len(_CAUSES))]
        who = _WHO[int(unit(seed, name, "who", i) * len(_WHO))]
        revs.append(RevSpec(
            number=first + i, version=version, image=f"{REGISTRY}/{name}:{version}",
            created_ts=float(int(anchor - age_days * 86400)), change_cause=cause, who=who,
            err_mult=err_mults.get(i, 0.85 + 0.3 * unit(seed, name, "err", i)),
            lat_mult=lat_mults.get(i, 0.9 + 0.2 * unit(seed, name, "lat", i)),
        ))
    return tuple(revs)


def _spec(seed: int, anchor: float, d: dict) -> ServiceSpec:
    n = len(d["versions"])
    canary = d.get("canary")
    err_m = {n - 1: d["canary_err"]} if canary is not None else {}
    lat_m = {n - 1: d["canary_lat"]} if canary is not None else {}
    if canary is not None:
        err_m[n - 2], lat_m[n - 2] = 1.0, 1.0
    hist = _history(seed, d["name"], d["versions"], d["first"], anchor, d.get("causes"),
                    err_m, lat_m)
    if canary is not None:  # the canary revision was created when the canary started
        started = float(int(anchor - 1800 - 1800 * unit(seed, d["name"], "canary-age")))
        hist = (*hist[:-1], replace(hist[-1], created_ts=started))
    return ServiceSpec(
        name=d["name"], kind=d["kind"], runtime=d["runtime"], gpu_type=d["gpu"],
        gpus_per_replica=d["gpr"], replicas=d["replicas"], base_rps=d["rps"],
        base_err=d["err"], p50_ms=d["p50"], tail95=d["t95"], tail99=d["t99"],
        util_peak=d["util"], mem_frac=d["mem"], peak_hour=d["peak"], team=d["team"],
        history=hist, canary_percent=canary,
        stable=hist[-2].number if len(hist) > 1 else None,
        canary_replicas=1 if canary is not None else 0, paused=d.get("paused", False),
        llm=d.get("llm", False), ttft_ms=d.get("ttft"), out_tokens=d.get("out"),
        idle=d.get("idle", False), key=entity_key(seed, "svc", d["name"]),
        mig=tuple(d.get("mig", ())),
    )


def _synthetic(seed: int, i: int, templates: list[dict]) -> dict:
    dom = _DOMAINS[int(unit(seed, "dom", i) * len(_DOMAINS))]
    word, tmpl_i = _KINDS[int(unit(seed, "kind", i) * len(_KINDS))]
    t = dict(templates[tmpl_i])
    name = f"{dom}-{word}-{i:03d}"
    n = 3 + int(unit(seed, "nrev", i) * 4)
    major = 1 + int(unit(seed, "major", i) * 4)
    versions = [f"v{major}.{k}.{int(unit(seed, 'patch', i, k) * 4)}" for k in range(n)]
    scale = 0.4 + 1.2 * unit(seed, "scale", i)
    t.update(name=name, versions=versions, first=1 + int(unit(seed, "first", i) * 9),
             rps=t["rps"] * scale, replicas=max(1, round(t["replicas"] * (0.5 + scale))),
             peak=10.0 + 10.0 * unit(seed, "peak", i), paused=False, idle=False, causes=None,
             drift=t.get("drift") if i % 10 == 0 else None)
    t["gpr"] = t["gpr"] if t["gpu"] else 0
    if t["kind"] == D and i % 7 == 3:
        t["kind"] = ISVC
    if t["kind"] != D and i % 3 == 0:
        t.update(canary=5.0 + 5.0 * int(unit(seed, "cw", i) * 4), canary_err=1.0 + 6.0 * (i % 2),
                 canary_lat=1.1)
    else:
        t.pop("canary", None)
    if t["kind"] == ISVC:
        t["runtime"] = "kserve"
    if i % 17 == 5:
        t.update(idle=True, rps=0.2, util=2.0)
    else:
        t.update(util=max(t["util"], 45.0), rps=max(t["rps"], 2.0))
    return t


def _hostile(seed: int) -> list[dict]:
    out = []
    for i, name in enumerate(_HOSTILE):
        out.append(dict(
            name=name, kind=D, runtime="http", gpu=None, gpr=0, replicas=1, rps=3.0 + i,
            err=0.0005, p50=30.0, t95=2.0, t99=1.5, util=0.0, mem=0.0, peak=15.0,
            team="[red]qa[/]", versions=["v0.1.0", "v0.2.0[/]", "v0.3.0"], first=1,
            causes=["[link=https://evil.example]click[/link]", "clear \x1b[2J screen",
                    "\U0001f680 ship it"],
        ))
    return out


def _nodes(n_gpus: int | None) -> list[tuple[str, GpuType, int]]:
    if n_gpus is None:
        return [("gpu-h100-a", GPU_TYPES["h100"], 8), ("gpu-h100-b", GPU_TYPES["h100"], 8),
                ("gpu-h100-c", GPU_TYPES["h100"], 8), ("gpu-a100-a", GPU_TYPES["a100"], 8),
                ("gpu-l4-a", GPU_TYPES["l4"], 4)]
    if n_gpus < 1:
        raise ValueError(f"n_gpus must be >= 1, got {n_gpus}")
    cycle = ("h100", "h100", "a100", "l4")
    nodes, left, i = [], n_gpus, 0
    while left > 0:
        t = GPU_TYPES[cycle[i % len(cycle)]]
        nodes.append((f"gpu-{t.key}-{i + 1:03d}", t, min(8, left)))
        left -= 8
        i += 1
    return nodes


def _uuid(seed: int, node: str, idx: int) -> str:
    h = f"{entity_key(seed, 'uuid', node, idx):016x}{entity_key(seed, 'uuid2', node, idx):016x}"
    return f"GPU-{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def pod_name(seed: int, svc: str, template: tuple[str, str], replica: int) -> str:
    """Deterministic pod name whose hash part follows the pod template (like a ReplicaSet)."""
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    h = entity_key(seed, "rs", svc, template)
    rs = "".join(alphabet[(h >> (5 * k)) % 27] for k in range(9))
    p = entity_key(seed, "pod", svc, template, replica)
    suffix = "".join(alphabet[(p >> (5 * k)) % 27] for k in range(5))
    return f"{svc}-{rs}-{suffix}"


def _place(seed: int, services: list[ServiceSpec], nodes: list[tuple[str, GpuType, int]],
           limit: float) -> list[GpuSlot]:
    free: dict[str, list[int]] = {name: list(range(n)) for name, _, n in nodes}
    owner: dict[tuple[str, int], tuple[int, str]] = {}
    total = sum(n for _, _, n in nodes)
    used = 0
    for si, s in enumerate(services):
        if not s.gpu_type or s.gpus_per_replica <= 0:
            continue
        order = [nd for nd in nodes if nd[1].key == s.gpu_type] + [
            nd for nd in nodes if nd[1].key != s.gpu_type]
        cur = s.history[-1]
        for r in range(s.replicas + s.canary_replicas):
            if used + s.gpus_per_replica > limit * total:
                break
            node = next((nd for nd in order if len(free[nd[0]]) >= s.gpus_per_replica), None)
            if node is None:
                break
            is_canary = r >= s.replicas
            tmpl = cur.template if (is_canary or s.canary_percent is None) else next(
                h.template for h in s.history if h.number == s.stable)
            pod = pod_name(seed, s.name, tmpl, r)
            for _ in range(s.gpus_per_replica):
                owner[(node[0], free[node[0]].pop(0))] = (si, pod)
            used += s.gpus_per_replica
            s.allocated += s.gpus_per_replica
    slots = []
    for ni, (name, gtype, n) in enumerate(nodes):
        for idx in range(n):
            held = owner.get((name, idx))
            slots.append(GpuSlot(node=name, index=idx, uuid=_uuid(seed, name, idx), gtype=gtype,
                                 service=held[0] if held else None,
                                 pod=held[1] if held else None,
                                 key=entity_key(seed, "gpu", name, idx),
                                 hot=(ni == 0 and idx == 3)))
    return slots


MIG_NODE = "gpu-a100-mig"
# the A100 80GB's MIG instances: 7 compute and 8 memory slices (3g.40gb + 2g.20gb +
# 2 x 1g.10gb fills one GPU); instance ids as nvidia-smi mig -lgi numbers them
_MIG_LAYOUT = (("3g.40gb", "2", 40448.0), ("2g.20gb", "3", 19968.0), ("1g.10gb", "9", 9728.0),
               ("1g.10gb", "10", 9728.0))
OLD_XID = (48, 3 * 3600.0 + 420.0)  # GPU 1 of the MIG node: XID 48, cleared 3 h 7 min ago


def _mig_node(seed: int, services: list[ServiceSpec]) -> list[GpuSlot]:
    """A node of two A100s: GPU 0 split into MIG instances serving small models (each
    replica of a service with ``mig`` profiles takes the next free instance of its
    profile), GPU 1 whole and free, its last XID long cleared."""
    gtype = GPU_TYPES["a100"]
    free = list(_MIG_LAYOUT)
    held: dict[str, tuple[int, int, str]] = {}
    for si, s in enumerate(services):
        for r, profile in enumerate(s.mig):
            hit = next((x for x in free if x[0] == profile), None)
            if hit is None:
                continue
            free.remove(hit)
            pod = pod_name(seed, s.name, s.history[-1].template, r)
            held[hit[1]] = (si, r, pod)
            s.allocated += 1
    instances = tuple(MigSlot(profile=p, instance=i, service=held[i][0] if i in held else None,
                              replica=held[i][1] if i in held else 0,
                              pod=held[i][2] if i in held else None, memory_mib=m)
                      for p, i, m in _MIG_LAYOUT)
    first = next((x for x in instances if x.service is not None), None)
    return [GpuSlot(node=MIG_NODE, index=0, uuid=_uuid(seed, MIG_NODE, 0), gtype=gtype,
                    service=first.service if first else None, pod=first.pod if first else None,
                    key=entity_key(seed, "gpu", MIG_NODE, 0), mig=instances),
            GpuSlot(node=MIG_NODE, index=1, uuid=_uuid(seed, MIG_NODE, 1), gtype=gtype,
                    service=None, pod=None, key=entity_key(seed, "gpu", MIG_NODE, 1),
                    old_xid=OLD_XID)]


def _fill(services: list[ServiceSpec], first_synthetic: int, capacity: int) -> None:
    """Scale synthetic services' replicas so a big fleet is about 90 % allocated."""
    synth = [s for s in services[first_synthetic:] if s.gpu_type and s.gpus_per_replica]
    demand = sum(s.gpus_per_replica * (s.replicas + s.canary_replicas) for s in services
                 if s.gpu_type)
    if not synth or demand <= 0 or demand >= 0.9 * capacity:
        return
    factor = 0.9 * capacity / demand
    for s in synth:
        s.replicas = min(24, max(1, round(s.replicas * factor)))


def build_catalog(seed: int, anchor_ts: float, n_gpus: int | None = None,
                  n_models: int | None = None, hostile: bool = False) -> Catalog:
    """The static fleet for ``seed``; ``anchor_ts`` (the clock at build time) dates history."""
    anchor = float(int(anchor_ts // 3600) * 3600)
    templates = _catalog()
    if n_models is not None and n_models < 0:
        raise ValueError(f"n_models must be >= 0, got {n_models}")
    dicts = templates[: n_models if n_models is not None else len(templates)]
    if n_models is not None:
        dicts += [_synthetic(seed, i, templates) for i in range(len(dicts), n_models)]
    if hostile:
        dicts += _hostile(seed)
    services = [_spec(seed, anchor, d) for d in dicts]
    for i, s in enumerate(services):
        s.index = i
    nodes = _nodes(n_gpus)
    _fill(services, len(templates), sum(n for _, _, n in nodes))
    gpus = _place(seed, services, nodes, limit=1.0 if n_gpus is None else 0.9)
    if n_gpus is None:
        gpus += _mig_node(seed, services)
    drift = []
    for d in dicts:
        for feature, base, *phase in d.get("drift") or ():
            drift.append(DriftSpec(
                d["name"], feature, base if base is not None else 0.03, 0.2, base is None,
                entity_key(seed, "drift", d["name"], feature), phase[0] if phase else 0.0))
    hourly = sum(g.gtype.price_per_hour for g in gpus)
    budget = max(1000.0, round(hourly * 24 * 30 * 0.97 / 1000.0) * 1000.0)
    cat = Catalog(seed=seed, anchor_ts=anchor, services=services, gpus=gpus, drift=drift,
                  monthly_budget=budget)
    cat.by_name = {s.name: i for i, s in enumerate(services)}
    if len(cat.by_name) != len(services):
        raise ValueError("duplicate model names in the demo catalog")
    return cat


__all__ = ["Catalog", "DriftSpec", "GpuSlot", "MigSlot", "RevSpec", "ServiceSpec", "build_catalog",
           "pod_name", "CONTEXT", "NAMESPACE"]
