"""The prose audit: measured numbers in a chapter's Markdown must come from that chapter's own stored outputs.

A *measured number* is a decimal (``0.936``), a percentage (``5 %``), a duration (``547 s``, ``6 minutes``), a
ratio (``0.94x``) or a count in millions (``1.3 million``). It passes when, rounded as the prose rounds it, it
equals a number printed in a stored output of the same notebook, or a constant written in its code (a
hyperparameter: a percentage also matches the fraction, 20 % <-> 0.2), or an entry of the notebook's allow-list,
which says why. References to "chapter N" must name a chapter notebook that exists.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

MEASURED = re.compile(
    r"(?<![\w.^{_\\])(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d*\.\d+|\d+)"
    r"(?P<unit>\s?%|\s(?:s|seconds?|minutes?|min)\b|x\b|\s?×|\smillion\b)?")
NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d*\.\d+|\d+")
CHAPTER = re.compile(r"\b[Cc]hapters? (\d+)((?:(?:,| and| or|-|–) ?\d+)*)")


@dataclass(frozen=True)
class Finding:
    notebook: str
    cell: int
    text: str     # the number as written, with its unit
    context: str  # the words around it

    def __str__(self) -> str:
        return f"{self.notebook} cell {self.cell}: {self.text!r} in '...{self.context}...'"


def _outputs_text(cell: dict) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if "text" in output:
            parts.append("".join(output["text"]))
        for mime, value in output.get("data", {}).items():
            if mime.startswith("text/"):
                parts.append("".join(value))
    return "\n".join(parts)


def _values(text: str) -> list[str]:
    return [m.group(0).replace(",", "") for m in NUMBER.finditer(text)]


def _decimals(number: str) -> int:
    return len(number.split(".")[1]) if "." in number else 0


def _matches(number: str, pool: set[str], factor: float = 1.0) -> bool:
    """Whether a pool value times ``factor`` (pool units -> prose units), rounded as the prose rounds, is ``number``."""
    wanted, digits = float(number), _decimals(number)
    return any(round(float(value) * factor, digits) == wanted for value in pool)


def audit_notebook(path: Path, allowed: dict[str, str] = None, chapters: set[int] = frozenset()) -> list[Finding]:
    """Every measured number in ``path``'s Markdown that its outputs and code do not contain, and every dangling
    chapter reference. ``allowed``: number as written (with unit) -> the reason it may stand."""
    allowed = allowed or {}
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    printed = {v for c in cells if c["cell_type"] == "code" for v in _values(_outputs_text(c))}
    constants = {v for c in cells if c["cell_type"] == "code" for v in _values("".join(c["source"]))}
    findings = []
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        text = "".join(cell["source"])
        for m in MEASURED.finditer(text):
            number, unit = m.group("num").replace(",", ""), (m.group("unit") or "").strip()
            if "." not in number and not unit:
                continue                                   # a plain integer: a size, a count, a year
            written = m.group(0).strip()
            if written in allowed or f"{number}{unit}" in allowed:
                continue
            factor = 1e-6 if unit == "million" else 1.0
            if _matches(number, printed | constants, factor):
                continue
            if unit == "%" and _matches(number, printed | constants, 100.0):   # 20 % <-> 0.2
                continue
            context = text[max(0, m.start() - 50):m.end() + 20].replace("\n", " ")
            findings.append(Finding(Path(path).name, index, written, context))
        for m in CHAPTER.finditer(text):
            for n in [m.group(1), *re.findall(r"\d+", m.group(2))]:
                if chapters and int(n) not in chapters:
                    findings.append(Finding(Path(path).name, index, m.group(0), f"no chapter {n} notebook"))
    return findings


VERDICT = re.compile(r"VERDICT on [^:]+: (?P<a>.+?) vs (?P<b>.+?): no difference shown")
SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]|$)")


def audit_comparisons(path: Path) -> list[Finding]:
    """Every Markdown sentence that ranks two models (``course_utils.checks.COMPARATIVE``) whose paired verdict,
    printed in the notebook's outputs, is "no difference shown". The two models are found by the names the verdict
    line prints (case-insensitive); a sentence that says there is no difference, or negates the ranking, passes."""
    from course_utils.checks import COMPARATIVE, NEGATED, NO_DIFFERENCE

    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    ties = {(m.group("a").lower(), m.group("b").lower())
            for c in cells if c["cell_type"] == "code" for m in VERDICT.finditer(_outputs_text(c))}
    findings = []
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        for sentence in SENTENCE.findall("".join(cell["source"]).replace("\n", " ")):
            low = sentence.lower()
            if not COMPARATIVE.search(sentence) or NO_DIFFERENCE.search(sentence) or NEGATED.search(sentence):
                continue
            for a, b in ties:
                if a in low and b in low:
                    findings.append(Finding(Path(path).name, index, f"{a} vs {b}: no difference shown",
                                            sentence.strip()[:160]))
    return findings
