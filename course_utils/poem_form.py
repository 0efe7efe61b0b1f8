"""The form of regulated Tang verse, measured on real or generated poems.

The chapter-7 corpus (``load_tang_poems(line_length=(5, 7))``) prints a poem as lines separated by newlines, each
line two clauses of the same length: ``床前明月光，疑是地上霜。`` (a clause, ``，``, a clause, then ``。``, ``？`` or
``！``); poems are separated by a blank line. A poem is **well-formed** when

* every line has that shape, with one clause length ``n`` for the whole poem, ``n`` in ``CLAUSE_LENGTHS`` (5, 7);
* its number of clauses is in ``CLAUSE_COUNTS``: 4 (a jueju, two lines) or 8 (a lüshi, four lines).

Any character other than the punctuation and the newline counts as a character of a clause (the unknown id's
``"\\ufffd"`` included: it stands for a rare character). ``split_poems`` cuts a generated sample into poems and
leaves out its unfinished last poem; ``form_share`` gives the share of well-formed poems with a 95 % interval.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

__all__ = ["CLAUSE_LENGTHS", "CLAUSE_COUNTS", "clause_count", "is_well_formed", "longest_well_formed",
           "split_poems", "wilson_interval", "FormShare", "form_share"]

CLAUSE_LENGTHS = (5, 7)
CLAUSE_COUNTS = (4, 8)
LINE_ENDS = "。？！"
PUNCTUATION = "，" + LINE_ENDS
_CLAUSE = re.compile(rf"[^{PUNCTUATION}\n]+")
_SEPARATOR = re.compile(r"\n{2,}")


def _line_pattern(n: int) -> re.Pattern:
    clause = rf"[^{PUNCTUATION}\n]{{{n}}}"
    return re.compile(rf"{clause}，{clause}[{LINE_ENDS}]")


def clause_count(poem: str) -> int:
    """The number of clauses: runs of characters between punctuation marks and newlines."""
    return len(_CLAUSE.findall(poem))


def is_well_formed(poem: str, clause_lengths=CLAUSE_LENGTHS, clause_counts=CLAUSE_COUNTS) -> bool:
    """True when every line is two clauses of one length ``n`` in ``clause_lengths`` and the clause count is regulated."""
    if not isinstance(poem, str):
        raise TypeError(f"poem must be a str (one poem, lines joined by newlines), got {type(poem).__name__}")
    lines = poem.split("\n")
    if 2 * len(lines) not in clause_counts:
        return False
    return any(all(_line_pattern(n).fullmatch(line) for line in lines) for n in clause_lengths)


def longest_well_formed(clause_lengths=CLAUSE_LENGTHS, clause_counts=CLAUSE_COUNTS) -> int:
    """Characters in the longest well-formed poem (8 clauses of 7: 56 characters, 8 marks, 3 newlines = 67)."""
    n, count = max(clause_lengths), max(clause_counts)
    return count * (n + 1) + count // 2 - 1


def split_poems(sample: str) -> list[str]:
    """The poems of a generated sample, which starts at the beginning of a poem; poems end at a blank line.

    Text after the last blank line is an unfinished poem: it is left out, unless it is already longer than
    ``longest_well_formed()`` (then it can no longer become well-formed and is kept, so that a model that never
    ends its poems is not excused).
    """
    if not isinstance(sample, str):
        raise TypeError(f"sample must be a str, got {type(sample).__name__}")
    pieces = _SEPARATOR.split(sample.lstrip("\n"))
    *complete, last = pieces
    if len(last) > longest_well_formed():
        complete.append(last)
    return [p for p in complete if p]


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a binomial share (95 % for ``z = 1.96``); ``(0, 1)`` when ``n = 0``."""
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}")
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))   # rounding never leaves out p


@dataclass(frozen=True)
class FormShare:
    """How many of ``n`` poems are well-formed, their share and its 95 % Wilson interval."""

    n: int
    well_formed: int
    share: float  # NaN when n = 0
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.share:.1%} of {self.n:,} [{self.low:.1%}, {self.high:.1%}]"


def form_share(poems) -> FormShare:
    """The share of well-formed poems among ``poems`` (a list of strings), with its 95 % interval."""
    poems = list(poems)
    good = sum(is_well_formed(p) for p in poems)
    low, high = wilson_interval(good, len(poems))
    return FormShare(len(poems), good, good / len(poems) if poems else float("nan"), low, high)
