"""AMD GPUs (the ROCm device plugin's ``amd.com/gpu``) count like NVIDIA's, on pods and nodes."""

from backends.kube.slim import pod_gpus, slim_node


def test_pods_count_both_vendors_whole_gpus():
    spec = {"containers": [{"resources": {"limits": {"amd.com/gpu": "2"}}},
                           {"resources": {"requests": {"nvidia.com/gpu": 1},
                                          "limits": {"nvidia.com/gpu": 1}}},
                           {"resources": {"limits": {"cpu": "4"}}}]}
    assert pod_gpus(spec) == 3
    assert pod_gpus({"containers": [{"resources": {"limits": {"nvidia.com/mig-1g.10gb": 1}}}]}) == 0


def test_an_amd_node_advertises_its_gpus():
    node = slim_node({"metadata": {"name": "mi300x-1"},
                      "status": {"capacity": {"amd.com/gpu": "8"},
                                 "allocatable": {"amd.com/gpu": "8"}}})
    assert (node.gpu_capacity, node.gpu_allocatable) == (8, 8)
    assert slim_node({"metadata": {"name": "cpu-1"}, "status": {"capacity": {"cpu": "8"}}}).gpu_capacity is None
