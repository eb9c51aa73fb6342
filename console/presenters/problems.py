"""The "what's wrong now" strip: the fleet's worst problems, one line each. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backends.domain.health import WORDS, problem_lines
from backends.domain.models import FleetSnapshot, HealthLevel


@dataclass(frozen=True)
class StripLine:
    """One problem: the model it is about (``key`` to jump to it), its level, what is wrong
    (signal, value against threshold) and since when."""

    key: str
    model: str
    level: HealthLevel
    text: str
    since: datetime | None
    word: str = ""  # the signal's status word (GPU, DRIFT, PAUSED, ...), for a short mention


def worst_problems(snapshot: FleetSnapshot) -> list[StripLine]:
    """Every model's problems at warn or bad, one line per (model, signal), worst first:
    by level, then by the order a person should look at signals, then oldest first. A
    firing alert is a line only for a model with no other problem (else it repeats one)."""
    names = {s.key: s.name for s in snapshot.services}
    lines: list[tuple[tuple, StripLine]] = []
    for key, health in snapshot.status.items():
        if key not in names:
            continue
        for rank, p in problem_lines(health):
            line = StripLine(key, names[key], p.level, p.text, p.since,
                             WORDS.get(p.signal, p.signal.upper()))
            lines.append(((*rank, names[key]), line))
    lines.sort(key=lambda x: x[0])
    return [line for _, line in lines]
