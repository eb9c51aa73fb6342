"""``pitboard silence MODEL`` and the ``m`` key on the demo (its alerts source keeps
silences as Alertmanager does): guarded, audited, the model's alerts suppressed."""

from __future__ import annotations

import json

from console.cli.main import main
from console.screens.modals.params import ParamScreen
from tests.console.actions_support import LLM, action_app, ready, select
from tests.console.test_actions_keys import confirm
from tests.console.conftest import wait_for


def test_silence_from_the_shell_on_the_demo(tmp_path, capsys):
    conf = tmp_path / "c.toml"
    conf.write_text(f'[audit]\npath = "{tmp_path / "audit.db"}"\n')
    code = main(["--demo", "silence", "llm-chat", "--reason", "known, fix rolling",
                 "--duration", "90m", "--yes", "--format", "json", "--config", str(conf)])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    assert doc["result"]["status"] == "succeeded"
    assert doc["result"]["detail"]["silence_id"].startswith("demo-")
    assert {c["field"]: c["after"] for c in doc["plan"]["changes"]}["for"] == "90m"


async def test_m_silences_the_selected_models_alerts(tmp_path):
    app, fleet = action_app(tmp_path / "audit.db")
    async with app.run_test(size=(120, 34)) as pilot:
        await ready(pilot)
        await select(pilot, LLM)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, ParamScreen))
        await pilot.press("enter")  # the default: 2h
        await confirm(pilot, "noisy during the fix")
        entries = app.backends.audit.entries()
        assert [(e.kind, e.outcome) for e in entries] == [
            ("intent", None), ("outcome", "succeeded"), ("settle", "complete")]
        assert entries[0].action == "silence"
        silence_id = entries[1].detail["silence_id"]
        assert app.backends.alerts.silence(silence_id)["status"]["state"] == "active"
        mine = [a for a in app.backends.alerts.alerts() if a.model == "llm-chat"]
        assert {a.name for a in mine} == {"GpuTemperatureHigh", "GpuXidError"}
        assert all(a.state == "suppressed" for a in mine)
        others = [a for a in app.backends.alerts.alerts() if a.model == "recommender"]
        assert others and all(a.state == "firing" for a in others)
        assert fleet is not None
