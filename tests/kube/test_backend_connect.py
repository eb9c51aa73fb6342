"""kubeconfig resolution and connection errors: clear BackendErrors, never a traceback."""

from __future__ import annotations

import socket

import pytest
import yaml

from backends.domain.errors import BackendError, ConfigError
from backends.kube.connect import UnreachableError, request_info, resolve_kubeconfig
from backends.kube.backend import KubernetesCluster, make_cluster_backend
from backends.kube.config import KubernetesConfig


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_kubeconfig(path, server: str, contexts=("alpha", "beta"), current="alpha"):
    doc = {"apiVersion": "v1", "kind": "Config", "current-context": current,
           "clusters": [{"name": "c", "cluster": {"server": server}}],
           "users": [{"name": "u", "user": {"token": "t"}}],
           "contexts": [{"name": n, "context": {"cluster": "c", "user": "u",
                                                "namespace": "ml-serving"}} for n in contexts]}
    path.write_text(yaml.safe_dump(doc))
    return path


def test_missing_kubeconfig_is_a_config_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(ConfigError, match="no kubeconfig found"):
        resolve_kubeconfig(None)
    with pytest.raises(ConfigError, match="does not exist"):
        KubernetesCluster(KubernetesConfig(kubeconfig=str(tmp_path / "nope")))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "a") + ":" + str(tmp_path / "b"))
    with pytest.raises(ConfigError, match="KUBECONFIG names no existing file"):
        resolve_kubeconfig(None)


def test_unknown_context_lists_the_available_ones(tmp_path):
    kc = write_kubeconfig(tmp_path / "kc", "http://127.0.0.1:1")
    with pytest.raises(ConfigError) as exc:
        KubernetesCluster(KubernetesConfig(kubeconfig=str(kc)), context="gamma")
    assert "unknown context 'gamma'" in str(exc.value)
    assert "alpha, beta" in str(exc.value)


def test_kubeconfig_env_and_current_context(tmp_path, monkeypatch):
    kc = write_kubeconfig(tmp_path / "kc", "http://127.0.0.1:1", current="beta")
    monkeypatch.setenv("KUBECONFIG", str(kc))
    backend = make_cluster_backend(KubernetesConfig())
    try:
        assert backend.context == "beta"
    finally:
        backend.close()


def test_unreachable_api_is_reported_on_read(tmp_path):
    kc = write_kubeconfig(tmp_path / "kc", f"http://127.0.0.1:{free_port()}")
    cluster = KubernetesCluster(KubernetesConfig(kubeconfig=str(kc), request_timeout_s=2),
                                context="alpha")
    try:
        with pytest.raises(UnreachableError) as exc:
            cluster.read()
        assert "cannot reach the Kubernetes API at http://127.0.0.1:" in str(exc.value)
        assert "'alpha'" in str(exc.value)
        assert isinstance(exc.value, BackendError) and exc.value.source == "kubernetes"
    finally:
        cluster.close()


def test_request_info_names_the_permission():
    info = request_info("PATCH", "/apis/apps/v1/namespaces/ml/deployments/llm")
    assert info.describe() == "patch deployments.apps in namespace 'ml'"
    st = request_info("PATCH", "/apis/argoproj.io/v1alpha1/namespaces/ml/rollouts/r/status")
    assert (st.resource, st.subresource, st.name) == ("rollouts", "status", "r")
    assert request_info("GET", "/api/v1/pods", {"watch": "true"}).verb == "watch"
    assert request_info("GET", "/api/v1/namespaces/ml/pods").verb == "list"
    assert request_info("GET", "/api/v1/nodes").describe() == "list nodes (cluster-wide)"


def _big_kubeconfig(path, contexts: int, server: str = "https://10.0.0.1:6443"):
    """``contexts`` contexts, a cluster and a user each, the CA inline (as cloud CLIs
    write them) and the first one's CA as a file relative to the kubeconfig."""
    import base64

    ca = base64.b64encode(b"-----BEGIN CERTIFICATE-----\n" + b"x" * 900).decode()
    (path.parent / "ca.crt").write_text("relative CA\n", encoding="utf-8")
    doc = {"apiVersion": "v1", "kind": "Config", "current-context": "ctx-0",
           "clusters": [{"name": f"c{i}", "cluster": {"server": server, **(
               {"certificate-authority": "ca.crt"} if i == 0 else
               {"certificate-authority-data": ca})}} for i in range(contexts)],
           "users": [{"name": f"u{i}", "user": {"token": f"t{i}"}} for i in range(contexts)],
           "contexts": [{"name": f"ctx-{i}", "context": {"cluster": f"c{i}", "user": f"u{i}"}}
                        for i in range(contexts)]}
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def test_a_kubeconfig_is_parsed_once_for_all_its_contexts_until_it_changes(tmp_path,
                                                                            monkeypatch):
    """20 contexts of one kubeconfig: one parse (libyaml where PyYAML has it), not four per
    context (a 100 KB kubeconfig took ~65 ms a parse: 5 s for 20 contexts); the client's
    own parser is not used. A changed file is read again."""
    from backends.kube import connect as kc

    kube = _big_kubeconfig(tmp_path / "config", 20)
    loads: list = []
    real_load = yaml.load
    monkeypatch.setattr(yaml, "load", lambda stream, Loader: loads.append(Loader)  # noqa: N803
                        or real_load(stream, Loader=Loader))
    monkeypatch.setattr(yaml, "safe_load", lambda *_a, **_k: pytest.fail("yaml.safe_load"))
    conns = [kc.connect(str(kube), f"ctx-{i}") for i in range(20)]
    assert [c.context for c in conns] == [f"ctx-{i}" for i in range(20)]
    assert loads == [getattr(yaml, "CSafeLoader", yaml.SafeLoader)]
    # relative paths still resolve from the kubeconfig's directory (the client's merge)
    assert conns[0].api_client.configuration.ssl_ca_cert == str(tmp_path / "ca.crt")
    _big_kubeconfig(kube, 21)  # rewritten (another size): read again, the new context seen
    assert kc.connect(str(kube), "ctx-20").context == "ctx-20"
    assert len(loads) == 2
