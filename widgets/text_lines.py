"""A Static for small Rich Text that changes on every refresh (the cost panel).

Textual's Static turns its text into Content and re-wraps it on every update, a few
milliseconds each time; :class:`TextLines` cuts the Text into lines and each line into a
:class:`~textual.strip.Strip` once per (text, width), with Rich alone, and hands them out
through the line API. No wrapping: a line wider than the widget ends in an ellipsis."""

from __future__ import annotations

import io
import threading

from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from widgets.render.settled_sizes import SettledSize
from widgets.repaint import PrestyledLines


_local = threading.local()


def _console() -> Console:
    """A Rich console per thread, only for turning Text into segments (no output, no
    wrapping: its width does not matter); made once, as making one costs milliseconds."""
    console = getattr(_local, "console", None)
    if console is None:
        console = _local.console = Console(
            width=1000, color_system="truecolor", force_terminal=True, legacy_windows=False,
            highlight=False, emoji=False, markup=False, file=io.StringIO())
    return console


def text_strips(text: Text, width: int, base: Style | None = None) -> list[Strip]:
    """``text``'s lines as strips of exactly ``width`` cells, over the ``base`` style
    (the widget's own colours, as a Static paints them)."""
    console = _console()
    strips = []
    for line in text.split("\n", allow_blank=True):
        if line.cell_len > width:
            line = line.copy()
            line.truncate(width, overflow="ellipsis")
        strip = Strip(list(line.render(console, end=""))).crop_extend(0, width, None)
        strips.append(strip.apply_style(base) if base is not None else strip)
    return strips


class TextLines(PrestyledLines, SettledSize, Widget):
    """Shows one Rich :class:`~rich.text.Text` (set with :meth:`show_text`); the
    widget re-lays out only when the number of lines or the widest line changed."""

    DEFAULT_CSS = """
    TextLines { height: auto; }
    """

    def __init__(self, text: Text | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self._text = text if text is not None else Text("")
        self._key: tuple | None = None
        self._strips: list[Strip] | None = None
        self._strips_width = -1
        self._line_keys: list[tuple] | None = None

    def render(self) -> Text:
        """The text shown (what layout measures; painting goes through render_line)."""
        return self._text

    def show_text(self, text: Text) -> None:
        """Show ``text``; the same text again costs nothing, and a text of the same
        shape (line count and lengths) repaints only the lines that changed."""
        key = (text.plain, tuple(text.spans), text.style)
        old = self._key
        if key == old:
            return
        old_lines, lines = self._line_keys, _line_keys(text)
        same_shape = old_lines is not None and [len(line[0]) for line in old_lines] == [
            len(line[0]) for line in lines]
        self._key, self._text, self._strips, self._line_keys = key, text, None, lines
        if old is None or old_lines is None or not same_shape or key[2] != old[2]:
            self.refresh(layout=not self._same_box(old_lines, lines))
            return
        width = self.content_size.width
        changed = [Region(0, y, width, 1)
                   for y, (was, now) in enumerate(zip(old_lines, lines)) if was != now]
        if changed:  # (none: the same lines, cut differently into spans)
            self.refresh(*changed)

    def _same_box(self, old: list[tuple] | None, new: list[tuple]) -> bool:
        """Whether the widget's box stays as it is: as many lines (its height is auto)
        and, only if its width is auto too, as wide a widest line. Lines that only got
        longer or shorter are repainted, not laid out: on the fleet screen a layout of
        the whole screen costs tens of milliseconds at 3,000 models."""
        if old is None or len(old) != len(new):
            return False
        width = self.styles.width  # None: not set, the container's width
        if width is not None and width.is_auto:
            return max((len(x[0]) for x in old), default=0) == max(
                (len(x[0]) for x in new), default=0)
        return True

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips = None  # the theme or the CSS changed: new colours

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        if self._strips is None or self._strips_width != width:
            self._strips = text_strips(self._text, width, self.rich_style)
            self._strips_width = width
        return self._strips[y] if y < len(self._strips) else Strip.blank(width)


def _line_keys(text: Text) -> list[tuple]:
    """What each line of ``text`` shows (its characters and styled spans)."""
    return [(line.plain, tuple(line.spans), line.style)
            for line in text.split("\n", allow_blank=True)]

