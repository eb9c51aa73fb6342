"""The audit store: append-only hash chain on SQLite, verify, and the postmortem export."""
