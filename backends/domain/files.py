"""Reading a small file the user names (a config, a secret, a key) without trusting its size."""

from __future__ import annotations

import os


def read_at_most(path: str | os.PathLike, limit: int) -> bytes | None:
    """The bytes of ``path``, or None when it holds more than ``limit`` -- read no further
    (``/dev/zero`` or an endless pipe is refused, not read until memory runs out; a pipe
    that ends, ``<(vault read ...)``, reads). OSError as ``open`` raises it."""
    with open(path, "rb") as fh:
        data = fh.read(limit + 1)
    return data if len(data) <= limit else None
