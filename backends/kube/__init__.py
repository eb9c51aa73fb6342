"""Kubernetes: connection, list-then-watch caches, history and patches; one module per resource kind in kinds/."""
