"""Cost-burn panel: $/h now, spent today, month projection against the budget."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive

from backends.domain.models import CostBurn
from widgets.levels import bar
from widgets.text_lines import TextLines
from widgets.text import MISSING, fmt_money, safe


def budget_ratio(cost: CostBurn) -> float | None:
    """Month projection / budget (1.0 = exactly on budget), or None."""
    if cost.month_projection is None or not cost.monthly_budget:
        return None
    return cost.month_projection / cost.monthly_budget


class CostPanel(TextLines, can_focus=True):
    """Shows a :class:`CostBurn`; set ``cost`` (None = not read yet)."""

    DEFAULT_CSS = """
    CostPanel { height: auto; }
    CostPanel > .cost-panel--label { color: $text-muted; }
    CostPanel > .cost-panel--over { color: $error; text-style: bold; }
    CostPanel > .cost-panel--near { color: $warning; }
    CostPanel > .cost-panel--under { color: $success; }
    """
    COMPONENT_CLASSES = {"cost-panel--label", "cost-panel--over", "cost-panel--near",
                         "cost-panel--under"}

    # repaint=False: show_text repaints what changed (a whole repaint would redraw the
    # border and its title on every refresh)
    cost: reactive[CostBurn | None] = reactive(None, always_update=False, repaint=False)
    empty_text: reactive[str] = reactive("waiting for data…", always_update=False, repaint=False)
    """What shows while ``cost`` is None (e.g. that no metrics source is configured)."""

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._component_styles = {}  # the theme or the CSS changed

    def _part(self, name: str):
        """A component class's style, looked up once per theme."""
        styles = self.__dict__.setdefault("_component_styles", {})
        style = styles.get(name)
        if style is None:
            style = styles[name] = self.get_component_rich_style(f"cost-panel--{name}",
                                                                 partial=True)
        return style

    def watch_cost(self, cost: CostBurn | None) -> None:
        self.show_text(self.render_cost(cost))

    def watch_empty_text(self, _text: str) -> None:
        if self.cost is None:
            self.show_text(self.render_cost(None))

    def render_cost(self, cost: CostBurn | None) -> Text:
        """The panel's text for ``cost`` (pure; styles from the theme)."""
        label = self._part("label")
        if cost is None:
            return Text(self.empty_text, style=label)
        out = Text(no_wrap=True, overflow="ellipsis")
        # "$/h now" is the GPUs' burn; with OpenCost's node costs "all $/h" says the whole
        # fleet's, and today / month then count all nodes (cost.spend_basis)
        gpu_label = "GPU $/h" if cost.total_hourly is not None else "$/h now"
        rows: tuple[tuple[str, str], ...] = ((gpu_label, fmt_money(cost.hourly)),)
        if cost.total_hourly is not None:
            rows += (("all $/h", fmt_money(cost.total_hourly)),)
        rows += (("today", fmt_money(cost.today)),
                ("month→", fmt_money(cost.month_projection, 0)),
                ("budget", fmt_money(cost.monthly_budget, 0)))
        for name, value in rows:
            out.append(f"{name:<8}", label)
            out.append(f"{value:>11}\n")
        ratio = budget_ratio(cost)
        if ratio is None:
            out.append(f"{'burn':<8}{MISSING:>11}\n", label)
        else:
            state = "over" if ratio > 1 else "near" if ratio >= 0.9 else "under"
            style = self._part(state)
            out.append(bar(min(ratio, 1.0) * 100, 10), style)
            out.append(f" {ratio * 100:>4.0f}% {state}\n", style)
        if cost.idle_hourly is not None:
            out.append(f"{'idle $/h':<8}", label)
            out.append(f"{fmt_money(cost.idle_hourly):>11}\n")
        if cost.unallocated_hourly:  # GPUs no pod asked for: their own line
            out.append(f"{'free $/h':<8}", label)
            out.append(f"{fmt_money(cost.unallocated_hourly):>11}\n")
        out.append(f"source: {safe(cost.source, 20)}", label)
        return out
