"""Names of the deep views -> screen factories (imported lazily: charts load on demand)."""

from __future__ import annotations

from textual.screen import Screen


def make_view(name: str, window: str = "1h", **kwargs) -> Screen | None:
    """A new screen for view ``name`` (gpus, drift, cost, releases, model); None if unknown."""
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
    if name == "model":
        from console.screens.model_detail import ModelDetailScreen  # noqa: PLC0415

        return ModelDetailScreen(window=window, **kwargs)
    return None
