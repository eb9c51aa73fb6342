"""The guarded action path: declarations, guard pipeline, gates, approvals and identity."""
