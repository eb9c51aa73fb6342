"""Literal, safe display of untrusted strings and of values that may be missing.

Every user- or cluster-supplied string (model names, node names, change causes ...) goes
through :func:`safe` before display: control characters (ANSI escapes, newlines, bells)
become visible ``\\xNN`` escapes so they can neither style nor corrupt the terminal.
Rich markup is never interpreted because callers build :class:`rich.text.Text` or
``Content`` objects from plain strings, never markup.
"""

from __future__ import annotations

import unicodedata

MISSING = "—"
"""What a missing (``None``) figure looks like. Never ``0``."""


_UNSAFE = frozenset(("Cc", "Cf", "Zl", "Zp"))


def _escape_char(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(value: object, limit: int | None = None, middle: bool = False) -> str:
    """``value`` as a single display line: control/format chars escaped, optionally
    truncated to ``limit`` cells with an ellipsis (``middle``: in the middle, keeping the
    suffix that tells revisions, pods and GPUs apart)."""
    if value is None:
        return MISSING
    text = str(value)
    if not text.isprintable() and any(unicodedata.category(c) in _UNSAFE for c in text):
        text = "".join(
            _escape_char(c) if unicodedata.category(c) in _UNSAFE else c
            for c in text
        )
    if limit is not None and len(text) > limit:
        text = cut_middle(text, limit) if middle else text[: max(0, limit - 1)] + "…"
    return text


def cut_middle(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, cut in the middle:
    ``recsys-ranker-predictor-00012`` at 22 -> ``recsys-rank…ictor-00012``."""
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    tail = (width - 1) // 2
    head = width - 1 - tail
    return text[:head] + "…" + (text[-tail:] if tail else "")


def fmt_num(value: float | None, fmt: str = "{:.1f}", suffix: str = "") -> str:
    """Format a figure; ``None`` renders as the missing marker, never ``0``."""
    if value is None:
        return MISSING
    return fmt.format(value) + suffix


def fmt_money(value: float | None, decimals: int = 2) -> str:
    """``$1,234.50`` or the missing marker."""
    if value is None:
        return MISSING
    return f"${value:,.{decimals}f}"


def fmt_age(seconds: float | None) -> str:
    """Compact age: ``0s``, ``42s``, ``5m``, ``3h``, ``2d``; missing -> marker."""
    if seconds is None:
        return MISSING
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h"
    return f"{s // 86400}d"
