"""The benchmark's real sources (console.cli._bench_real): the flags it starts pitboard with
reach a working fleet -- the test API server's models, Prometheus' figures, Alertmanager
answering -- so ``first_frame.real`` times a real start, not an error screen."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from console.cli import _bench_real


def test_the_real_sources_are_all_here():
    assert _bench_real.missing() is None  # make test installs them: never skipped


def test_pitboard_reads_a_whole_fleet_through_the_real_sources_flags():
    with _bench_real.real_sources() as flags:
        assert flags[0::2] == ["--kubeconfig", "--prometheus", "--alertmanager"]
        env = {**os.environ, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
        env.pop("PITBOARD_CONFIG", None)
        done = subprocess.run([sys.executable, "-m", "console", *flags, "--once",
                               "--format", "json"], capture_output=True, text=True,
                              timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    snap = json.loads(done.stdout)
    names = {s["name"] for s in snap["services"]}
    assert {"llama-chat", "whisper-asr"} <= names, names  # fixtures/ml-fleet.yaml
    sources = snap["sources"]
    assert set(sources) == {"cluster", "metrics", "alerts"}, sources
    assert all(s["ok"] for s in sources.values()), sources
