"""Repaint only what changed in a line-API (ScrollView) widget."""

from __future__ import annotations

from textual.scroll_view import ScrollView


def refresh_runs(view: ScrollView, lines: list[int], offset: int = 0) -> None:
    """Repaint ``lines`` (ascending virtual line numbers, + ``offset``) of ``view``, one
    region per run of consecutive lines."""
    start = prev = None
    for y in lines:
        if start is not None and y == prev + 1:
            prev = y
            continue
        if start is not None:
            view.refresh_lines(start + offset, prev - start + 1)
        start = prev = y
    if start is not None:
        view.refresh_lines(start + offset, prev - start + 1)
