"""Audit store benchmark: `.venv/bin/python -m tests.bench_audit [--entries N]`.

Prints one JSON object: durable appends per second (synchronous=FULL, one transaction and
fsync each), then, on a store of N entries (default 100,000) whose last 10,000 entries
belong to one incident with a note every 50 entries, the time of ``verify`` and of the
Markdown and JSON export of that incident (the export verifies the chain too).
Not collected by pytest. The bulk fill uses ``durable=False`` (same code, no fsync).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from backends.audit.store import SqliteAudit
from backends.audit.export import export_incident

ACTOR = "bench@host k8s:bench"


def _append(audit: SqliteAudit, i: int) -> None:
    audit.append("intent" if i % 2 == 0 else "outcome", actor=ACTOR, action="rollback",
                 target=f"bench/ml/Deployment/model-{i % 37}", reason=f"benchmark entry {i}",
                 outcome=None if i % 2 == 0 else "succeeded",
                 intent_seq=None if i % 2 == 0 else i,
                 detail={"i": i, "changes": [{"field": "image", "before": "a:1",
                                              "after": "a:2"}]})


def durable_rate(path: Path, seconds: float, cap: int) -> dict:
    audit = SqliteAudit(path, durable=True)
    start = time.perf_counter()
    n = 0
    while n < cap and time.perf_counter() - start < seconds:
        _append(audit, n)
        n += 1
    elapsed = time.perf_counter() - start
    audit.close()
    return {"durable_appends": n, "durable_appends_per_s": round(n / elapsed, 1)}


def fill(path: Path, total: int) -> tuple[int, float]:
    audit = SqliteAudit(path, durable=False)
    start = time.perf_counter()
    incident_from = max(0, total - 10_000)
    incident_id = None
    done = 0
    while done < total:  # each step appends exactly one entry
        if incident_id is None and done >= incident_from:
            incident_id = audit.open_incident("benchmark incident", "SEV2", ACTOR).id
        elif incident_id is not None and done % 50 == 0:
            audit.add_note(f"note at {done}", ACTOR, {"model": {"p95_ms": 100 + done % 400,
                                                                "rps": done % 97}})
        else:
            _append(audit, done)
        done += 1
    head = audit.head()
    assert head is not None and head.seq == total, head
    audit.close()
    return incident_id or 0, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--durable-seconds", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pitboard-bench-") as tmp:
        result: dict = {"python": platform.python_version(), "entries": args.entries}
        result.update(durable_rate(Path(tmp) / "durable.db", args.durable_seconds, 5000))
        path = Path(tmp) / "big.db"
        incident_id, fill_s = fill(path, args.entries)
        result["fill_s"] = round(fill_s, 2)
        audit = SqliteAudit(path)
        start = time.perf_counter()
        ok, message = audit.verify()
        result["verify_s"] = round(time.perf_counter() - start, 3)
        result["verify_ok"] = ok
        result["verify_message"] = message
        for fmt in ("md", "json"):
            start = time.perf_counter()
            text = export_incident(audit, incident_id, fmt)
            result[f"export_{fmt}_s"] = round(time.perf_counter() - start, 3)
            result[f"export_{fmt}_bytes"] = len(text.encode())
        result["db_mib"] = round(os.path.getsize(path) / 2**20, 1)
        audit.close()
    print(json.dumps(result, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
