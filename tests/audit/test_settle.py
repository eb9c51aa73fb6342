"""How the guard reads a final rollout state: the settle entry's outcome."""

from __future__ import annotations

import pytest

from backends.actions.guard import settle_outcome
from backends.domain.actions import ActionKind, RolloutProgress


@pytest.mark.parametrize("kind,phase,reason,outcome", [
    (ActionKind.ROLLBACK, "complete", "", "complete"),
    (ActionKind.PROMOTE, "paused", "", "complete"),  # waits at the next pause step
    (ActionKind.ROLLBACK, "degraded", "InvalidSpec", "degraded"),
    (ActionKind.ROLLBACK, "stuck", "ProgressDeadlineExceeded", "stuck"),
    (ActionKind.ABORT, "degraded", "RolloutAborted", "complete"),  # what it asked for
    (ActionKind.ABORT, "degraded", "InvalidSpec", "degraded"),
    (ActionKind.PROMOTE, "degraded", "RolloutAborted", "degraded"),
])
def test_settle_outcome(kind, phase, reason, outcome):
    assert settle_outcome(kind, RolloutProgress(done=True, phase=phase, reason=reason)) == outcome


def test_fraction_counts_the_new_revision_only():
    assert RolloutProgress(done=False, desired=4, ready=4, available=1).fraction == 0.25
    assert RolloutProgress(done=False, desired=4, ready=4).fraction is None
    assert RolloutProgress(done=True, desired=4, phase="complete").fraction == 1.0
    assert RolloutProgress(done=False).fraction is None
