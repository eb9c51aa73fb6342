"""Configuration errors exit 2 naming the field; env and flags override; --once output."""

from __future__ import annotations

import json

import pytest

from backends.domain.errors import ConfigError
from backends.domain.models import FleetSnapshot
from console.cli import main as cli
from console.config import ConfigProblem, default_config_path, load_settings


def write_config(tmp_path, text: str):
    path = tmp_path / "pb.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run(argv, capsys) -> tuple[int, str, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('refresh = "soon"\n', "refresh: Input should be a valid number"),
        ("[prometheus]\ntimeout_s = -1\n", "prometheus.timeout_s: Input should be greater than 0"),
        ("[kubernetes]\nbogus = 1\n", "kubernetes.bogus: Extra inputs are not permitted"),
        ("colour = 'red'\n", "colour: Extra inputs are not permitted"),
        ("refresh = \n", "invalid TOML"),
        ('time_window = "2h"\n', "time_window: String should match pattern"),
        ('[display]\nmodel_order = "worst"\n',
         "display.model_order: Input should be 'problems' or 'name'"),
        # TOML has inf and nan: a timeout of inf failed every query (OverflowError), a
        # budget of inf showed "$inf"
        ("refresh = nan\n", "refresh: Input should be a finite number (got nan)"),
        ("[prometheus]\ntimeout_s = inf\n", "prometheus.timeout_s: Input should be a finite number"),
        ("[prometheus]\nmonthly_budget = inf\n", "prometheus.monthly_budget: Input should be a finite"),
        ("[prometheus]\ngpu_prices = {H100 = inf}\n", "prometheus.gpu_prices.H100: Input should be a fin"),
        ("[kubernetes]\nrequest_timeout_s = inf\n", "kubernetes.request_timeout_s: Input should be a fin"),
        ("[slo]\nfast_burn = -inf\n", "slo.fast_burn: Input should be a finite number"),
    ],
)
def test_bad_config_exits_2_naming_the_field(tmp_path, capsys, text, expected):
    path = write_config(tmp_path, text)
    code, out, err = run(["--config", str(path), "--demo", "--once"], capsys)
    assert code == 2
    assert expected in err and str(path) in err
    assert "Traceback" not in err and out == ""


def test_every_config_section_refuses_infinity_and_nan():
    """Each model a config file fills (every section, nested ones too) refuses inf and nan,
    so a new section cannot forget it."""
    import typing

    from pydantic import BaseModel

    from console.config import Settings

    def models(cls, seen):
        if cls in seen:
            return
        seen.add(cls)
        for field in cls.model_fields.values():
            todo = [field.annotation]
            while todo:
                t = todo.pop()
                if isinstance(t, type) and issubclass(t, BaseModel):
                    models(t, seen)
                todo.extend(typing.get_args(t))

    found: set = set()
    models(Settings, found)
    assert len(found) >= 10  # every section, the profiles and the actions' own
    assert [c.__name__ for c in found if c.model_config.get("allow_inf_nan") is not False] == []


def test_missing_explicit_config_file(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PITBOARD_CONFIG", str(tmp_path / "nope.toml"))
    code, _, err = run(["--demo", "--once"], capsys)
    assert code == 2 and "nope.toml: config file not found" in err


def test_bad_env_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("PITBOARD_PROMETHEUS__TIMEOUT_S", "fast")
    with pytest.raises(ConfigProblem, match=r"PITBOARD_PROMETHEUS__TIMEOUT_S: prometheus\.timeout_s"):
        load_settings()


def test_file_then_env_then_flags(tmp_path, monkeypatch):
    default = default_config_path()
    default.parent.mkdir(parents=True)
    default.write_text('refresh = 9\nread_only = false\n[prometheus]\nurl = "http://file:9090"\n'
                       "timeout_s = 3\n", encoding="utf-8")
    s = load_settings()
    assert (s.refresh, s.prometheus.url, s.prometheus.timeout_s) == (9, "http://file:9090", 3)
    monkeypatch.setenv("PITBOARD_PROMETHEUS__URL", "http://env:9090")
    monkeypatch.setenv("PITBOARD_READ_ONLY", "true")
    s = load_settings()
    assert s.prometheus.url == "http://env:9090" and s.prometheus.timeout_s == 3 and s.read_only
    args = cli.build_parser().parse_args(
        ["--prometheus", "http://flag:9090", "--refresh", "2", "--context", "a", "--context", "b",
         "--namespace", "ml", "--seed", "3"])
    s = cli.settings_from_args(args)
    assert s.prometheus.url == "http://flag:9090" and s.refresh == 2
    assert s.kubernetes.contexts == ["a", "b"] and s.kubernetes.namespaces == ["ml"]
    assert s.demo.seed == 3 and not s.demo.enabled  # --seed alone does not switch to the demo


def test_once_json_parses_back(capsys):
    code, out, err = run(["--demo", "--once", "--format", "json"], capsys)
    assert code == 0, err
    snap = FleetSnapshot.model_validate_json(out)
    assert snap.context == "demo" and len(snap.services) >= 8 and len(snap.gpus) == 38
    assert all(s.ok for s in snap.sources.values())
    assert json.loads(out)["cost"]["hourly"] is not None


def test_once_text_is_a_readable_table(capsys, monkeypatch):
    monkeypatch.setenv("PITBOARD_DEMO__HOSTILE", "1")
    code, out, _ = run(["--demo", "--once"], capsys)
    assert code == 0
    assert "llm-chat" in out and "Node" in out and "Cost" in out
    assert "[bold red]x[/]" in out and "\\x1b[2J" in out and "\x1b" not in out


def test_once_exits_2_when_nothing_can_be_read(capsys, monkeypatch):
    def broken(_settings, **_):
        raise ConfigError("no kubeconfig found", source="kubernetes")

    monkeypatch.setattr("console.wiring.build_backends", broken)
    code, out, err = run(["--once"], capsys)
    assert code == 2 and out == ""
    assert "nothing can be read from kubernetes: no kubeconfig found" in err
