"""What a grading run leaves for the instructor besides the gradebook: ``reports/<assignment>.{json,csv}`` and the
score table printed by ``grade`` and ``demo``. Every text in them that a learner may have written (reasons, names)
was made printable (``autograder.text``) when the verdict was made; the table applies it again, as it is printed."""
from __future__ import annotations

import csv
import json
from dataclasses import asdict
from pathlib import Path

from autograder import sandbox
from autograder.nbgrader_course import Course
from autograder.text import printable
from autograder.verdicts import NOT_STORED, SubmissionVerdict


def write_reports(course: Course, assignment: str, verdicts: list[SubmissionVerdict], seconds: float) -> Path:
    """Per submission and function: score, reason, seconds and the file's sha256, as JSON and CSV."""
    out = course.reports_dir()
    out.mkdir(parents=True, exist_ok=True)
    doc = {
        "assignment": assignment,
        "isolation": sandbox.isolation_note(),
        "seconds": round(seconds, 2),
        "submissions": [
            {**{k: val for k, val in asdict(v).items() if k not in ("functions", "submitted")}, "score": v.score,
             "max_score": v.max_score, "seconds": round(v.seconds, 3),
             "functions": [{**asdict(f), "seconds": round(f.seconds, 3)} for f in v.functions]}
            for v in verdicts
        ],
    }
    path = out / f"{assignment}.json"
    path.write_text(json.dumps(doc, indent=1))
    with open(out / f"{assignment}.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student", "status", "function", "score", "max_score", "reason", "seconds", "sha256"])
        for v in verdicts:
            for fv in v.functions:
                w.writerow([v.student, v.status, fv.function, fv.score, fv.points, fv.reason, f"{fv.seconds:.3f}",
                            v.sha256])
            if not v.functions:     # a skipped folder
                w.writerow([v.student, v.status, "", 0, 0, v.reason, "0.000", v.sha256])
    return path


def summary_table(verdicts: list[SubmissionVerdict]) -> str:
    """One row per submission (score per function, total, seconds), then every lost point with its reason, and
    the folders of submitted/ that were skipped."""
    if not verdicts:
        return "(no submissions)"
    rows = [v for v in verdicts if v.status != "skipped"]
    funcs = [f.function for f in rows[0].functions] if rows else []
    width = max(8, *(len(printable(v.student)) for v in verdicts))
    head = f"{'student':<{width}}  " + "  ".join(f"{fn[:12]:>12}" for fn in funcs) + f"  {'total':>9}  {'seconds':>7}"
    lines = [head, "-" * len(head)]
    for v in rows:
        cells = "  ".join(f"{f'{fv.score:g}/{fv.points:g}':>12}" for fv in v.functions)
        lines.append(f"{printable(v.student):<{width}}  {cells}  {f'{v.score:g}/{v.max_score:g}':>9}  "
                     f"{v.seconds:7.2f}")
    fails = [(v, fv) for v in rows for fv in v.functions if not fv.passed and v.status == "graded"]
    invalid = [v for v in rows if v.status != "graded"]
    if fails or invalid:
        lines.append("")
        lines.append("not passed:")
        for v in invalid:
            lines.append(f"  {printable(v.student)}: {printable(v.reason)}")
        for v, fv in fails:
            lines.append(f"  {printable(v.student)} / {fv.function}: {printable(fv.reason)}")
    skipped = [v for v in verdicts if v.status == "skipped"]
    if skipped:
        lines.append("")
        lines.append("folders of submitted/ not graded:")
        lines += [f"  '{printable(v.student)}': {printable(v.reason)}" for v in skipped]
    not_stored = [v for v in rows if v.nbgrader.startswith(NOT_STORED)]
    if not_stored:
        lines.append("")
        lines.append("not in the gradebook:")
        lines += [f"  {printable(v.student)}: {printable(v.nbgrader)}" for v in not_stored]
    return "\n".join(lines)
