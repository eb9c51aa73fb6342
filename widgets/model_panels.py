"""Panels of the model detail: figure tiles, canary vs stable legs, alerts, release rows.

Pure helpers build rows/text from frozen models; widgets only display them. No I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip
from textual.widget import Widget

from backends.domain.models import Alert, AuditEntry, HealthSample, ModelService, Revision
from widgets.levels import Level, error_level
from widgets.repaint import PrestyledLines
from widgets.text import MISSING, fmt_num, safe


@dataclass(frozen=True)
class Tile:
    """One figure: label, value text, level (for its colour)."""

    label: str
    value: str
    level: Level = Level.INFO
    field: str | None = None  # the HealthSample figure it shows (for its "—" reason)


def _ms(v: float | None) -> str:
    if v is None:
        return MISSING
    return f"{v / 1000:.2f}s" if v >= 10000 else f"{v:.0f}ms"


def health_tiles(h: HealthSample | None, llm: bool, slo: dict | None = None,
                 latency_ms: float | None = None) -> list[Tile]:
    """Tiles for the model's instant health (and SLO figures when given: keys
    ``budget_left``, ``burn_1h``, ``burn_6h``, ``level``)."""
    h = h or HealthSample.model_construct(model="", at=datetime.min)
    p95 = getattr(h, "p95_ms", None)
    p95_level = Level.INFO if latency_ms is None or p95 is None else (
        Level.BAD if p95 > latency_ms else Level.OK)
    err = getattr(h, "error_ratio", None)
    tiles = [
        Tile("rps", fmt_num(getattr(h, "rps", None), "{:,.1f}"), field="rps"),
        Tile("errors", fmt_num(None if err is None else err * 100, "{:.2f}", "%"), error_level(err),
             "error_ratio"),
        Tile("p50", _ms(getattr(h, "p50_ms", None)), field="p50_ms"),
        Tile("p95", _ms(p95), p95_level, "p95_ms"),
        Tile("p99", _ms(getattr(h, "p99_ms", None)), field="p99_ms"),
    ]
    for name, label in (("avg_latency_ms", "avg"), ("queue_ms", "queue time")):
        value = getattr(h, name, None)
        if value is not None:  # from duration counters (Triton): often under 10 ms
            tiles.append(Tile(label, f"{value:.1f}ms" if value < 10 else _ms(value)))
    if llm:
        kv = getattr(h, "kv_cache_percent", None)
        tiles += [
            Tile("TTFT p95", _ms(getattr(h, "ttft_p95_ms", None)), field="ttft_p95_ms"),
            Tile("ITL p95", _ms(getattr(h, "itl_p95_ms", None)), field="itl_p95_ms"),
            Tile("tokens/s", fmt_num(getattr(h, "tokens_per_s", None), "{:,.0f}"),
                 field="tokens_per_s"),
            Tile("prompt tok/s", fmt_num(getattr(h, "prompt_tokens_per_s", None), "{:,.0f}"),
                 field="prompt_tokens_per_s"),
            Tile("queue", fmt_num(getattr(h, "queue_depth", None), "{:.0f}"), field="queue_depth"),
            Tile("KV cache", fmt_num(kv, "{:.0f}", "%"),
                 Level.UNKNOWN if kv is None else Level.BAD if kv >= 95 else
                 Level.WARN if kv >= 85 else Level.OK, "kv_cache_percent"),
        ]
    elif getattr(h, "queue_depth", None) is not None:
        tiles.append(Tile("queue", fmt_num(h.queue_depth, "{:.0f}")))
    if slo is not None:
        left = slo.get("budget_left")
        level = {"ok": Level.OK, "warn": Level.WARN, "bad": Level.BAD}.get(
            slo.get("level", ""), Level.UNKNOWN)
        tiles += [
            Tile("budget left", fmt_num(None if left is None else left * 100, "{:.0f}", "%"),
                 level),
            Tile("burn 1h", fmt_num(slo.get("burn_1h"), "{:.1f}", "×"), level),
            Tile("burn 6h", fmt_num(slo.get("burn_6h"), "{:.1f}", "×"), level),
        ]
    return tiles


def figures_note(h: HealthSample | None, tiles: Sequence[Tile],
                 reasons: dict[str, str]) -> str:
    """The line under the tiles: which engine and profile the figures came from, and why
    each tile showing "—" is so (``reasons``: figure -> why, as
    ``backends.domain.figures.figure_reasons`` gives them)."""
    parts = []
    if h is not None and (h.engine or h.profile):
        parts.append(f"engine {safe(h.engine or '?', 20)} · profile {safe(h.profile or '?', 20)}")
    said: dict[str, list[str]] = {}
    for t in tiles:
        why = reasons.get(t.field or "") if t.value == MISSING else None
        if why:
            said.setdefault(why, []).append(t.label)
    for why, labels in said.items():
        parts.append(f"{', '.join(labels)} {MISSING}: {safe(why, 160)}")
    return " · ".join(parts)


TileLine = tuple[tuple[str, str], ...]
"""One line of tiles: (text, role) pieces; roles: ``label``, a level's value, ``gap``."""


def tile_lines(tiles: Sequence[Tile], width: int, gap: str = "   ") -> tuple[TileLine, ...]:
    """``tiles`` in lines of at most ``width`` cells (0: one line), a tile never split:
    each tile its label (and a space) then its value, tiles apart by ``gap``."""
    lines: list[list[tuple[str, str]]] = [[]]
    used = 0
    for t in tiles:
        size = cell_len(t.label) + 1 + cell_len(t.value)
        if used and width and used + len(gap) + size > width:
            lines.append([])
            used = 0
        elif used:
            lines[-1].append((gap, "gap"))
            used += len(gap)
        lines[-1] += [(f"{t.label} ", "label"), (t.value, t.level.value)]
        used += size
    return tuple(tuple(line) for line in lines)


class Tiles(PrestyledLines, Widget):
    """A row of figure tiles that wraps onto more lines when narrow; a tile (label and
    value) is never split across two lines.

    Line API: new tiles equal to those shown cost nothing; other ones repaint the
    widget, laid out again only when its number of lines changes. Its lines are the
    segments Textual drew of the same Rich Text (``render()``, which layout measures)."""

    DEFAULT_CSS = """
    Tiles { height: auto; padding: 0 1; }
    Tiles > .tiles--label { color: $text-muted; }
    Tiles > .tiles--ok { color: $success; text-style: bold; }
    Tiles > .tiles--warn { color: $warning; text-style: bold; }
    Tiles > .tiles--bad { color: $error; text-style: bold; }
    Tiles > .tiles--info { color: $text; text-style: bold; }
    Tiles > .tiles--unknown { color: $text-muted; }
    """
    COMPONENT_CLASSES = {"tiles--label"} | {f"tiles--{lv.value}" for lv in Level}
    GAP = "   "

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._tiles: tuple[Tile, ...] = ()
        self._lines: tuple[TileLine, ...] = ((),)
        self._width = 0
        self._styles: dict[str, Style] = {}
        self._strips: tuple[tuple, tuple[Strip, ...]] | None = None

    def show_tiles(self, tiles: Sequence[Tile]) -> None:
        """Display ``tiles`` (only redrawn when they changed)."""
        tiles = tuple(tiles)
        if tiles == self._tiles:
            return
        self._tiles = tiles
        self._lay_out()

    def on_resize(self) -> None:
        if self._tiles:
            self._lay_out()

    def _lay_out(self) -> None:
        width = self.content_size.width  # 0 before the first layout: one line until then
        lines = tile_lines(self._tiles, width, self.GAP)
        if lines == self._lines and width == self._width:
            return
        count = len(self._lines)
        self._lines, self._width = lines, width
        self.refresh(layout=len(lines) != count)

    def _style(self, role: str) -> Style:
        style = self._styles.get(role)
        if style is None:
            style = self._styles[role] = Style() if role == "gap" else \
                self.get_component_rich_style(f"tiles--{role}", partial=True)
        return style

    def render(self) -> Text:
        """The tiles as one Text (what layout measures, and what is drawn)."""
        text = Text(no_wrap=True, overflow="ellipsis")
        for i, line in enumerate(self._lines):
            if i:
                text.append("\n")
            for piece, role in line:
                text.append(piece, None if role == "gap" else self._style(role))
        return text

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        if any(sum(cell_len(t) for t, _ in line) > width for line in self._lines):
            return super().render_line(y)  # a line cut with an ellipsis: Textual's path
        key = (self._lines, width)
        if self._strips is None or self._strips[0] != key:
            base = self.visual_style.rich_style
            strips = []
            for row, line in enumerate(self._lines):
                segments = []
                x = 0
                for piece, role in line:
                    # the widget's style, the piece's, and its place (as Textual marks it)
                    segments.append(Segment(piece, base + self._style(role) + Style.from_meta(
                        {"offset": (x, row)})))
                    x += cell_len(piece)
                strips.append(Strip(segments, x))
            self._strips = (key, tuple(strips))
        strips_now = self._strips[1]
        if y < len(strips_now):
            return strips_now[y]
        return Strip.blank(width, self.visual_style.rich_style)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = {}
        self._strips = None


def leg_rows(service: ModelService | None, legs: Sequence[HealthSample]) -> list[tuple[str, ...]]:
    """Canary vs stable: (role, revision, version, traffic, rps, errors, p95, TTFT) per leg."""
    by_rev = {t.revision: t for t in (service.traffic if service else ())}
    rows: list[tuple[str, ...]] = []
    for h in legs:
        t = by_rev.get(h.revision or "")
        rows.append((
            t.role if t else MISSING, safe(h.revision, 28, middle=True), safe(t.version if t else None, 14),
            MISSING if t is None else f"{t.percent:.0f}%",
            fmt_num(h.rps, "{:,.1f}"),
            fmt_num(None if h.error_ratio is None else h.error_ratio * 100, "{:.2f}", "%"),
            _ms(h.p95_ms), _ms(h.ttft_p95_ms)))
    order = {"stable": 0, "previous": 1, "latest": 2, "canary": 3}
    rows.sort(key=lambda r: order.get(r[0], 9))
    return rows


def alerts_text(alerts: Sequence[Alert], width: int = 200) -> Text:
    """Firing alerts with severity, summary and runbook URL (all literal)."""
    out = Text(overflow="ellipsis")
    if not alerts:
        out.append("no firing alert", "dim")
        return out
    for i, a in enumerate(alerts):
        if i:
            out.append("\n")
        out.append(f"{safe(a.severity or 'alert', 10).upper():<9}", "bold")
        out.append(safe(a.name, 40))
        if a.starts_at is not None:
            out.append(f"  since {a.starts_at:%H:%M}Z", "dim")
        if a.summary:
            out.append("\n  " + safe(a.summary, max(10, width - 4)))
        if a.runbook_url:
            out.append("\n  runbook: ", "dim")
            out.append(safe(a.runbook_url, max(10, width - 12)), "underline")
    return out


@dataclass(frozen=True)
class ReleaseRow:
    """One line of a release history: a revision, or a pitboard action/approval/note."""

    at: datetime | None
    model: str
    what: str
    version: str
    who: str
    why: str
    pitboard: bool = False
    current: bool = False
    key: str | None = None  # the ModelService.key it is about (never parsed back to a name)
    revision: int | None = None  # a revision's number (None: a pitboard action, note ...)


ACTION_KINDS = ("outcome", "approval", "note", "incident", "cancel")


def revision_rows(model: str, revisions: Sequence[Revision],
                  key: str | None = None) -> list[ReleaseRow]:
    return [ReleaseRow(at=r.created, model=model, what=f"{'▶' if r.current else ' '}rev {r.number}",
                       version=safe(r.version, 16), who=safe(r.who, 20),
                       why=safe(r.change_cause, 200), current=r.current, key=key,
                       revision=r.number)
            for r in revisions]


def key_name(key: str | None) -> str:
    """The model name inside a ModelService.key (names and contexts may hold "/")."""
    parts = ModelService.parse_key(key or "")
    return parts[3] if parts else (key or "")


def audit_rows(model: str | None, entries: Sequence[AuditEntry]) -> list[ReleaseRow]:
    """pitboard's own actions (outcomes), approvals and notes, marked ◆."""
    out = []
    for e in entries:
        if e.kind not in ACTION_KINDS:
            continue
        name = model or safe(key_name(e.target) or MISSING, 40)
        what = f"◆ {safe(e.action or e.kind, 14)}"
        if e.outcome:
            what += f" {safe(e.outcome, 10)}"
        out.append(ReleaseRow(at=e.at, model=name, what=what, version="", who=safe(e.actor, 20),
                              why=safe(e.reason or e.detail.get("text") or "", 200),
                              pitboard=True, key=e.target))
    return out


def merge_rows(*groups: Sequence[ReleaseRow]) -> list[ReleaseRow]:
    """All rows newest first (rows without a time last)."""
    rows = [r for g in groups for r in g]
    rows.sort(key=lambda r: (r.at is not None, r.at or datetime.min), reverse=True)
    return rows


def release_cells(row: ReleaseRow, with_model: bool) -> tuple[str, ...]:
    when = row.at.strftime("%m-%d %H:%M") if row.at else MISSING
    cells = (when,) + ((safe(row.model, 30),) if with_model else ()) + (
        row.what, row.version or "", row.who, row.why)
    return cells
