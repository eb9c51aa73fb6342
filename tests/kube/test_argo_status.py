"""A Rollout's status as the Argo plugin computes it, on pitboard's own fixtures
(fixtures/argo-status.yaml: each case the plugin's and Argo CD's fixtures cover, with the
status and message expected in its annotations), and what the action path makes of it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from backends.kube.kinds.rollout import _rollout_weights, progress, rollout_status, slim_rollout

FIXTURE = Path(__file__).parent / "fixtures" / "argo-status.yaml"
CASES = [d for d in yaml.safe_load_all(FIXTURE.read_text(encoding="utf-8")) if d]
EXPECT = "expect.pitboard.test/"


class NoReplicaSets:
    """The API as ``progress`` sees it: a LIST of ReplicaSets that finds none."""

    context = "test"

    def request(self, method: str, path: str, **_kw):
        assert method == "GET" and path.endswith("/replicasets")
        return {"items": []}


def test_the_fixture_covers_each_state():
    statuses = {c["metadata"]["annotations"][EXPECT + "status"] for c in CASES}
    assert statuses == {"Healthy", "Progressing", "Paused", "Degraded"}
    assert len(CASES) >= 24
    assert len({c["metadata"]["name"] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("rollout", CASES, ids=[c["metadata"]["name"] for c in CASES])
def test_status_and_message_as_the_plugin_prints_them(rollout):
    ann = rollout["metadata"]["annotations"]
    status, message, _reason = rollout_status(rollout)
    assert (status, message) == (ann[EXPECT + "status"], ann[EXPECT + "message"])


@pytest.mark.parametrize("rollout", CASES, ids=[c["metadata"]["name"] for c in CASES])
def test_progress_phase_follows_the_status(rollout):
    status = rollout["metadata"]["annotations"][EXPECT + "status"]
    p = progress(NoReplicaSets(), rollout)
    expected = {"Healthy": "complete", "Paused": "paused", "Progressing": "progressing",
                "Degraded": "degraded"}[status]
    if status == "Degraded" and "ProgressDeadlineExceeded" in p.message:
        expected = "stuck"
        assert p.reason == "ProgressDeadlineExceeded"
    assert p.phase == expected
    assert p.done == (status != "Progressing")
    if status == "Progressing" and "observed" in p.message:
        assert not p.observed and p.available is None


def by_name(name: str) -> dict:
    return next(c for c in CASES if c["metadata"]["name"] == name)


def test_degraded_comes_before_paused():
    for name in ("canary-timed-out-while-paused", "invalid-spec"):
        rollout = by_name(name)
        assert rollout["spec"].get("paused")  # paused, and yet:
        assert rollout_status(rollout)[0] == "Degraded"


def test_reported_weights_are_taken_as_they_are():
    """status.canary.weights: stable 60 / canary 20 (the rest elsewhere), not 80 / 20."""
    r = slim_rollout(by_name("canary-timed-out-while-paused"))
    assert _rollout_weights(r) == (60.0, 20.0)


def test_reasons_of_the_degraded_states():
    reasons = {c["metadata"]["name"]: rollout_status(c)[2] for c in CASES
               if rollout_status(c)[0] == "Degraded"}
    assert reasons == {"phase-degraded": "InvalidSpec", "invalid-spec": "InvalidSpec",
                       "blue-green-timed-out": "ProgressDeadlineExceeded",
                       "aborted": "RolloutAborted",
                       "canary-timed-out-while-paused": "ProgressDeadlineExceeded"}


def test_status_actions_wait_for_the_controller():
    """abort, retry and promote --full write status fields: until the controller answers,
    the Rollout is Progressing, never settled by its old phase."""
    paused = by_name("phase-paused-at-a-step")
    aborting = {**paused, "status": {**paused["status"], "abort": True}}
    assert rollout_status(aborting)[:2] == ("Progressing", "aborting (waiting for the "
                                                           "controller)")
    full = {**paused, "status": {**paused["status"], "promoteFull": True}}
    assert rollout_status(full)[0] == "Progressing"
    aborted = by_name("aborted")
    retried = {**aborted, "status": {**aborted["status"], "abort": False}}
    assert rollout_status(retried)[:2] == ("Progressing", "retrying (waiting for the "
                                                          "controller)")
