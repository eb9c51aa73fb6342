"""A key footer that rebuilds itself only when the keys it shows change.

Textual's :class:`~textual.widgets.Footer` recomposes (removes and mounts a widget per key)
on every bindings update: a focus change, a screen resume, each ``refresh_bindings()``. With
a dozen keys that is tens of milliseconds each time, several times during start-up. Here a
bindings update first compares what would be shown: nothing changed -> nothing is done;
only keys dimmed or re-enabled (or their tooltips) -> those keys are updated in place;
otherwise -> the usual recompose.

Each key also mounts in its final style: Textual's ``FooterKey.compact`` defaults to True
and the footer then binds it to its own (False), so every key was restyled twice as it
mounted (``-compact`` added, then removed; ~1 ms each, two dozen times per footer).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer

from widgets.render.footer_keys import is_footer_key, set_key_state, settle_compact

Layout = tuple[object, ...]
States = tuple[tuple[bool, str], ...]


class KeyFooter(Footer):
    """Drop-in :class:`Footer`; shows the same keys, rebuilt only when they change."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._layout: Layout | None = None
        self._states: States | None = None

    def compose(self) -> ComposeResult:
        if not self._bindings_ready and self.is_attached:
            # the screen's keys as they are when it composes (Textual's Footer waits
            # for the first bindings update, then recomposes: one more build and layout)
            self.set_reactive(Footer._bindings_ready, True)
            self._layout, self._states = self._shown()
        for widget in super().compose():
            settle_compact(widget, self.compact)  # mounts in the style its binding gives
            yield widget

    def _shown(self) -> tuple[Layout, States | None]:
        """What :meth:`Footer.compose` would show -- the first binding of each action, then
        the command palette key -- as (layout, states); states None = always recompose."""
        app, active = self.app, self.screen.active_bindings
        first: dict[str, tuple] = {}
        grouped = False
        for _node, binding, enabled, tooltip in active.values():
            if binding.show:
                first.setdefault(binding.action, (binding, enabled, tooltip))
                grouped = grouped or binding.group is not None
        layout: list[tuple] = [(b.key, app.get_key_display(b), b.description, b.action)
                               for b, _, _ in first.values()]
        states = [(enabled, tooltip) for _, enabled, tooltip in first.values()]
        palette = active.get(app.COMMAND_PALETTE_BINDING)
        if self.show_command_palette and app.ENABLE_COMMAND_PALETTE and palette is not None:
            binding = palette[1]
            layout.append((binding.key, app.get_key_display(binding), binding.description,
                           binding.action, "palette"))
            states.append((palette[2], binding.tooltip or binding.description))
        signature = (tuple(layout), self.compact, self.combine_groups)
        return signature, None if grouped else tuple(states)  # groups: keys differ in shape

    def bindings_changed(self, screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self.call_after_refresh(self._update_keys)

    async def _update_keys(self) -> None:
        if not self.is_attached:
            return
        layout, states = self._shown()
        if states is not None and layout == self._layout:
            if states == self._states:
                return
            if self._set_states(states):
                self._states = states
                return
        self._layout, self._states = layout, states
        await self.recompose()

    def _set_states(self, states: States) -> bool:
        """Dim / enable the existing keys in place; False when they do not line up."""
        keys = [w for w in self.children if is_footer_key(w)]
        if self._states is None or not len(keys) == len(states) == len(self._states):
            return False
        for key, (enabled, tooltip), old in zip(keys, states, self._states):
            if (enabled, tooltip) == old:
                continue
            set_key_state(key, enabled, tooltip)
        return True
