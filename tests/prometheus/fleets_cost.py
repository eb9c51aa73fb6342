"""OpenCost beside dcgm-exporter: node totals, GPU prices, idle and unallocated GPUs.

Names and labels follow opencost/opencost ``pkg/costmodel/metrics.go`` (``node_total_hourly_cost``,
``node_gpu_hourly_cost`` per GPU, ``node_gpu_count``, labels ``node``, ``instance`` = the node,
``instance_type``, ``region``, ``provider_id``); the GPUs follow NVIDIA/dcgm-exporter
``etc/default-counters.csv`` (``DCGM_FI_DEV_GPU_UTIL`` in %, ``Hostname``, ``pod``/
``namespace``/``container``).
"""

from __future__ import annotations

from tests.prometheus.generators import H100, L40S, STEP_S, Fleet

# node -> (node_total_hourly_cost, node_gpu_hourly_cost per GPU, GPUs)
NODES = {"gpu-a": (19.5, 4.0, 4), "cpu-b": (1.32, 0.0, 0), "gpu-c": (6.25, 2.5, 2)}
TOTAL_HOURLY = sum(total for total, _, _ in NODES.values())          # 27.07
GPU_HOURLY = sum(price * n for _, price, n in NODES.values())        # 21.0
# (node, index) -> (pod or None, (utilisation at the last sample, the other sample))
# the utilisation alternates every sample: its window average is the mean of the two
GPUS = {
    ("gpu-a", 0): ("chat-7d9f8b6c5-aaaaa", (14.0, 2.0)),   # average 8: idle; now 14
    ("gpu-a", 1): ("chat-7d9f8b6c5-bbbbb", (80.0, 80.0)),
    ("gpu-a", 2): ("chat-7d9f8b6c5-ccccc", (75.0, 85.0)),
    ("gpu-a", 3): (None, (0.0, 0.0)),                       # unallocated
    ("gpu-c", 0): (None, (0.0, 0.0)),                       # unallocated
    ("gpu-c", 1): ("embed-5c6d7e8f9-ddddd", (6.0, 18.0)),  # average 12: busy; now 6
}
IDLE_HOURLY = 4.0          # gpu-a/0
UNALLOCATED_HOURLY = 4.0 + 2.5


def cost_fleet(times: list[int]) -> Fleet:
    f = Fleet(times)
    end = f.t_end
    for node, (total, gpu_price, n) in NODES.items():
        labels = {"node": node, "instance": node, "instance_type": "p5.48xlarge" if n else
                  "m6i.xlarge", "region": "us-east-1", "provider_id": f"aws:///us-east-1a/{node}",
                  "job": "opencost"}
        f.add("node_total_hourly_cost", labels, (total for _ in times))
        f.add("node_gpu_hourly_cost", labels, (gpu_price for _ in times))
        f.add("node_gpu_count", labels, (float(n) for _ in times))
    for (node, index), (pod, (now, other)) in GPUS.items():
        labels = {"gpu": str(index), "UUID": f"GPU-{node}-{index}", "device": f"nvidia{index}",
                  "modelName": H100 if node == "gpu-a" else L40S, "Hostname": node,
                  "job": "dcgm-exporter"}
        if pod:
            labels |= {"pod": pod, "namespace": "ml", "container": "server"}
        f.add("DCGM_FI_DEV_GPU_UTIL", labels,
              (now if ((end - t) // STEP_S) % 2 == 0 else other for t in times))
    return f
