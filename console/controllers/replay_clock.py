"""The replayed clock and the events replay can jump to: pure, no Textual, no I/O.

Replay plays forward from a chosen instant at 1x, 10x or 60x. The clock moves in ticks:
each tick (:meth:`ReplayClock.tick`, called by ``console.controllers.replay_player`` about
once a refresh interval) advances the replayed instant by the wall time elapsed since the
previous tick times the speed, and the console then shows every panel at that instant.
Between ticks the replayed instant is the one on screen, so pausing freezes exactly what
is shown and a speed change applies from the next tick on.

- ``space`` pauses / resumes (resuming does not count the time spent paused);
- ``.`` / ``,`` step one tick forward / back (``tick_s`` x speed of replayed time) and
  pause, as a video player's frame step does;
- ``]`` / ``[`` jump to the next / previous event (alert firing, action, note, approval,
  incident) and keep playing or paused as before;
- the replay ends when the replayed instant reaches now (:meth:`ReplayClock.ended`): the
  console then goes back to live (it never shows a future instant, and never calls a
  replayed instant "live").

Wall times are ``time.monotonic()`` seconds passed in by the caller, so every rule here is
tested without sleeping.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from backends.domain.models import Alert, AuditEntry
from widgets.text import safe

SPEEDS: tuple[int, ...] = (1, 10, 60)
"""The speeds replay plays at (replayed seconds per wall second)."""


@dataclass(frozen=True)
class ReplayClock:
    """Where replay stands: the replayed instant ``at`` (the one on screen), set at wall
    time ``since``; ``speed`` (one of :data:`SPEEDS`); ``paused``; ``tick_s`` the wall
    seconds between ticks (one refresh interval), which also sizes a step."""

    at: datetime
    since: float
    speed: int = 1
    paused: bool = False
    tick_s: float = 5.0

    def __post_init__(self) -> None:
        if self.speed not in SPEEDS:
            raise ValueError(f"replay speed {self.speed}x: choose one of "
                             + ", ".join(f"{s}x" for s in SPEEDS))
        if self.tick_s <= 0:
            raise ValueError("replay tick must be a positive number of seconds")

    @property
    def step_s(self) -> float:
        """Replayed seconds one step (``.`` / ``,``) moves: one tick at the current speed."""
        return self.tick_s * self.speed

    def tick(self, wall: float, now: datetime) -> ReplayClock:
        """The clock one tick later: ``at`` moved by (``wall`` - ``since``) x speed, never
        past ``now``; unchanged while paused."""
        if self.paused:
            return self
        elapsed = max(0.0, wall - self.since)
        return replace(self, at=min(self.at + timedelta(seconds=elapsed * self.speed), now),
                       since=wall)

    def toggle_pause(self, wall: float) -> ReplayClock:
        """Pause (the instant on screen stays) or resume (from ``wall``: the pause is not
        counted)."""
        return replace(self, paused=not self.paused, since=wall)

    def with_speed(self, speed: int) -> ReplayClock:
        """Play at ``speed`` from the next tick on (ValueError if not one of SPEEDS)."""
        return replace(self, speed=speed)

    def faster(self) -> ReplayClock:
        """The next speed up (the fastest stays)."""
        i = SPEEDS.index(self.speed)
        return replace(self, speed=SPEEDS[min(i + 1, len(SPEEDS) - 1)])

    def slower(self) -> ReplayClock:
        """The next speed down (the slowest stays)."""
        i = SPEEDS.index(self.speed)
        return replace(self, speed=SPEEDS[max(i - 1, 0)])

    def step(self, direction: int, wall: float, now: datetime) -> ReplayClock:
        """One step forward (``direction`` > 0) or back, paused; never past ``now``."""
        delta = timedelta(seconds=self.step_s if direction > 0 else -self.step_s)
        return replace(self, at=min(self.at + delta, now), since=wall, paused=True)

    def seek(self, at: datetime, wall: float, now: datetime) -> ReplayClock:
        """Jump to ``at`` (never past ``now``), playing or paused as before."""
        return replace(self, at=min(at, now), since=wall)

    def ended(self, now: datetime) -> bool:
        """The replayed instant has reached now: replay is over."""
        return self.at >= now


@dataclass(frozen=True)
class ReplayEvent:
    """Something replay can jump to: when, what kind, and a one-line label (plain text)."""

    at: datetime
    kind: str
    label: str


_KINDS = {"outcome": "action", "settle": "action", "override": "action", "cancel": "action",
          "approval": "approval", "note": "note", "incident": "incident", "alert": "alert"}


def _entry_event(e: AuditEntry, answered: set[int], note_texts: dict[int, str]
                 ) -> ReplayEvent | None:
    kind = _KINDS.get(e.kind)
    if kind is None and e.kind == "intent" and e.seq not in answered:
        kind = "action"  # its outcome was never written: the intent is all there is
    if kind is None or e.damaged is not None:
        return None
    at, who = e.at, safe(e.actor, 30)
    if e.kind == "note":
        note_id = e.detail.get("note_id")
        text = note_texts.get(note_id, "") if isinstance(note_id, int) else ""
        return ReplayEvent(at, kind, f"note · {who}: {safe(text, 60)}".rstrip(": "))
    if e.kind == "alert":
        state = safe(e.detail.get("state") or "firing", 12)
        starts = e.detail.get("starts_at")
        if state == "firing" and isinstance(starts, str):
            try:
                at = datetime.fromisoformat(starts.replace("Z", "+00:00"))
            except ValueError:
                pass
        if at.tzinfo is None:
            at = e.at
        return ReplayEvent(at, kind, f"alert {state} · {safe(e.detail.get('name'), 40)}")
    what = " ".join(safe(x, 40) for x in (e.action, e.target, e.outcome) if x)
    if e.kind == "intent":
        what += " (outcome unknown)"
    elif e.kind in ("settle", "override", "cancel"):
        what = f"{e.kind} {what}"
    return ReplayEvent(at, kind, f"{kind} · {who}: {what}")


def replay_events(entries: Iterable[AuditEntry], alerts: Iterable[Alert] = (),
                  note_texts: dict[int, str] | None = None) -> tuple[ReplayEvent, ...]:
    """The events of the audit store (actions' outcomes and settles, overrides, cancels,
    intents whose outcome is unknown, approvals, notes with their text from
    ``note_texts`` (note id -> text), incidents, recorded alerts) and the firing times of
    the alerts active now, oldest first. Alertmanager reports active alerts only: an
    alert resolved before now has a time to jump to only if the audit store recorded it."""
    rows = list(entries)
    answered = {e.intent_seq for e in rows if e.intent_seq is not None}
    texts = note_texts or {}
    out = [ev for ev in (_entry_event(e, answered, texts) for e in rows) if ev is not None]
    for a in alerts:
        if a.starts_at is None:
            continue
        who = f" · {safe(a.model, 30)}" if a.model else ""
        out.append(ReplayEvent(a.starts_at, "alert", f"alert firing · {safe(a.name, 40)}{who}"))
    return tuple(sorted(out, key=lambda ev: ev.at))


def next_event(events: Sequence[ReplayEvent], at: datetime) -> ReplayEvent | None:
    """The first event strictly after ``at`` (None: none)."""
    return next((e for e in events if e.at > at), None)


def previous_event(events: Sequence[ReplayEvent], at: datetime) -> ReplayEvent | None:
    """The last event strictly before ``at`` (None: none)."""
    return next((e for e in reversed(events) if e.at < at), None)
