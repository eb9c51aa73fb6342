"""Names of the deep views -> screen factories (imported lazily: charts load on demand)."""

from __future__ import annotations

from textual.screen import Screen

#: What ``:`` accepts for each deep view (typed on the fleet screen or in a view).
VIEW_ALIASES = {"gpus": "gpus", "gpu": "gpus", "drift": "drift", "cost": "cost",
                "releases": "releases", "alerts": "alerts", "ctx": "ctx", "context": "ctx",
                "contexts": "ctx"}


def make_view(name: str, window: str = "1h", **kwargs) -> Screen | None:
    """A new screen for view ``name`` (gpus, drift, cost, releases, alerts, ctx, model);
    None if unknown."""
    if name == "gpus":
        from console.screens.gpus import GpuScreen  # noqa: PLC0415

        return GpuScreen(window=window, **kwargs)
    if name == "drift":
        from console.screens.drift import DriftScreen  # noqa: PLC0415

        return DriftScreen(window=window, **kwargs)
    if name == "cost":
        from console.screens.cost import CostScreen  # noqa: PLC0415

        return CostScreen(window=window, **kwargs)
    if name == "releases":
        from console.screens.releases import ReleasesScreen  # noqa: PLC0415

        return ReleasesScreen(window=window, **kwargs)
    if name == "alerts":
        from console.screens.alerts import AlertsScreen  # noqa: PLC0415

        return AlertsScreen(window=window, **kwargs)
    if name == "ctx":
        from console.screens.contexts import ContextsScreen  # noqa: PLC0415

        return ContextsScreen(window=window, **kwargs)
    if name == "model":
        from console.screens.model_detail import ModelDetailScreen  # noqa: PLC0415

        return ModelDetailScreen(window=window, **kwargs)
    return None
