"""GPUs shared out: MIG instances and time-slicing, shaped as dcgm-exporter emits them.

MIG: the label template of NVIDIA/dcgm-exporter ``internal/pkg/rendermetrics/render_metrics.go``
(``gpu``, ``UUID`` = the parent GPU's, ``pci_bus_id``, ``device``, ``modelName``, then
``GPU_I_PROFILE`` and ``GPU_I_ID`` when the entity is a GPU instance, then ``Hostname``),
as in ``internal/pkg/transformation/kubernetes_mig_test.go`` (``mig_profile`` "1g.10gb",
``gpu_instance_id`` 11 and 13 under one H100): every field comes once per instance;
``DCGM_FI_DEV_GPU_UTIL`` is not reported under MIG, ``DCGM_FI_PROF_GR_ENGINE_ACTIVE``
(a 0-1 ratio, ``etc/dcp-metrics-included.csv``) and the framebuffer are the instance's own,
temperature, power and XID the GPU's, repeated on each instance's series.

Time-slicing: ``internal/pkg/transformation/kubernetes.go`` with
``KubernetesVirtualGPUs`` copies each device series once per pod sharing the GPU (labels
``pod``/``namespace``/``container`` and ``vgpu``), the figure being the device's; the
device's own series (empty pod labels) stays beside them (``../shared`` NOTES).
"""

from __future__ import annotations

from tests.prometheus.generators import H100, Fleet

MIG_NODE = "mig-node"
TS_NODE = "ts-node"
MIG_UUID = "GPU-be839661-c0f5-7452-284b-b875666df60c"
WHOLE_UUID = "GPU-21c6d9d7-46cd-7e91-99c3-7b6a06a3faea"
TS_UUID = "GPU-5d9cc71f-b438-dc00-707d-c6c12bcfede1"

# instance id -> (profile, GR_ENGINE_ACTIVE ratio, FB used MiB, FB free MiB, pod or None)
MIG_INSTANCES = {
    "11": ("1g.10gb", 0.42, 6100.0, 3869.0, ("tiny-embed-5d8f7c9b4-abcde", "nlp")),
    "13": ("1g.10gb", 0.18, 2300.0, 7669.0, ("tiny-embed-5d8f7c9b4-fghij", "nlp")),
    "2": ("3g.40gb", 0.73, 30000.0, 10456.0, ("rerank-6c7d8e9f0-klmno", "search")),
    "14": ("1g.10gb", 0.0, 14.0, 9955.0, None),  # no pod holds it
}
MIG_TEMP, MIG_POWER = 61.0, 312.5
WHOLE_UTIL = 64.0
# time-sliced: the device's figures, copied onto each sharing pod's series
TS_UTIL, TS_USED, TS_FREE, TS_TEMP = 81.0, 50000.0, 31559.0, 66.0
TS_PODS = (("chat-small-7b9c6d5f4-aaaaa", "chat", "0"), ("chat-small-7b9c6d5f4-bbbbb", "chat", "1"),
           ("batch-scorer-55d6f7c8b-ccccc", "batch", "2"))


def _gpu(uuid: str, index: int, node: str) -> dict[str, str]:
    return {"gpu": str(index), "UUID": uuid, "pci_bus_id": f"00000000:{0x1B + index:02X}:00.0",
            "device": f"nvidia{index}", "modelName": H100, "Hostname": node,
            "job": "dcgm-exporter"}


def _const(f: Fleet, name: str, labels: dict[str, str], value: float) -> None:
    f.add(name, labels, (value for _ in f.times))


def shares_fleet(times: list[int]) -> Fleet:
    f = Fleet(times)
    mig = _gpu(MIG_UUID, 0, MIG_NODE)
    for inst, (profile, active, used, free, pod) in MIG_INSTANCES.items():
        labels = {**mig, "GPU_I_PROFILE": profile, "GPU_I_ID": inst}
        if pod is not None:
            labels |= {"pod": pod[0], "namespace": pod[1], "container": "server"}
        else:
            labels |= {"pod": "", "namespace": "", "container": ""}
        _const(f, "DCGM_FI_PROF_GR_ENGINE_ACTIVE", labels, active)
        _const(f, "DCGM_FI_DEV_FB_USED", labels, used)
        _const(f, "DCGM_FI_DEV_FB_FREE", labels, free)
        _const(f, "DCGM_FI_DEV_GPU_TEMP", labels, MIG_TEMP)
        _const(f, "DCGM_FI_DEV_POWER_USAGE", labels, MIG_POWER)
        _const(f, "DCGM_FI_DEV_XID_ERRORS", labels, 0.0)
    whole = {**_gpu(WHOLE_UUID, 1, MIG_NODE), "pod": "", "namespace": "", "container": ""}
    for name, value in (("DCGM_FI_DEV_GPU_UTIL", WHOLE_UTIL),
                        ("DCGM_FI_PROF_GR_ENGINE_ACTIVE", WHOLE_UTIL / 100),
                        ("DCGM_FI_DEV_FB_USED", 1000.0), ("DCGM_FI_DEV_FB_FREE", 80559.0),
                        ("DCGM_FI_DEV_GPU_TEMP", 40.0), ("DCGM_FI_DEV_POWER_USAGE", 90.0),
                        ("DCGM_FI_DEV_XID_ERRORS", 0.0)):
        _const(f, name, whole, value)
    ts = _gpu(TS_UUID, 0, TS_NODE)
    copies = [{**ts, "pod": "", "namespace": "", "container": ""}]
    copies += [{**ts, "pod": p, "namespace": ns, "container": "server", "vgpu": v}
               for p, ns, v in TS_PODS]
    for labels in copies:
        for name, value in (("DCGM_FI_DEV_GPU_UTIL", TS_UTIL), ("DCGM_FI_DEV_FB_USED", TS_USED),
                            ("DCGM_FI_DEV_FB_FREE", TS_FREE), ("DCGM_FI_DEV_GPU_TEMP", TS_TEMP),
                            ("DCGM_FI_DEV_POWER_USAGE", 250.0),
                            ("DCGM_FI_DEV_XID_ERRORS", 0.0)):
            _const(f, name, labels, value)
    return f
