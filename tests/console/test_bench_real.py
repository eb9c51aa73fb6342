"""The benchmark's real sources (console.cli._bench_real): the flags it starts pitboard with
reach a working fleet -- the test API server's models, Prometheus' figures, Alertmanager
answering -- so ``first_frame.real`` times a real start, not an error screen; and its
"VPN" latency delays the API server's answers while it is set."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from console.cli import _bench_real


def _once(flags: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    env.pop("PITBOARD_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "console", *flags, "--once", "--format",
                           "json"], capture_output=True, text=True, timeout=120, env=env)


def test_the_real_sources_are_all_here():
    assert _bench_real.missing() is None  # make test installs them: never skipped


def test_pitboard_reads_a_whole_fleet_through_the_real_sources_flags():
    with _bench_real.real_sources() as sources:
        flags = sources.flags
        assert flags[0::2] == ["--kubeconfig", "--prometheus", "--alertmanager"]
        done = _once(flags)
        sources.latency(0.01)
        delay = sources._delay  # noqa: SLF001 - the rule latency() set
        slow = _once(flags)
        sources.latency(0)
        after = sources._delay  # noqa: SLF001
    assert done.returncode == 0, done.stderr
    snap = json.loads(done.stdout)
    names = {s["name"] for s in snap["services"]}
    assert {"llama-chat", "whisper-asr"} <= names, names  # fixtures/ml-fleet.yaml
    sources_ = snap["sources"]
    assert set(sources_) == {"cluster", "metrics", "alerts"}, sources_
    assert all(s["ok"] for s in sources_.values()), sources_
    assert {"sentiment-bert", "llama-chat"} <= set(snap["health"])  # the incident's figures
    assert slow.returncode == 0, slow.stderr
    assert delay is not None and delay.hits > 0 and after is None  # delayed, then not
