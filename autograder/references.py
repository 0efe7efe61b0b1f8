"""Hidden cases and reference outputs of an assignment: seeded inputs made in the parent, the instructor's reference
solutions run on them through the same sandbox, cached in ``reference/<assignment>.json`` under a fingerprint of
everything they depend on."""
from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autograder import stages
from autograder.nbgrader_course import Course
from autograder.notebook import SourceInfo, extract_solutions, load_json_notebook, source_info
from autograder.protocol import encode_input
from autograder.task import Task

REFERENCE_VERSION = 2        # 2: inputs in the protocol's one encoding


@dataclass
class Prepared:
    """What grading an assignment needs besides the submissions."""

    module: object                        # the hidden checks (autograder/hidden/<assignment>.py)
    info: SourceInfo
    tasks: list[Task]
    payloads: dict[str, list]             # function -> encoded payloads for the child
    secrets: dict[str, object]            # function -> parent-only data (labels, thresholds)
    references: dict[str, list]           # function -> reference results (encoded), for use_reference tasks
    limits_override: dict = field(default_factory=dict)   # {"wall_s": cap, "memory_mb": value} (--time-limit)

    @property
    def setup(self) -> str:
        """The notebook's full setup: the module's PREAMBLE, else the source's locked setup cells."""
        return getattr(self.module, "PREAMBLE", None) or self.info.setup_code


def fingerprint(course: Course, module, payloads) -> str:
    """What the reference outputs depend on: the source notebook, the hidden checks, their harnesses, the inputs."""
    h = hashlib.sha256()
    h.update(course.source_notebook(module.ASSIGNMENT).read_bytes())
    h.update(Path(module.__file__).read_bytes())
    for task in module.TASKS:
        h.update(f"{task.harness}\0{task.reload_harness}\0".encode())
    h.update(json.dumps(payloads, sort_keys=True).encode())
    h.update(str(REFERENCE_VERSION).encode())
    return h.hexdigest()


def make_cases(module) -> tuple[dict, dict]:
    """function -> encoded payloads, and function -> secret, from each task's seeded generator."""
    payloads, secrets = {}, {}
    for k, task in enumerate(module.TASKS):
        rng = np.random.default_rng([module.SEED, k])
        cases, secret = task.make_cases(rng)
        payloads[task.function] = [encode_input(c) for c in cases]
        secrets[task.function] = secret
    return payloads, secrets


def prepare(course: Course, assignment: str, *, rebuild: bool = False, jobs: int = 1,
            limits_override: dict | None = None) -> Prepared:
    """Hidden cases (seeded) and the reference solution's outputs on them (built once, cached in reference/)."""
    module = course.hidden_checks(assignment)
    info = source_info(assignment, course.source_notebook(assignment))
    tasks = list(module.TASKS)
    missing_cells = {t.test_cell for t in tasks} ^ set(info.test_cells)
    if missing_cells:
        raise RuntimeError(f"{assignment}: the source notebook's autograded test cells and the hidden checks "
                           f"disagree on {sorted(missing_cells)}")
    payloads, secrets = make_cases(module)
    prep = Prepared(module, info, tasks, payloads, secrets, {}, dict(limits_override or {}))
    digest = fingerprint(course, module, payloads)
    ref_file = course.reference_file(assignment)
    if not rebuild and ref_file.is_file():
        stored = json.loads(ref_file.read_text())
        if stored.get("fingerprint") == digest:
            prep.references = stored["outputs"]
            return prep
    prep.references = build(course, prep, jobs=jobs)
    ref_file.parent.mkdir(parents=True, exist_ok=True)
    ref_file.write_text(json.dumps({"assignment": assignment, "fingerprint": digest, "outputs": prep.references}))
    return prep


def build(course: Course, prep: Prepared, jobs: int = 1) -> dict[str, list]:
    """Run the instructor's reference solutions (the source notebook's solution cells) through the same sandbox."""
    nb = load_json_notebook(course.source_notebook(prep.info.assignment))
    solutions = extract_solutions(nb, prep.info)
    todo = [t for t in prep.tasks if t.use_reference]

    def one(task: Task):
        res = stages.run_task(prep, task, solutions, protect=(course.root,))
        if res.status != "ok" or res.run is None:
            raise RuntimeError(f"reference solution of {task.function} failed in the sandbox: {res.detail}\n"
                               f"{res.stderr[-2000:]}")
        cases = res.run.cases
        if res.run.missing or not all(c.returned for c in cases) or len(cases) != len(prep.payloads[task.function]):
            raise RuntimeError(f"reference solution of {task.function} failed: {res.run}")
        return task.function, [c.ok for c in cases]

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return dict(pool.map(one, todo))
