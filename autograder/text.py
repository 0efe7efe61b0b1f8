"""Text a learner wrote (exception messages, returned strings, folder names) made safe to print and to store.

Every such text goes through :func:`printable` before it reaches a report, the terminal, the gradebook or an
autograded notebook: an escape sequence cannot clear the instructor's terminal, a lone surrogate cannot make
SQLite, a CSV file or ``print`` raise ``UnicodeEncodeError``, and a right-to-left override cannot reorder a line.
"""
from __future__ import annotations

import unicodedata

# control (Cc), format (Cf: bidi overrides, zero-width), surrogate (Cs), line and paragraph separators (Zl, Zp)
UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def is_unsafe(ch: str) -> bool:
    return unicodedata.category(ch) in UNSAFE_CATEGORIES


def escape_char(ch: str) -> str:
    """``\\x1b``, ``\\n``, ``\\u202e``, ``\\ud800``: a visible, ASCII spelling of one character."""
    code = ord(ch)
    if ch in "\n\r\t":
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: str) -> str:
    """``text`` with every control, format, surrogate and line-separator character (newlines included) written as
    its escape (:func:`escape_char`); any other character is kept. Applying it twice changes nothing more."""
    text = str(text)
    if not any(is_unsafe(ch) for ch in text):
        return text
    return "".join(escape_char(ch) if is_unsafe(ch) else ch for ch in text)


def code_text(text: str) -> str:
    """Like :func:`printable`, but keeping line breaks and tabs: a learner's code shown as code."""
    return "".join(ch if ch in "\n\t" or not is_unsafe(ch) else escape_char(ch) for ch in str(text))
