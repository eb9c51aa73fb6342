"""Prometheus (and Thanos, Mimir, VictoriaMetrics): client, engine profiles, discovery, assembly, charts, cost, SLO."""
