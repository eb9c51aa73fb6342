"""Who pays for a shared GPU: MIG instances by their compute slices, time-sliced pods
equally, the slices nobody holds are nobody's; the parts always add up to the price."""

from backends.domain.gpus import cost_shares, mig_compute_slices
from backends.domain.models import GpuDevice, GpuSlice
from backends.prometheus.cost import priced_gpus

A100 = "NVIDIA A100-SXM4-80GB"


def gpu(*slices: GpuSlice, model: str | None = None, name: str = A100) -> GpuDevice:
    return GpuDevice(node="n", index=0, uuid="GPU-0", model_name=name, hourly_cost=7.0,
                     pod="p" if (model or slices) else None, model=model or
                     (slices[0].model if slices else None), slices=slices)


def mig(profile: str, model: str | None) -> GpuSlice:
    return GpuSlice(mig_profile=profile, instance="1", model=model, pod=model and f"{model}-0")


def test_mig_instances_pay_for_their_compute_slices():
    g = gpu(mig("3g.40gb", "tiny-llm"), mig("2g.20gb", "embed"), mig("1g.10gb", "embed"))
    shares = cost_shares(g)
    assert [m for m, _f in shares] == ["tiny-llm", "embed", "embed", None]
    assert [round(f * 7, 9) for _m, f in shares] == [3, 2, 1, 1]
    priced = priced_gpus([g], idle_util=10.0)
    assert priced.hourly == 7.0  # the GPU's price once, whoever holds it
    assert round(priced.by_model["tiny-llm"], 6) == 3.0
    assert round(priced.by_model["embed"], 6) == 3.0
    assert round(sum(priced.by_model.values()), 6) == 6.0  # one free 1g slice: nobody's


def test_time_sliced_pods_share_equally_and_a30_has_four_slices():
    shared = gpu(GpuSlice(model="a", pod="a-0"), GpuSlice(model="b", pod="b-0"))
    assert cost_shares(shared) == [("a", 0.5), ("b", 0.5)]
    assert mig_compute_slices("NVIDIA A30") == 4 and mig_compute_slices(A100) == 7
    assert cost_shares(gpu(mig("2g.12gb", "m"), name="NVIDIA A30")) == [("m", 0.5), (None, 0.5)]


def test_a_whole_gpu_and_an_unknown_layout():
    assert cost_shares(gpu(model="m")) == [("m", 1.0)]
    odd = gpu(mig("weird", "x"), mig("7g.80gb", "y"), mig("7g.80gb", "z"))
    assert cost_shares(odd) == [("x", 1 / 3), ("y", 1 / 3), ("z", 1 / 3)]
