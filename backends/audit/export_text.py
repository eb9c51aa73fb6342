"""Plain-text helpers of the export: inert text, code fences, figures, sparklines."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

BARS = "▁▂▃▄▅▆▇█"
# C0 controls except \t and \n, DEL, C1 controls (U+009B is a one-byte CSI), bidi embeddings,
# overrides, isolates and marks (U+202A-202E, U+2066-2069, U+200E/200F, U+061C), U+2028/2029.
UNSAFE_CHARS = ("\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e"
                "\u2066-\u2069\u2028\u2029")
_UNSAFE = re.compile(f"[{UNSAFE_CHARS}]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    if code == 0x0D:
        return "\\r"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with control characters (ANSI ESC, NUL, C1, bidi overrides, line/paragraph
    separators) shown as ``\\xNN``/``\\uNNNN`` (``\\r`` for CR). Newlines and tabs stay."""
    return _UNSAFE.sub(_escape, text)


def inert_json(text: str) -> str:
    """JSON text with C1, DEL and bidi controls written as ``\\uNNNN`` escapes (JSON
    escapes C0 itself; the newlines of its indentation stay): the same strings once parsed,
    but nothing in the file reorders text or drives a terminal when it is viewed."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def fence(body: str) -> str:
    """A backtick fence longer than any backtick run in ``body`` (at least three)."""
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    return "`" * max(3, longest + 1)


def flatten_figures(figures: Any, prefix: str = "") -> dict[str, Any]:
    """Nested figures as ``{"model.p95_ms": 312.0, "fleet.gpus_busy": 12, ...}``."""
    out: dict[str, Any] = {}
    if isinstance(figures, dict):
        for key in sorted(figures, key=str):
            out.update(flatten_figures(figures[key], f"{prefix}{key}."))
    elif isinstance(figures, list):
        for i, item in enumerate(figures):
            out.update(flatten_figures(item, f"{prefix}{i}."))
    elif prefix:
        out[prefix[:-1]] = figures
    return out


def number(value: Any) -> str:
    """A figure for display: ``n/a`` for None, compact numbers, text as is."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def sparkline(values: Sequence[float | None]) -> str:
    """One character per value, ``·`` for a gap."""
    nums = [v for v in values if v is not None]
    if not nums:
        return "·" * len(values)
    low, high = min(nums), max(nums)
    span = high - low
    out = []
    for v in values:
        if v is None:
            out.append("·")
        elif span == 0:
            out.append(BARS[3])
        else:
            out.append(BARS[min(len(BARS) - 1, int((v - low) / span * (len(BARS) - 1) + 0.5))])
    return "".join(out)
