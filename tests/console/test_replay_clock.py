"""The replayed clock, without Textual: speeds, pause, step, next/previous event, the end,
and the events read from the audit store and the alerts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from backends.domain.models import Alert, AuditEntry
from console.controllers.replay_clock import (
    SPEEDS, ReplayClock, ReplayEvent, next_event, previous_event, replay_events)
from widgets.replay_banner import replay_text

NOW = datetime(2026, 11, 21, 14, 0, tzinfo=timezone.utc)
START = NOW - timedelta(hours=1)


def clock(**kw) -> ReplayClock:
    return ReplayClock(START, since=100.0, tick_s=5.0, **kw)


@pytest.mark.parametrize("speed", SPEEDS)
def test_a_tick_moves_the_wall_time_elapsed_times_the_speed(speed):
    c = clock(speed=speed).tick(105.0, NOW)
    assert c.at == START + timedelta(seconds=5 * speed)
    assert c.since == 105.0
    c = c.tick(112.5, NOW)  # a late tick: the whole elapsed time counts
    assert c.at == START + timedelta(seconds=12.5 * speed)


def test_speeds_are_1_10_60_only_and_apply_from_the_next_tick():
    assert SPEEDS == (1, 10, 60)
    c = clock().tick(105.0, NOW).with_speed(60)
    assert c.at == START + timedelta(seconds=5)  # the instant on screen does not move
    assert c.tick(110.0, NOW).at == START + timedelta(seconds=5 + 300)
    assert clock().faster().speed == 10 and clock(speed=60).faster().speed == 60
    assert clock(speed=10).slower().speed == 1 and clock().slower().speed == 1
    with pytest.raises(ValueError, match="1x, 10x, 60x"):
        clock().with_speed(2)
    with pytest.raises(ValueError):
        ReplayClock(START, 0.0, tick_s=0)


def test_pause_freezes_the_instant_on_screen_and_resume_skips_the_pause():
    c = clock(speed=10).tick(105.0, NOW)               # START + 50 s on screen
    paused = c.toggle_pause(107.0)
    assert paused.paused and paused.at == c.at
    assert paused.tick(500.0, NOW) == paused            # ticks do nothing while paused
    resumed = paused.toggle_pause(600.0)                 # 493 s paused: not counted
    assert not resumed.paused
    assert resumed.tick(605.0, NOW).at == c.at + timedelta(seconds=50)


def test_step_moves_one_tick_at_the_speed_and_pauses():
    c = clock(speed=10)
    assert c.step_s == 50
    fwd = c.step(1, 101.0, NOW)
    assert fwd.paused and fwd.at == START + timedelta(seconds=50)
    back = fwd.step(-1, 102.0, NOW).step(-1, 103.0, NOW)
    assert back.paused and back.at == START - timedelta(seconds=50)


def test_replay_ends_at_now_and_never_passes_it():
    c = clock(speed=60)
    assert not c.ended(NOW)
    # 60 x 59 s = 59 min: one minute short of now
    c = c.tick(159.0, NOW)
    assert c.at == NOW - timedelta(minutes=1) and not c.ended(NOW)
    c = c.tick(164.0, NOW)  # 5 min more: stops at now, ended
    assert c.at == NOW and c.ended(NOW)
    assert clock(speed=60).step(1, 0.0, START + timedelta(seconds=10)).ended(
        START + timedelta(seconds=10))
    assert clock().seek(NOW + timedelta(days=1), 0.0, NOW).at == NOW


def entry(seq: int, minutes: float, kind: str, **kw) -> AuditEntry:
    return AuditEntry(seq=seq, at=START + timedelta(minutes=minutes), actor="oncall", kind=kind,
                      prev_hash="0", hash=str(seq), **kw)


def test_events_from_the_audit_store_and_the_alerts_oldest_first():
    target = "c/ml/Deployment/llm-chat"
    entries = [
        entry(1, 10, "intent", action="rollback", target=target, reason="errors"),
        entry(2, 11, "outcome", action="rollback", target=target, outcome="ok", intent_seq=1),
        entry(3, 20, "note", action="add", detail={"note_id": 7}),
        entry(4, 25, "intent", action="promote", target=target),  # no outcome: unknown
        entry(5, 30, "approval", action="approve", target=target),
        entry(6, 35, "incident", action="open", reason="SEV2 errors"),
        entry(7, 40, "verify"),  # not an event
        entry(8, 45, "note", detail={"note_id": 8}, damaged="detail is not JSON"),
    ]
    alerts = [Alert(name="HighErrorRate", model="llm-chat",
                    starts_at=START + timedelta(minutes=5)),
              Alert(name="NoStart")]
    events = replay_events(entries, alerts, {7: "p95 [b]up[/b]\nagain"})
    assert [(e.at - START, e.kind) for e in events] == [
        (timedelta(minutes=5), "alert"), (timedelta(minutes=11), "action"),
        (timedelta(minutes=20), "note"), (timedelta(minutes=25), "action"),
        (timedelta(minutes=30), "approval"), (timedelta(minutes=35), "incident")]
    labels = [e.label for e in events]
    assert labels[0] == "alert firing · HighErrorRate · llm-chat"
    assert labels[1] == f"action · oncall: rollback {target} ok"
    assert labels[2].startswith("note · oncall: p95 [b]up[/b]") and "\n" not in labels[2]
    assert labels[3] == f"action · oncall: promote {target} (outcome unknown)"


def test_recorded_alerts_jump_to_their_start():
    rec = entry(1, 50, "alert", detail={"name": "GpuHot", "state": "firing",
                                        "starts_at": "2026-11-21T13:20:00Z"})
    resolved = entry(2, 55, "alert", detail={"name": "GpuHot", "state": "resolved"})
    events = replay_events([rec, resolved])
    assert [(e.at, e.label) for e in events] == [
        (START + timedelta(minutes=20), "alert firing · GpuHot"),
        (START + timedelta(minutes=55), "alert resolved · GpuHot")]


def test_next_and_previous_event_are_strictly_after_and_before():
    events = tuple(ReplayEvent(START + timedelta(minutes=m), "note", f"n{m}") for m in (5, 10, 20))
    at = START + timedelta(minutes=10)
    assert next_event(events, at).label == "n20"          # not the one we are on
    assert previous_event(events, at).label == "n5"
    assert next_event(events, START).label == "n5"
    assert next_event(events, START + timedelta(minutes=20)) is None
    assert previous_event(events, START + timedelta(minutes=5)) is None
    assert next_event((), START) is None


def test_the_banner_says_the_time_the_speed_and_paused_never_live():
    at = START
    playing = replay_text(at, 200, 10, False).plain
    paused = replay_text(at, 200, 10, True).plain
    assert playing.startswith(" REPLAY 2026-11-21 13:00:00 UTC  ▶ 10x ")
    assert paused.startswith(" REPLAY 2026-11-21 13:00:00 UTC  ‖ 10x paused ")
    for width in (200, 120, 80, 60, 40):
        for text in (replay_text(at, width, 60, False).plain, replay_text(at, width, 60, True).plain):
            assert "13:00:00 UTC" in text and "60x" in text and len(text) <= max(width, 46)
            assert "live" not in text.lower()
    assert replay_text(None).plain == ""
