"""Grading on a Dask distributed cluster: ``python -m autograder grade EX --scheduler tcp://HOST:8786`` (or
``c.Autograder.scheduler`` in the course's ``nbgrader_config.py``).

The client (the instructor's process) does everything local grading does except the sandbox runs: it builds the
hidden cases and reference outputs, reads the submissions, judges every function and is the only one to write the
gradebook and the reports. Each submission is one Dask task, :func:`grade_submission`, taking plain data: the
portable part of the prepared assignment (:func:`portable`: tasks without their input makers and judges, setup,
hidden inputs, solution cell order, seed, limits; never the reference outputs or the judges' secrets) and the
submission's solution cells. It runs :func:`autograder.stages.run_submission` in the worker's own sandbox and
returns ``{function: SandboxResult}`` as JSON text, which the client parses strictly (:func:`parse_results`): a
malformed result fails that function with a reason saying what is wrong, the others are kept.

A worker killed mid-job: the scheduler reruns the task on another worker (Dask's ``allowed-failures``, default 3,
rescheduled tasks past it raise ``KilledWorker``); the client takes each task's result once, after every task has
finished, so no score is lost, doubled or written twice. Any task that still fails stops the grading with a
:class:`ClusterError` before anything is written. An unreachable scheduler, or one without workers, is a
:class:`ClusterError` before anything is prepared or written.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

from autograder import stages
from autograder.protocol import ProtocolError
from autograder.sandbox import MAX_RESULT_BYTES, Limits, SandboxResult
from autograder.task import Task

if TYPE_CHECKING:
    from distributed import Client

    from autograder.references import Prepared

CONNECT_TIMEOUT_S = 10.0
_WORKER_SIDE = ("make_cases", "judge")      # Task fields that stay with the client


class ClusterError(RuntimeError):
    """The cluster cannot grade (unreachable scheduler, no workers, a job that failed): nothing was written."""


@dataclass
class PortablePrep:
    """What :func:`autograder.stages.run_submission` reads of a :class:`autograder.references.Prepared`."""

    tasks: list[Task]
    setup: str
    payloads: dict[str, list]
    info: SimpleNamespace           # solution_cells
    module: SimpleNamespace         # SEED
    limits_override: dict


def portable(prep: Prepared) -> dict:
    """The plain-data part of ``prep`` a worker needs (see :class:`PortablePrep`)."""
    tasks = []
    for task in prep.tasks:
        t = {f.name: getattr(task, f.name) for f in fields(Task) if f.name not in _WORKER_SIDE}
        t.update(limits=asdict(task.limits), setup_limits=task.setup_limits and asdict(task.setup_limits),
                 carry=list(task.carry), rebuild_only=list(task.rebuild_only))
        tasks.append(t)
    return {"tasks": tasks, "setup": prep.setup, "payloads": prep.payloads,
            "solution_cells": list(prep.info.solution_cells), "seed": int(prep.module.SEED),
            "limits_override": dict(prep.limits_override)}


def from_portable(data: dict) -> PortablePrep:
    tasks = [Task(**{**t, "make_cases": None, "limits": Limits(**t["limits"]), "carry": tuple(t["carry"]),
                     "rebuild_only": tuple(t["rebuild_only"]),
                     "setup_limits": t["setup_limits"] and Limits(**t["setup_limits"])})
             for t in data["tasks"]]
    return PortablePrep(tasks, data["setup"], data["payloads"], SimpleNamespace(solution_cells=data["solution_cells"]),
                        SimpleNamespace(SEED=data["seed"]), data["limits_override"])


def grade_submission(prep_data: dict, solutions: dict[str, str | None], protect: list[str]) -> str:
    """The task a worker runs: one submission's sandboxes; ``{function: SandboxResult}`` as JSON text."""
    results = stages.run_submission(from_portable(prep_data), solutions, protect=tuple(Path(p) for p in protect))
    return json.dumps({function: res.to_json() for function, res in results.items()})


def _failed(detail: str) -> SandboxResult:
    return SandboxResult(status="bad_result", detail=f"crashed: {detail}")


def max_answer_chars(functions: list[str]) -> int:
    """The longest worker answer parsed: per function, twice a sandbox's largest result (escaping by the worker's
    re-encoding) and 1 MiB for logs and the other fields."""
    return len(functions) * (2 * MAX_RESULT_BYTES + 2**20)


def parse_results(text, functions: list[str]) -> dict[str, SandboxResult]:
    """A worker's answer, strictly parsed: one result per expected function; a missing or malformed one becomes
    a failed run whose reason says what was wrong (the others are kept). An answer longer than
    :func:`max_answer_chars` is not parsed."""
    limit = max_answer_chars(functions)
    if isinstance(text, str) and len(text) > limit:
        why = f"result too large: the grading worker's answer has more than the limit of {limit} characters"
        return {f: _failed(why) for f in functions}
    try:
        obj = json.loads(text) if isinstance(text, str) else None
    except (ValueError, RecursionError) as exc:
        obj = None
        why = f"the grading worker's answer is not JSON ({str(exc)[:120]})"
    else:
        why = "the grading worker's answer is not a JSON object"
    if not isinstance(obj, dict):
        return {f: _failed(why) for f in functions}
    out = {}
    for function in functions:
        if function not in obj:
            out[function] = _failed(f"the grading worker returned no result for {function}")
            continue
        try:
            out[function] = SandboxResult.from_json(obj[function])
        except (ProtocolError, TypeError, ValueError) as exc:
            out[function] = _failed(f"the grading worker's result for {function} is malformed: {str(exc)[:200]}")
    return out


def connect(address: str, timeout: float | None = None) -> Client:
    """A client of the scheduler at ``address`` that has at least one worker within ``timeout`` seconds (default
    CONNECT_TIMEOUT_S); else a ClusterError saying so."""
    from distributed import Client

    timeout = timeout or CONNECT_TIMEOUT_S

    try:
        client = Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address} within {timeout:g} s ({exc}); start it "
                           f"with `dask scheduler` and workers with `dask worker {address}` (autograder/README.md), "
                           "or grade here without --scheduler. Nothing was graded or written.") from None
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (OSError, TimeoutError):
        client.close()
        raise ClusterError(f"the Dask scheduler at {address} has no workers (waited {timeout:g} s); start some with "
                           f"`dask worker {address}`. Nothing was graded or written.") from None
    return client


def describe(client: Client) -> str:
    """One line: the scheduler, its workers and threads, and how often a task may lose its worker."""
    info = client.scheduler_info()
    workers = info.get("workers", {})
    threads = sum(w.get("nthreads", 0) for w in workers.values())
    allowed = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.allowed_failures)
    return (f"{client.scheduler.address}: {len(workers)} worker(s), {threads} thread(s); a job whose worker dies "
            f"is rerun elsewhere (allowed failures: {allowed})")


def run_submissions(client: Client, prep: Prepared, solutions: list[dict[str, str | None]],
                    protect: tuple[Path, ...] = ()) -> list[dict[str, SandboxResult]]:
    """:func:`autograder.stages.run_submission` for every submission, on the cluster; the results in order."""
    [prep_data] = client.scatter([portable(prep)], broadcast=True, hash=False)      # sent to each worker once
    futures = [client.submit(grade_submission, prep_data, s, [str(p) for p in protect], pure=False)
               for s in solutions]
    try:
        texts = client.gather(futures, errors="skip")      # waits for every job, whatever its outcome
    except Exception as exc:  # noqa: BLE001 - e.g. the connection to the scheduler lost: the jobs were cancelled
        raise ClusterError(f"grading on the cluster was interrupted ({type(exc).__name__}: {str(exc)[:300]}). "
                           "Nothing was written; rerun the grading.") from None
    failed = [(i, f) for i, f in enumerate(futures) if f.status != "finished"]
    if failed:
        i, future = failed[0]
        client.cancel(futures)
        raise ClusterError(f"{len(failed)} grading job(s) failed on the cluster, e.g. submission {i + 1}: "
                           f"{type(future.exception()).__name__}: {str(future.exception())[:300]}. "
                           "Nothing was written; rerun the grading.")
    expected = [[t.function for t in stages.tasks_to_run(prep.tasks, s)] for s in solutions]
    return [parse_results(text, functions) for text, functions in zip(texts, expected, strict=True)]
