"""Fuzz the inputs of `pitboard` (flags, URLs, `PITBOARD_*` variables, config files) with
Hypothesis: whatever they hold, the command ends with exit 0 or 2 and never a traceback.

Every run adds ``--demo`` (and refuses to build anything else), so no example reaches the
network; `--once` then prints one demo snapshot."""

from __future__ import annotations

import contextlib
import io
import os
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.cli import main as cli

NAMES = ["REFRESH", "READ_ONLY", "TIME_WINDOW", "THEME", "DEMO", "DEMO__SEED", "DEMO__HOSTILE",
         "PROMETHEUS", "PROMETHEUS__URL", "PROMETHEUS__TIMEOUT_S", "PROMETHEUS__HEADERS",
         "PROMETHEUS__BEARER_TOKEN_ENV", "ALERTMANAGER__URL", "KUBERNETES__CONTEXTS",
         "KUBERNETES", "AUDIT__PATH", "AUDIT__KEY_FILE", "AUDIT__FORWARD", "ACTIONS",
         "ACTIONS__PROTECTED_CONTEXTS", "SLO", "DISPLAY", "REFRESHH", "READONLY", "THEM",
         "PROMETHEUS_URL", "CONFIG"]
SCHEMES = ["http://", "https://", "htp://", "", "ftp://", "HTTP://", "http:/"]
HOSTS = ["127.0.0.1", "[::1", "[::1]", "localhost", "", "exa mple", "[fe80::1%eth0]",
         "ho\u202est", "xn--", "300.1.1.1"]
PORTS = ["", ":9090", ":x", ":99999", ":-1", ":", ":0"]

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                      blacklist_characters="\x00"), max_size=30)
urls = st.one_of(
    st.builds(lambda s, u, h, p, path: f"{s}{u}{h}{p}{path}", st.sampled_from(SCHEMES),
              st.one_of(st.just(""), text.map(lambda t: f"{t}:{t}@")),
              st.one_of(st.sampled_from(HOSTS), text), st.sampled_from(PORTS),
              st.one_of(st.just(""), text.map(lambda t: "/" + t))),
    text,
)
numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr),
                    st.integers(-10**9, 10**9).map(str), text)
flags = st.lists(st.one_of(
    st.tuples(st.just("--prometheus"), urls),
    st.tuples(st.just("--alertmanager"), urls),
    st.tuples(st.just("--refresh"), numbers),
    st.tuples(st.just("--window"), st.one_of(st.sampled_from(["15m", "1h", "7d"]), text)),
    st.tuples(st.just("--context"), text),
    st.tuples(st.just("--namespace"), text),
    st.tuples(st.just("--seed"), numbers),
    st.tuples(st.just("--kubeconfig"), text),
    st.tuples(st.just("--format"), st.sampled_from(["text", "json", "yaml"])),
    st.just(("--read-only",)),
), max_size=4)
env_names = st.one_of(st.sampled_from(NAMES),
                      st.text(alphabet=string.ascii_uppercase + "_", min_size=1, max_size=12))
env = st.dictionaries(env_names.map(lambda n: "PITBOARD_" + n), text, max_size=3)
toml_values = st.one_of(urls.map(repr), numbers, st.sampled_from(
    ["true", "[1, 2", "{a = 1}", '"nord"', '"nrod"', "[]", "'''x'''", '"\\u0000"']))
toml_lines = st.lists(st.builds(
    lambda section, key, value: f"{section}{key} = {value}",
    st.sampled_from(["", "[prometheus]\n", "[demo]\n", "[audit]\n", "[kubernetes]\n",
                     "[actions.promote_gates]\n", "[slo]\n"]),
    st.sampled_from(["refresh", "theme", "url", "time_window", "read_only", "timeout_s",
                     "contexts", "seed", "key_file", "forward", "bogus", "approvals_required"]),
    toml_values), max_size=4).map("\n".join)
config_files = st.one_of(st.none(), toml_lines.map(lambda t: t.encode("utf-8")),
                         st.binary(max_size=80))


def _demo_only(settings, **_):
    from console import wiring

    assert settings.demo.enabled, "the fuzz must never build real backends"
    return wiring.build_demo(settings)


@settings(max_examples=50, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(flags=flags, variables=env, config=config_files)
def test_any_input_exits_0_or_2_without_a_traceback(tmp_path, monkeypatch, flags, variables,
                                                     config):
    monkeypatch.setattr("console.wiring.build_backends", _demo_only)
    argv = [part for flag in flags for part in flag] + ["--demo", "--once"]
    if config is not None:
        path = Path(tmp_path) / "fuzz.toml"
        path.write_bytes(config)
        argv += ["--config", str(path)]
    saved = dict(os.environ)
    os.environ.update(variables)
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(argv)
            except SystemExit as exc:  # argparse: a usage error
                code = exc.code
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert code in (0, 2), (argv, variables, err.getvalue())
    assert "Traceback" not in err.getvalue()
    if code == 2:
        assert err.getvalue().strip(), "exit 2 says why"


@pytest.mark.parametrize("argv", [["--refresh", "nan"], ["--refresh", "inf"],
                                  ["--seed", "1e3"], ["--window", "2h"]])
def test_number_and_choice_flags_are_usage_or_config_errors(argv, capsys):
    try:
        code = cli.main([*argv, "--demo", "--once"])
    except SystemExit as exc:
        code = exc.code
    assert code == 2 and "Traceback" not in capsys.readouterr().err
