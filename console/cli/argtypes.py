"""Argument types the command lines share: a bad value is argparse's usage error (exit 2,
one line naming the option), never a traceback further on."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

SQLITE_MAX = 2**63 - 1
"""The largest integer SQLite stores (an id or a count past it was an OverflowError)."""


def whole_number(low: int, high: int = SQLITE_MAX) -> Callable[[str], int]:
    """A whole number from ``low`` to ``high``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"at least {low}, not {value}")
        if value > high:
            raise argparse.ArgumentTypeError(f"at most {high}, not {value}")
        return value
    return parse


def positive_seconds(text: str) -> float:
    """A positive, finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"a positive number of seconds, not {text}")
    return value
