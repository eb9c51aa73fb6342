"""Footer keys mounted in their final style (Textual's private ``FooterKey`` wiring)."""

from __future__ import annotations

from textual.widget import Widget
from textual.widgets._footer import FooterKey  # not exported by textual.widgets


def is_footer_key(widget: Widget) -> bool:
    return isinstance(widget, FooterKey)


def settle_compact(widget: Widget, footer_compact: bool) -> None:
    """Give a ``FooterKey`` about to mount the ``compact`` value its binding will give it
    -- the footer's when bound to it (``Widget._reactive_connect``, every key but the
    palette's), else the reactive's default -- so it is not restyled twice on mount."""
    if not isinstance(widget, FooterKey):
        return
    bound = "compact" in (widget._reactive_connect or {})
    compact: bool = footer_compact if bound else bool(FooterKey.compact._default)
    widget.set_reactive(FooterKey.compact, compact)
    widget.set_class(compact, "-compact", update=False)


def set_key_state(widget: Widget, enabled: bool, tooltip: str) -> None:
    """Dim or enable a mounted ``FooterKey`` in place, as ``Footer.compose`` sets it up:
    the ``-disabled`` class, ``FooterKey._disabled`` (what a click does: a bell when
    dimmed) and the tooltip."""
    widget.set_class(not enabled, "-disabled")
    if isinstance(widget, FooterKey):
        widget._disabled = not enabled
    widget.tooltip = tooltip or None
