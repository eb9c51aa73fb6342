"""pydantic's plugin discovery stays off the start-up path (console.cli.pydantic_plugins):
no importlib.metadata before the first frame, the same validators, and pydantic's own
loader as soon as plugins are enabled."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from console.cli import pydantic_plugins

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str, **env: str) -> str:
    import os

    environ = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=str(ROOT), env={**environ, **env})
    return out.stdout.strip()


BUILD = ("import sys, console.cli.main\n"
         "from backends.domain.models import SourceStatus\n"
         "from datetime import datetime, timezone\n"
         "s = SourceStatus(name='demo', last_success=datetime.now(timezone.utc))\n"  # a validator
         "print(type(SourceStatus.__pydantic_validator__).__name__, "
         "'importlib.metadata' in sys.modules, "
         "type(sys.modules['pydantic.plugin._loader']).__name__)\n")


def test_no_importlib_metadata_for_the_first_validator():
    assert _run(BUILD) == "SchemaValidator False module"


def test_plugins_asked_for_in_the_environment_load_as_usual():
    # a value set in the environment wins (empty: plugins are looked for)
    assert _run(BUILD, PYDANTIC_DISABLE_PLUGINS="") == "SchemaValidator True module"
    assert _run("import sys, console.cli.main\nfrom pydantic.plugin import _loader\n"
                "print(_loader.get_plugins.__module__)", PYDANTIC_DISABLE_PLUGINS="") \
        == "pydantic.plugin._loader"


def test_the_stand_in_hands_over_to_pydantics_loader(monkeypatch):
    monkeypatch.delitem(sys.modules, pydantic_plugins.LOADER, raising=False)
    monkeypatch.setenv("PYDANTIC_DISABLE_PLUGINS", "__all__")
    assert pydantic_plugins.skip_discovery()
    assert not pydantic_plugins.skip_discovery()  # once
    stand_in = sys.modules[pydantic_plugins.LOADER]
    assert stand_in.get_plugins() == ()
    monkeypatch.setenv("PYDANTIC_DISABLE_PLUGINS", "")
    assert list(stand_in.get_plugins()) == []  # pydantic's answer: no plugin installed
    real = sys.modules[pydantic_plugins.LOADER]
    assert real is not stand_in and real.get_plugins.__module__ == pydantic_plugins.LOADER
    monkeypatch.setenv("PYDANTIC_DISABLE_PLUGINS", "__all__")
    assert not pydantic_plugins.skip_discovery()  # pydantic's own is there: left alone


def test_nothing_is_replaced_while_plugins_are_enabled(monkeypatch):
    monkeypatch.delitem(sys.modules, pydantic_plugins.LOADER, raising=False)
    monkeypatch.setenv("PYDANTIC_DISABLE_PLUGINS", "")
    assert not pydantic_plugins.skip_discovery()
    assert pydantic_plugins.LOADER not in sys.modules
