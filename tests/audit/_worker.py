"""Subprocess helpers of the durability tests (run with ``python -m tests.audit._worker``).

    append DB N TAG GO_FILE   wait for GO_FILE, then append N entries tagged TAG
    hang DB                   run a rollback whose call never returns (after the intent)
"""

from __future__ import annotations

import os
import sys
import threading
import time

from backends.domain.actions import ActionKind, ActionRequest
from backends.audit.store import SqliteAudit
from backends.actions.guard import ActionRunner
from tests.audit.conftest import ALICE, FAKE_KEY, FakeCluster


class HangingCluster(FakeCluster):
    def execute(self, request):
        print("EXECUTING", flush=True)
        threading.Event().wait()  # until SIGKILL


def main(argv: list[str]) -> int:
    mode, db = argv[0], argv[1]
    audit = SqliteAudit(db, busy_timeout_ms=60_000)
    if mode == "append":
        count, tag, go = int(argv[2]), argv[3], argv[4]
        print("READY", flush=True)
        deadline = time.monotonic() + 30
        while not os.path.exists(go) and time.monotonic() < deadline:
            time.sleep(0.005)
        for i in range(count):
            audit.append("test", actor=f"{tag}@worker", action="append", incident_id=None,
                         detail={"tag": tag, "i": i})
        print("DONE", flush=True)
        return 0
    if mode == "hang":
        runner = ActionRunner(HangingCluster(), audit)
        plan = runner.prepare(ActionRequest(kind=ActionKind.ROLLBACK, service_key=FAKE_KEY),
                              snapshot=None)  # rollback needs no snapshot
        runner.run(plan, "crash test", ALICE)
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
