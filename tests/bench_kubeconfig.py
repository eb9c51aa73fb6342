"""Benchmark: connecting every context of a large kubeconfig.

``.venv/bin/python -m tests.bench_kubeconfig [--contexts 20]`` writes a kubeconfig as cloud
CLIs write them (a cluster, a user and a context per cluster, the CA and the client
certificate and key inline: ~5 KB a context), then times ``backends.kube.connect.connect``
for every context in a fresh process (what ``pitboard --context a --context b ...`` does
before its first read), and the YAML parse of that file by PyYAML's pure-Python and
libyaml loaders. Prints JSON. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml


def write_kubeconfig(path: Path, contexts: int) -> None:
    def blob(n: int) -> str:
        return base64.b64encode(os.urandom(n)).decode()

    doc = {"apiVersion": "v1", "kind": "Config", "current-context": "ctx-0", "preferences": {},
           "clusters": [{"name": f"c{i}", "cluster": {
               "server": f"https://10.0.{i // 250}.{i % 250}:6443",
               "certificate-authority-data": blob(1100)}} for i in range(contexts)],
           "users": [{"name": f"u{i}", "user": {"client-certificate-data": blob(1200),
                                                "client-key-data": blob(1700)}}
                     for i in range(contexts)],
           "contexts": [{"name": f"ctx-{i}", "context": {"cluster": f"c{i}", "user": f"u{i}",
                                                          "namespace": "default"}}
                        for i in range(contexts)]}
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


CONNECT = """
import sys, time
from backends.kube.connect import connect
path, n = sys.argv[1], int(sys.argv[2])
import kubernetes.config  # the client's import apart
t = time.perf_counter()
for i in range(n):
    connect(path, f"ctx-{i}")
print(time.perf_counter() - t)
"""


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--contexts", type=int, default=20)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "kubeconfig"
        write_kubeconfig(path, args.contexts)
        text = path.read_text(encoding="utf-8")
        parse = {}
        for name in ("SafeLoader", "CSafeLoader"):
            loader = getattr(yaml, name, None)
            if loader is None:
                continue
            t = time.perf_counter()
            yaml.load(text, Loader=loader)  # noqa: S506 - safe loaders
            parse[name] = round((time.perf_counter() - t) * 1000, 1)
        root = Path(__file__).resolve().parent.parent
        done = subprocess.run([sys.executable, "-c", CONNECT, str(path), str(args.contexts)],
                              capture_output=True, text=True, cwd=root, check=True)
        result = {"contexts": args.contexts, "kubeconfig_kb": round(len(text) / 1024),
                  "connect_every_context_ms": round(float(done.stdout) * 1000, 1),
                  "one_parse_ms": parse}
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
