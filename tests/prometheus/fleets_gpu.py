"""dcgm-exporter as it ships: sticky XIDs, blank sentinels, label dialects that change.

Names, labels and units follow NVIDIA/dcgm-exporter ``etc/default-counters.csv`` (4.5.x:
``DCGM_FI_DEV_XID_ERRORS`` = "Value of the last XID error encountered", a gauge; the
windowed ``DCGM_EXP_XID_ERRORS_COUNT`` commented out), the XID collector's ``err_code`` /
``err_msg`` labels (``internal/pkg/collector/xid_collector.go``, since 3.3.6), the label
template of ``internal/pkg/rendermetrics/render_metrics.go`` (``Hostname`` up to
4.5.3-4.8.2, ``hostname`` after #655) and the blank sentinels of NVIDIA/go-dcgm
``pkg/dcgm/const.go`` (INT64 9223372036854775792-795, INT32 2147483632-635, FP64 2^47).
"""

from __future__ import annotations

from tests.prometheus.generators import A100, H100, Fleet

NODE = "xid-node"
XID_NEW_AGO = 120      # GPU-x-1: XID 79 (new series, err_code label) this long before the end
XID_OLD_AGO = 1800     # GPU-x-2: XID 48 (same series, value 0 -> 48) this long before
LABELS_CHANGE_AGO = 900  # GPU-l-0 gains pod labels, GPU-r-0 turns Hostname into hostname

INT64_NOT_SUPPORTED = 9223372036854775794   # go-dcgm DCGM_FT_INT64_BLANK + 2 (README sample)
INT32_BLANK = 2147483632                    # DCGM_FT_INT32_BLANK
FP64_BLANK = 140737488355328.0              # DCGM_FT_FP64_BLANK (2^47)


def _ident(uuid: str, index: int, node: str = NODE, host_label: str = "Hostname",
           model: str = H100) -> dict[str, str]:
    return {"gpu": str(index), "UUID": uuid, "pci_bus_id": f"00000000:{index:02d}:00.0",
            "device": f"nvidia{index}", "modelName": model, host_label: node,
            "job": "dcgm-exporter"}


def _steady(f: Fleet, labels: dict[str, str], util: float, *, xid: float = 0.0,
            used: float = 20000.0, power: float = 300.0, temp: float = 50.0) -> None:
    """One GPU's default-counters gauges at constant values."""
    for name, value in (("DCGM_FI_DEV_GPU_UTIL", util), ("DCGM_FI_DEV_FB_USED", used),
                        ("DCGM_FI_DEV_FB_FREE", 81559.0 - used),
                        ("DCGM_FI_DEV_POWER_USAGE", power), ("DCGM_FI_DEV_GPU_TEMP", temp),
                        ("DCGM_FI_DEV_XID_ERRORS", xid)):
        f.add(name, labels, (value for _ in f.times))


def gpu_fleet(times: list[int]) -> Fleet:
    f = Fleet(times)
    end = f.t_end
    # -- XID (item: a GPU is red only while its XID is new) -------------------------------
    _steady(f, _ident("GPU-x-0", 0), 55.0)                      # healthy: reports 0
    one = _ident("GPU-x-1", 1)
    for name, value in (("DCGM_FI_DEV_GPU_UTIL", 60.0), ("DCGM_FI_DEV_FB_USED", 1000.0),
                        ("DCGM_FI_DEV_FB_FREE", 80559.0)):
        f.add(name, one, (value for _ in f.times))
    # 0 without err_code, then the XID as a new series carrying err_code / err_msg
    f.add_where("DCGM_FI_DEV_XID_ERRORS", one,
                lambda t: 0.0 if t < end - XID_NEW_AGO else None)
    f.add_where("DCGM_FI_DEV_XID_ERRORS",
                {**one, "err_code": "79", "err_msg": "GPU has fallen off the bus"},
                lambda t: 79.0 if t >= end - XID_NEW_AGO else None)
    two = _ident("GPU-x-2", 2)
    f.add("DCGM_FI_DEV_GPU_UTIL", two, (40.0 for _ in f.times))
    f.add("DCGM_FI_DEV_XID_ERRORS", two,                        # an older exporter: no labels
          (48.0 if t >= end - XID_OLD_AGO else 0.0 for t in f.times))
    _steady(f, _ident("GPU-x-3", 3), 70.0, xid=13.0)            # since before the history
    # -- blank sentinels and NaN (item: "—", never a number) ------------------------------
    blank = _ident("GPU-s-0", 0, node="blank-node", model=A100)
    for name, value in (("DCGM_FI_DEV_GPU_UTIL", float("nan")),
                        ("DCGM_FI_DEV_FB_USED", float(INT64_NOT_SUPPORTED)),
                        ("DCGM_FI_DEV_FB_FREE", float(INT64_NOT_SUPPORTED)),
                        ("DCGM_FI_DEV_POWER_USAGE", FP64_BLANK),
                        ("DCGM_FI_DEV_GPU_TEMP", float(INT32_BLANK)),
                        ("DCGM_FI_DEV_XID_ERRORS", float(INT64_NOT_SUPPORTED))):
        f.add(name, blank, (value for _ in f.times))
    inf = _ident("GPU-s-1", 1, node="blank-node", model=A100)
    _steady(f, inf, float("inf"), used=float(INT32_BLANK + 3), temp=float(INT32_BLANK + 1),
            power=FP64_BLANK + 2.0)
    # -- label dialects (item: Hostname/hostname; labels changing mid-window) -------------
    _steady(f, _ident("GPU-h-0", 0, node="new-node", host_label="hostname"), 33.0)
    lab = _ident("GPU-l-0", 0, node="lab-node")
    pod = {"pod": "llm-lab-7f9c8d6b5-qwert", "namespace": "lab", "container": "vllm"}
    cut = end - LABELS_CHANGE_AGO
    for name, value in (("DCGM_FI_DEV_GPU_UTIL", 77.0), ("DCGM_FI_DEV_FB_USED", 30000.0),
                        ("DCGM_FI_DEV_FB_FREE", 51559.0), ("DCGM_FI_DEV_GPU_TEMP", 61.0),
                        ("DCGM_FI_DEV_POWER_USAGE", 410.0), ("DCGM_FI_DEV_XID_ERRORS", 0.0)):
        f.add_where(name, lab, lambda t, v=value: v if t < cut else None)
        f.add_where(name, {**lab, **pod}, lambda t, v=value: v if t >= cut else None)
    old = _ident("GPU-r-0", 1, node="lab-node")
    new = _ident("GPU-r-0", 1, node="lab-node", host_label="hostname")
    for name, value in (("DCGM_FI_DEV_GPU_UTIL", 22.0), ("DCGM_FI_DEV_FB_USED", 8000.0),
                        ("DCGM_FI_DEV_FB_FREE", 73559.0), ("DCGM_FI_DEV_GPU_TEMP", 45.0),
                        ("DCGM_FI_DEV_POWER_USAGE", 150.0), ("DCGM_FI_DEV_XID_ERRORS", 0.0)):
        f.add_where(name, old, lambda t, v=value: v if t < cut else None)
        f.add_where(name, new, lambda t, v=value: v if t >= cut else None)
    return f
