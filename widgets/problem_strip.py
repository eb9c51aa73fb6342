"""The "what's wrong now" strip at the top of the fleet screen: the worst few problems,
one line each (model, what is wrong, since when); ``all clear`` when there is none.

Data in: :meth:`ProblemStrip.show` with lines made by a presenter; intents out:
:class:`ProblemStrip.Selected` when ``enter`` is pressed on a line. Colours come from the
theme ($error, $warning, $success) through component classes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive

from widgets.text import safe
from widgets.text_lines import TextLines


class Line(Protocol):
    """One problem as the strip shows it (console.presenters.problems.StripLine)."""

    @property
    def key(self) -> str: ...
    @property
    def model(self) -> str: ...
    @property
    def level(self) -> str: ...  # "bad" | "warn"
    @property
    def word(self) -> str: ...  # the signal's status word, for the short mention of the rest
    @property
    def text(self) -> str: ...
    @property
    def since(self) -> datetime | None: ...


class ProblemStrip(TextLines, can_focus=True):
    """At most ``max_lines`` problems; the rest counted on the last line."""

    DEFAULT_CSS = """
    ProblemStrip { height: auto; max-height: 4; padding: 0 1; background: $boost; }
    ProblemStrip:focus { background: $primary-muted; }
    ProblemStrip > .problem-strip--bad { color: $error; text-style: bold; }
    ProblemStrip > .problem-strip--warn { color: $warning; }
    ProblemStrip > .problem-strip--clear { color: $success; }
    ProblemStrip > .problem-strip--dim { color: $text-muted; }
    ProblemStrip > .problem-strip--cursor { text-style: reverse; }
    """
    COMPONENT_CLASSES = {"problem-strip--bad", "problem-strip--warn", "problem-strip--clear",
                         "problem-strip--dim", "problem-strip--cursor"}
    BINDINGS = [
        Binding("enter", "select", "Open", id="problem_open", tooltip="Open this model"),
        Binding("down", "move(1)", "", show=False),
        Binding("up", "move(-1)", "", show=False),
    ]

    class Selected(Message):
        """``enter`` on a problem: open its model."""

        def __init__(self, strip: ProblemStrip, key: str) -> None:
            super().__init__()
            self.strip, self.key = strip, key

        @property
        def control(self) -> ProblemStrip:
            return self.strip

    SHRINK_AFTER_S = 60.0
    """While any problem shows the strip takes its whole room (``max_lines`` rows), and
    it gives rows back only once they have been unneeded this long: its height moves
    everything below it -- the rows under the reader's eye, and a layout of the whole
    fleet screen (40-60 ms at 3,000 models) -- and during an incident the count of
    problems goes up and down refresh after refresh (VictoriaMetrics at 20,000 GPUs: by
    one every third refresh). So the screen moves once when an incident starts, and once
    a minute after it ends."""

    max_lines: reactive[int] = reactive(3, always_update=False, repaint=False)
    cursor: reactive[int] = reactive(0, always_update=False, repaint=False)

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self._lines: tuple[Line, ...] = ()
        self._blind = ""
        self._shown = False  # given its first lines (show): until then it knows nothing
        self._shown_for: tuple | None = None
        self._rows = 0  # the rows the strip is tall (SHRINK_AFTER_S) ...
        self._rows_needed_at = 0.0  # ... and when they were last all needed
        self.clock: Callable[[], float] = time.monotonic

    def show(self, lines: Sequence[Line], blind: str = "") -> None:
        """The problems to show, worst first; ``blind``: the sources the strip cannot see
        through now (``metrics failing``), so no problem is not said to be all clear."""
        self._lines = tuple(lines)
        self._blind = blind
        self._shown = True
        self.cursor = min(self.cursor, max(0, min(len(self._lines), self.max_lines) - 1))
        self._hold_rows()
        self._redraw()

    @property
    def lines(self) -> tuple[Line, ...]:
        return self._lines

    def watch_max_lines(self, _value: int) -> None:
        self._rows = 0  # another terminal height: the strip's own height anew
        self._hold_rows()
        self._redraw()

    def watch_cursor(self, _value: int) -> None:
        self._redraw()

    def on_focus(self) -> None:
        self._redraw()

    def on_blur(self) -> None:
        self._redraw()

    def on_resize(self) -> None:
        self._redraw()  # the lines are cut to the width

    def _style(self, name: str):
        return self.get_component_rich_style(f"problem-strip--{name}", partial=True)

    def _redraw(self) -> None:
        key = (self._shown, self._lines, self._blind, self._rows, self.max_lines,
               self.cursor, self.has_focus, self.size.width)
        if key == self._shown_for:
            return
        self._shown_for = key
        self.show_text(self._held_height(self.strip_text()))

    def _hold_rows(self) -> None:
        """The rows the strip is tall: its whole room while any problem shows, and the
        rows no longer needed until they have gone unneeded for SHRINK_AFTER_S (asked on
        every :meth:`show`, so a calm that changes nothing still gives them back)."""
        needed, now = (max(1, self.max_lines) if self._lines else 1), self.clock()
        if needed >= self._rows or now - self._rows_needed_at >= self.SHRINK_AFTER_S:
            self._rows, self._rows_needed_at = needed, now

    def _held_height(self, text: Text) -> Text:
        """``text`` with blank rows below, to the strip's held height."""
        rows = text.plain.count("\n") + 1
        if self._rows <= rows:
            return text
        held = text.copy()
        held.append("\n " * (self._rows - rows))
        return held

    def strip_text(self) -> Text:
        """The strip's text (pure but for the theme's styles)."""
        out = Text(no_wrap=True, overflow="ellipsis")
        if not self._shown:  # before the first read: nothing known, so nothing said clear
            out.append("waiting for data…", self._style("dim"))
            return out
        if not self._lines and self._blind:  # nothing seen is not nothing wrong
            out.append("? no problem seen", self._style("warn"))
            out.append(f" · {self._blind}: a problem there would not show", self._style("dim"))
            return out
        if not self._lines:
            out.append("✓ all clear", self._style("clear"))
            out.append(" · no model has a problem now", self._style("dim"))
            return out
        room = max(1, self.max_lines)
        shown = self._lines[:room]
        more = len(self._lines) - len(shown)
        summary = room == 2 and more > 0  # two rows: the worst, then every other one named
        if summary:
            shown = self._lines[:1]
        for i, line in enumerate(shown):
            if i:
                out.append("\n")
            style = self._style(line.level)
            mark = "●" if line.level == "bad" else "▲"
            row = Text(no_wrap=True)
            row.append(f"{mark} {safe(line.model, 28, middle=True)}", style)
            row.append(f"  {safe(line.text, 80)}")
            if line.since is not None:
                row.append(f"  since {line.since:%H:%M}", self._style("dim"))
            if i == len(shown) - 1 and more and not summary:  # the rest on the last line
                row.append(f"  · +{more} more: {self._names(room)}", self._style("dim"))
            self._fit(row, i)
            out.append_text(row)
        if summary:
            rest = self._lines[1:]
            row = Text(no_wrap=True)
            mark = "●" if rest[0].level == "bad" else "▲"
            row.append(f"{mark} +{len(rest)} more: ", self._style(rest[0].level))
            row.append(self._names(1))
            self._fit(row, 1)
            out.append("\n")
            out.append_text(row)
        return out

    def _names(self, start: int) -> str:
        """The problems from ``start`` on, worst first, each as model and status word (as
        many as a line can hold: a fleet may have thousands)."""
        room, names, used = max(80, self.size.width), [], 0
        for x in self._lines[start:]:
            names.append(f"{safe(x.model, 28, middle=True)} {x.word}".rstrip())
            used += len(names[-1]) + 2
            if used > room:
                break
        return ", ".join(names)

    def _fit(self, row: Text, i: int) -> None:
        """One row per line however many are named; the focused one highlighted."""
        if self.size.width:
            row.truncate(self.size.width, overflow="ellipsis")
        if self.has_focus and i == self.cursor:
            row.stylize(self._style("cursor"))

    def action_move(self, step: int) -> None:
        last = max(0, min(len(self._lines), self.max_lines) - 1)
        self.cursor = max(0, min(last, self.cursor + step))

    def action_select(self) -> None:
        if self._lines and self.cursor < len(self._lines):
            self.post_message(self.Selected(self, self._lines[self.cursor].key))
