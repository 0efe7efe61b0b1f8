"""Every chapter ends with a "Check yourself" list, and every question in it is followed by a folded answer:
``<details><summary>Answer</summary>`` with at least MIN_WORDS words of reasoning before ``</details>``. A code cell
inside an answer (the fold opens in the Markdown cell before it and closes in the one after) adds no words."""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(ROOT.glob("notebooks/[0-9][0-9]_*.ipynb"))
MIN_WORDS = 15
ANSWER = re.compile(r"(<details><summary>Answer</summary>.*?</details>)", re.S)
QUESTION = re.compile(r"^(\d+)\.\s", re.M)


def check_yourself(path) -> str:
    """The Markdown from the "## Check yourself" heading to the next "## " heading or the end of the notebook."""
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    text = "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    _, found, section = text.partition("## Check yourself")
    return found and re.split(r"^## ", section, flags=re.M)[0]


def unanswered(section: str) -> list[int]:
    """Numbers of the questions that no answer of MIN_WORDS words or more follows before the next question."""
    missing = []
    pieces = ANSWER.split(section)            # prose, answer, prose, answer, ..., prose
    for i in range(0, len(pieces), 2):
        questions = QUESTION.findall(pieces[i])
        answer = pieces[i + 1] if i + 1 < len(pieces) else ""
        words = re.sub(r"</?details>|<summary>Answer</summary>", " ", answer).split()
        missing += [int(n) for n in questions[:-1]]            # followed directly by another question
        if questions and len(words) < MIN_WORDS:
            missing.append(int(questions[-1]))
    return missing


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: p.name)
def test_every_check_yourself_question_has_an_answer(notebook):
    section = check_yourself(notebook)
    assert section and QUESTION.search(section), f"{notebook.name}: no numbered 'Check yourself' questions"
    missing = unanswered(section)
    assert not missing, f"{notebook.name}: Check-yourself questions without an answer: {missing}"


def test_a_planted_missing_answer_is_found(tmp_path):
    chapter = ROOT / "notebooks" / "01_rnn_fundamentals.ipynb"
    nb = json.loads(chapter.read_text(encoding="utf-8"))
    [cell] = [c for c in nb["cells"] if c["cell_type"] == "markdown" and "".join(c["source"]).startswith("</details>")
              and "\n2. " in "".join(c["source"])]
    text = "".join(cell["source"])
    cell["source"] = ANSWER.sub("", text, count=1)           # question 2 loses its answer
    planted = tmp_path / chapter.name
    planted.write_text(json.dumps(nb), encoding="utf-8")
    assert unanswered(check_yourself(chapter)) == []
    assert unanswered(check_yourself(planted)) == [2]


def test_a_too_short_answer_and_a_missing_section_are_found(tmp_path):
    short = "## Check yourself\n\n1. Why?\n\n<details><summary>Answer</summary>\n\nBecause.\n\n</details>\n\n2. How?\n"
    assert unanswered(short) == [1, 2]
    path = tmp_path / "09_planted.ipynb"
    path.write_text(json.dumps({"cells": [{"cell_type": "markdown", "source": "## Summary", "metadata": {}}]}))
    assert not check_yourself(path)
