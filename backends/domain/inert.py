"""Untrusted text made inert: one line, control and bidi characters shown, never obeyed."""

from __future__ import annotations

import unicodedata

# Bidirectional embeddings, overrides, isolates and marks: invisible, and able to make text
# lie about itself.
_BIDI = set(range(0x202A, 0x202F)) | set(range(0x2066, 0x206A)) | {0x200E, 0x200F, 0x061C}



def printable(text: str, *, max_len: int | None = None) -> str:
    """``text`` with control characters (ANSI ESC included) shown as ``\\xNN``/``\\uNNNN``.

    Newlines and tabs become ``\\n``/``\\t`` too: the result is one inert line, safe to
    print to a terminal or to store as an identity. Emoji and other printable Unicode stay.
    """
    out: list[str] = []
    for ch in str(text):
        code = ord(ch)
        if ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif code < 0x20 or code == 0x7F or 0x80 <= code < 0xA0:
            out.append(f"\\x{code:02x}")
        elif code in _BIDI or unicodedata.category(ch) in {"Zl", "Zp"}:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    result = "".join(out)
    if max_len is not None and len(result) > max_len:
        result = result[: max_len - 1] + "…"
    return result
