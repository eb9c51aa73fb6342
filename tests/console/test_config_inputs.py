"""Every bad input ends in one clear message naming the field, and exit 2: never a
traceback (through `console.cli.main.main`, as the command runs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from console.cli import main as cli

ROOT = Path(__file__).resolve().parents[2]


def run(argv, capsys) -> tuple[int, str, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def bad(argv, capsys, *expected: str) -> str:
    code, out, err = run(argv, capsys)
    assert code == 2 and out == "", err
    assert "Traceback" not in err
    for text in expected:
        assert text in err, err
    return err


def test_config_file_that_is_not_utf8(tmp_path, capsys):
    path = tmp_path / "pb.toml"
    path.write_bytes('refresh = 5\ntheme = "café"\n'.encode("latin-1"))
    bad(["--config", str(path), "--demo", "--once"], capsys,
        f"{path}: not UTF-8 text (byte 0xe9 at offset 24)")


def test_a_config_path_that_never_ends_is_refused(capsys):
    """--config /dev/zero: refused at 1 MiB, not read until memory runs out."""
    bad(["--config", "/dev/zero", "--demo", "--once"], capsys,
        "/dev/zero: too large for a config file (over 1 MiB)")


def test_a_config_from_a_pipe_is_read(capsys):
    """--config <(...) (a pipe, read once): its values apply."""
    import os

    read, write = os.pipe()
    os.write(write, b"refresh = -1\n")
    os.close(write)
    try:
        bad(["--config", f"/dev/fd/{read}", "--demo", "--once"], capsys,
            f"/dev/fd/{read}: refresh: Input should be greater than or equal to 0.05")
    finally:
        os.close(read)


@pytest.mark.parametrize("where", ["file", "env"])
def test_unknown_theme(tmp_path, capsys, monkeypatch, where):
    argv = ["--demo", "--once"]
    if where == "file":
        path = tmp_path / "pb.toml"
        path.write_text('theme = "nrod"\n', encoding="utf-8")
        argv += ["--config", str(path)]
    else:
        monkeypatch.setenv("PITBOARD_THEME", "nrod")
    bad(argv, capsys, "theme: Value error, unknown theme: did you mean 'nord'?")


def test_known_themes_are_textuals():
    from textual.theme import BUILTIN_THEMES

    from console.config_core import THEMES

    assert set(THEMES) == set(BUILTIN_THEMES)


@pytest.mark.parametrize(("name", "value", "path"), [
    ("PITBOARD_KUBERNETES__CONTEXTS", "[oops", "kubernetes.contexts"),
    ("PITBOARD_DEMO", "{bad", "demo"),
    ("PITBOARD_PROMETHEUS__HEADERS", "{'X-Scope-OrgID': 1}", "prometheus.headers"),
])
def test_bad_json_in_an_environment_variable(capsys, monkeypatch, name, value, path):
    monkeypatch.setenv(name, value)
    bad(["--demo", "--once"], capsys, f"environment {name}: {path}: not valid JSON")


@pytest.mark.parametrize("flag", ["--prometheus", "--alertmanager"])
@pytest.mark.parametrize(("url", "reason"), [
    ("http://[::1", "Invalid IPv6 URL"),
    ("http://host:port", "Port could not be cast"),
    ("http://:9090", "URL names no host"),
    ("prometheus:9090", "must start with http"),
])
def test_bad_urls(capsys, flag, url, reason):
    field = flag.strip("-")
    bad(["--demo", "--once", flag, url], capsys, f"{field}.url: Value error", reason)


@pytest.mark.parametrize(("name", "suggestion"), [
    ("PITBOARD_REFRESHH", "PITBOARD_REFRESH"),
    ("PITBOARD_READONLY", "PITBOARD_READ_ONLY"),
    ("PITBOARD_PROMETHEUS_URL", "PITBOARD_PROMETHEUS"),
    ("PITBOARD_CONFIG_FILE", "PITBOARD_CONFIG"),
])
def test_misspelt_top_level_variable(capsys, monkeypatch, name, suggestion):
    monkeypatch.setenv(name, "3")
    bad(["--demo", "--once"], capsys,
        f"environment {name}: not a pitboard setting (did you mean {suggestion}?)")


def test_misspelt_variable_stops_the_audit_commands_too(capsys, monkeypatch):
    monkeypatch.setenv("PITBOARD_AUDIT_PATH", "/tmp/x.db")
    bad(["audit", "verify"], capsys, "environment PITBOARD_AUDIT_PATH: not a pitboard "
        "setting (did you mean PITBOARD_AUDIT?)")


def test_nested_typo_is_named(capsys, monkeypatch):
    monkeypatch.setenv("PITBOARD_PROMETHEUS__URLL", "http://x")
    bad(["--demo", "--once"], capsys, "PITBOARD_PROMETHEUS__URLL: prometheus.urll: Extra "
        "inputs are not permitted")


def test_good_environment_still_works(capsys, monkeypatch):
    monkeypatch.setenv("PITBOARD_REFRESH", "7")
    monkeypatch.setenv("pitboard_read_only", "true")  # any case, as pydantic-settings reads
    monkeypatch.setenv("PITBOARD_FIRST_FRAME_FILE", "/tmp/x")  # not a setting, known
    code, _, err = run(["--demo", "--once"], capsys)
    assert code == 0, err


def test_as_a_subprocess_no_traceback(tmp_path):
    path = tmp_path / "pb.toml"
    path.write_bytes(b"\xff\xfe[x]\n")
    proc = subprocess.run([sys.executable, "-m", "console", "--config", str(path), "--demo",
                           "--once"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "not UTF-8 text" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("how", ["flag", "env"])
def test_config_path_of_an_unknown_user(capsys, monkeypatch, how):
    argv = ["--demo", "--once"]
    if how == "flag":
        argv += ["--config", "~nosuchuser0/pb.toml"]
    else:
        monkeypatch.setenv("PITBOARD_CONFIG", "~nosuchuser0/pb.toml")
    bad(argv, capsys, "~nosuchuser0/pb.toml: config file not found")


def test_the_console_without_a_terminal_says_so_and_exits_2(monkeypatch):
    """pitboard --demo from cron or a pipe: one line, exit 2, no backend started, nothing
    drawn into the redirected output (it drew escape codes into it and never ended); the
    console under `pitboard serve` (a driver of its own) is not refused."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "TEXTUAL_DRIVER"}
    out = subprocess.run([sys.executable, "-m", "console", "--demo"], capture_output=True,
                         text=True, stdin=subprocess.DEVNULL, env=env, cwd=ROOT, timeout=60)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.strip() == ("pitboard: standard input is not a terminal: the console "
                                  "needs a terminal; pitboard --once prints one snapshot "
                                  "(--format json for scripts)")
    from console.cli import main as cli_module

    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert cli_module.no_terminal() == "standard input is not a terminal"
    monkeypatch.setenv("TEXTUAL_DRIVER", "textual.drivers.web_driver:WebDriver")
    assert cli_module.no_terminal() is None
