"""Grading benchmark: plain `nbgrader autograde` vs the sandboxed grader, a faulty batch, and a Keras exercise.

    flock /tmp/course-cpu.lock .venv/bin/python bench/grading.py            # everything (about 3 minutes on 2 cores)
    .venv/bin/python bench/grading.py --only compare --n 30                 # just the comparison

Writes bench/results/grading.json; bench/README.md ("## Grading") quotes the numbers.
1. compare: N submissions of ex1_rnn_cells (90% correct, 10% with one wrong function), one run each:
   plain `nbgrader autograde` (executes every notebook in a Jupyter kernel) vs `python -m autograder grade --jobs 2`
   (one sandbox per submission; reference outputs built beforehand, as an instructor does once per assignment).
2. faulty: 100 submissions of ex1, 10% faulty (invalid JSON, empty file, another assignment, null bytes, infinite
   loop, segfault, memory bomb, os._exit, sys.exit, process-spawning loop): all processed, failures with reasons.
3. keras: wall and per-function seconds for ex2_text_classification (two Keras models trained under the fixed
   budget) and ex5_attention (a custom attention layer, its save / reload round trip, a model trained with it).
4. throughput (only with --only throughput): 200 mixed submissions (120 of ex1 with 12 faulty and 12 wrong, 72 of
   ex4_text_generation, 8 of ex3_time_series, whose build_forecaster trains a Keras model) graded with
   `--jobs 2` here and with `--scheduler` on a 2-worker Dask LocalCluster (one thread each) on the same machine:
   submissions per minute in all and per worker; same scores and reasons in both.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.demo import make_course_copy  # noqa: E402
from autograder.submissions import fill, reference_solutions  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "grading.json"
A1 = "ex1_rnn_cells"
KERAS_ASSIGNMENTS = ("ex2_text_classification", "ex5_attention")

WRONG_GRU = "def gru_step(x_t, h_prev, W_z, W_r, W, b_z, b_r, b):\n    return h_prev\n"
FAULTS = {
    "invalid_json": '{"cells": [',
    "empty_file": "",
    "infinite_loop": {"lstm_step": "def lstm_step(*args, **kwargs):\n    while True:\n        pass\n"},
    "segfault": {"gru_step": "import ctypes\ndef gru_step(*args, **kwargs):\n    ctypes.string_at(0)\n"},
    "memory_bomb": {"lstm_step": "def lstm_step(*args, **kwargs):\n    x = np.ones(50 * 10**9 // 8)\n"},
    "os_exit": {"gru_step": "import os\ndef gru_step(*args, **kwargs):\n    os._exit(0)\n"},
    "sys_exit": {"rnn_step": "import sys\nsys.exit(0)\n"},
    "spawn_loop": {"gru_step": "import subprocess\ndef gru_step(*args, **kwargs):\n    ps = []\n    try:\n"
                               "        for _ in range(2000):\n"
                               "            ps.append(subprocess.Popen(['sleep', '60']))\n"
                               "    except OSError:\n        pass\n    return ps\n"},
    "null_bytes": "NULL",
    "other_assignment": "OTHER",
}


def _course(tmp: Path, name: str):
    return make_course_copy(tmp / name / "course")


def _write(course, student, assignment, nb) -> None:
    path = course.submission_notebook(student, assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nb if isinstance(nb, str) else json.dumps(nb))


def _submissions(course, assignment, n, faulty_every=0, wrong_every=10):
    course.release(assignment)
    released = json.loads(course.release_notebook(assignment).read_text())
    answers = reference_solutions(course.source_notebook(assignment))
    kinds = list(FAULTS)
    for i in range(n):
        student = f"s{i:03d}"
        if faulty_every and i % faulty_every == faulty_every - 1:
            kind = kinds[(i // faulty_every) % len(kinds)]
            fault = FAULTS[kind]
            if isinstance(fault, dict):
                nb = fill(released, {**answers, **fault})
            elif fault == "NULL":
                nb = json.dumps(fill(released, {**answers, "rnn_step": answers["rnn_step"] + "\n# \x00"}))
            elif fault == "OTHER":
                nb = fill(released, answers)
                for cell in nb["cells"]:
                    if "nbgrader" in cell["metadata"]:
                        cell["metadata"]["nbgrader"]["grade_id"] = "x_" + cell["metadata"]["nbgrader"]["grade_id"]
            else:
                nb = fault
            _write(course, f"{student}_{kind}", assignment, nb)
        elif wrong_every and i % wrong_every == wrong_every - 1:
            _write(course, student, assignment, fill(released, {**answers, "gru_step": WRONG_GRU}))
        else:
            _write(course, student, assignment, fill(released, answers))


def _run(cmd, cwd, env=None) -> tuple[float, subprocess.CompletedProcess]:
    env = {**os.environ, **(env or {})}
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    return time.perf_counter() - start, proc


def bench_compare(tmp: Path, n: int, jobs: int) -> dict:
    plain = _course(tmp, "plain")
    _submissions(plain, A1, n)
    seconds_plain, proc = _run([sys.executable, "-m", "nbgrader", "autograde", A1, "--force"], cwd=plain.root)
    ok_plain = proc.returncode == 0
    with plain.gradebook() as gb:
        plain_scores = {s.student.id: s.score for s in gb.assignment_submissions(A1)}

    ours = _course(tmp, "ours")
    _submissions(ours, A1, n)
    t_ref, proc_ref = _run([sys.executable, "-m", "autograder", "--course", str(ours.root), "references", A1],
                           cwd=ROOT)
    seconds_ours, proc2 = _run([sys.executable, "-m", "autograder", "--course", str(ours.root), "grade", A1,
                                "--jobs", str(jobs)], cwd=ROOT)
    report = json.loads((ours.reports_dir() / f"{A1}.json").read_text())
    our_scores = {s["student"]: s["score"] for s in report["submissions"]}
    return {
        "submissions": n, "jobs": jobs,
        "plain_nbgrader_s": round(seconds_plain, 1), "plain_ok": ok_plain,
        "plain_per_submission_s": round(seconds_plain / n, 2),
        "ours_s": round(seconds_ours, 1), "ours_ok": proc2.returncode == 0,
        "ours_per_submission_s": round(seconds_ours / n, 2),
        "reference_build_s": round(t_ref, 1), "reference_ok": proc_ref.returncode == 0,
        "speedup": round(seconds_plain / seconds_ours, 2),
        "same_scores": plain_scores == our_scores,
        "isolation": report["isolation"],
        "ours_stdout_tail": proc2.stdout[-600:],
        "plain_stderr_tail": "" if ok_plain else proc.stderr[-600:],
    }


def bench_faulty(tmp: Path, n: int, jobs: int, time_limit: float) -> dict:
    course = _course(tmp, "faulty")
    _submissions(course, A1, n, faulty_every=10, wrong_every=0)
    seconds, proc = _run([sys.executable, "-m", "autograder", "--course", str(course.root), "grade", A1,
                          "--jobs", str(jobs), "--time-limit", str(time_limit)], cwd=ROOT)
    report = json.loads((course.reports_dir() / f"{A1}.json").read_text())
    subs = report["submissions"]
    with course.gradebook() as gb:
        in_gradebook = {s.student.id for s in gb.assignment_submissions(A1)}
    failures = []
    for s in subs:
        if s["status"] != "graded":
            failures.append({"student": s["student"], "score": s["score"], "reason": s["reason"]})
        else:
            for f in s["functions"]:
                if f["score"] < f["points"]:
                    failures.append({"student": s["student"], "function": f["function"], "score": f["score"],
                                     "reason": f["reason"]})
    honest = [s for s in subs if "_" not in s["student"]]
    return {
        "submissions": len(subs), "faulty": sum("_" in s["student"] for s in subs), "jobs": jobs,
        "time_limit_s": time_limit, "seconds": round(seconds, 1), "ok": proc.returncode == 0,
        "all_in_gradebook": in_gradebook == {s["student"] for s in subs},
        "honest_full_marks": all(s["score"] == s["max_score"] for s in honest),
        "failures": failures,
    }


def bench_keras(tmp: Path, assignment: str, n: int, jobs: int) -> dict:
    course = _course(tmp, assignment)
    course.release(assignment)
    released = json.loads(course.release_notebook(assignment).read_text())
    answers = reference_solutions(course.source_notebook(assignment))
    for i in range(n):
        _write(course, f"k{i}", assignment, fill(released, answers))
    t_ref, proc_ref = _run([sys.executable, "-m", "autograder", "--course", str(course.root), "references",
                            assignment], cwd=ROOT)
    seconds, proc = _run([sys.executable, "-m", "autograder", "--course", str(course.root), "grade", assignment,
                          "--jobs", str(jobs)], cwd=ROOT)
    report = json.loads((course.reports_dir() / f"{assignment}.json").read_text())
    subs = report["submissions"]
    return {
        "assignment": assignment, "submissions": n, "jobs": jobs, "wall_s": round(seconds, 1),
        "wall_per_submission_s": round(seconds / n, 1), "ok": proc.returncode == 0,
        "reference_build_s": round(t_ref, 1), "reference_ok": proc_ref.returncode == 0,
        "sandbox_seconds_per_submission": [round(s["seconds"], 1) for s in subs],
        "sandbox_seconds_per_function": {f["function"]: [round(s["functions"][i]["seconds"], 1) for s in subs]
                                         for i, f in enumerate(subs[0]["functions"])},
        "scores": [s["score"] for s in subs],
        "reasons": [f["reason"] for f in subs[0]["functions"]],
    }


MIX = {A1: 120, "ex4_text_generation": 72, "ex3_time_series": 8}     # 8 x 14 s of Keras in about 5 minutes


def _grade_mixed(course, extra: list[str]) -> tuple[float, subprocess.CompletedProcess, dict]:
    """Grade every exercise of MIX in one command; (wall seconds, process, {(assignment, student): (score,
    reasons)})."""
    base = [sys.executable, "-m", "autograder", "--course", str(course.root)]
    _run([*base, "references", *MIX], cwd=ROOT)         # once per exercise, as an instructor does; not timed
    seconds, proc = _run([*base, "grade", *MIX, *extra], cwd=ROOT)
    verdicts = {}
    for a in MIX:
        report = course.reports_dir() / f"{a}.json"
        for s in json.loads(report.read_text())["submissions"] if report.is_file() else []:
            verdicts[a, s["student"]] = (s["score"], [f["reason"] for f in s["functions"]])
    return seconds, proc, verdicts


def bench_throughput(tmp: Path, jobs: int) -> dict:
    from distributed import LocalCluster

    runs = {}
    for name in ("local", "cluster"):
        course = _course(tmp, f"throughput-{name}")
        _submissions(course, A1, MIX[A1], faulty_every=10, wrong_every=5)
        for a in list(MIX)[1:]:
            _submissions(course, a, MIX[a], wrong_every=0)
        if name == "local":
            runs[name] = _grade_mixed(course, ["--jobs", str(jobs)])
        else:
            with LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None,
                              memory_limit=0) as cluster:      # started before the clock, like a standing cluster
                runs[name] = _grade_mixed(course, ["--scheduler", cluster.scheduler_address])
    n = sum(MIX.values())
    out = {"submissions": n, "mix": MIX, "workers": jobs, "faulty_ex1": MIX[A1] // 10, "wrong_ex1": MIX[A1] // 10}
    for name, (seconds, proc, _) in runs.items():
        per_minute = n / seconds * 60
        out[name] = {"wall_s": round(seconds, 1), "ok": proc.returncode == 0,
                     "submissions_per_minute": round(per_minute, 1),
                     "per_worker_per_minute": round(per_minute / jobs, 1), "stdout_tail": proc.stdout[-400:],
                     "stderr_tail": proc.stderr[-2000:] if proc.returncode else ""}
    local, cluster = runs["local"][2], runs["cluster"][2]
    out["same_scores"] = {k: v[0] for k, v in local.items()} == {k: v[0] for k, v in cluster.items()}
    out["same_reasons"] = local == cluster
    out["cluster_overhead"] = round(runs["cluster"][0] / runs["local"][0] - 1, 3)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", choices=["compare", "faulty", "keras", "throughput"], action="append")
    p.add_argument("--n", type=int, default=30, help="submissions for the comparison")
    p.add_argument("--n-faulty-batch", type=int, default=100)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--time-limit", type=float, default=10.0, help="per-function limit in the faulty batch")
    p.add_argument("--keras-n", type=int, default=2)
    p.add_argument("--output", type=Path, default=RESULTS, help="the JSON file the results are merged into")
    args = p.parse_args()
    parts = args.only or ["compare", "faulty", "keras"]
    out = args.output
    results = json.loads(out.read_text()) if out.is_file() else {}
    results["machine"] = f"{platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, Python " \
                         f"{platform.python_version()}"
    with tempfile.TemporaryDirectory(prefix="grading-bench-") as tmp:
        tmp = Path(tmp)
        if "compare" in parts:
            results["compare"] = bench_compare(tmp, args.n, args.jobs)
            print(json.dumps(results["compare"], indent=1))
        if "faulty" in parts:
            results["faulty"] = bench_faulty(tmp, args.n_faulty_batch, args.jobs, args.time_limit)
            r = results["faulty"]
            print(f"faulty batch: {r['submissions']} submissions ({r['faulty']} faulty) in {r['seconds']} s; "
                  f"all in gradebook: {r['all_in_gradebook']}; honest full marks: {r['honest_full_marks']}")
            for f in r["failures"]:
                print(f"  {f['student']} {f.get('function', '')}: {f['reason']}")
        if "keras" in parts:
            results["keras"] = {a: bench_keras(tmp, a, args.keras_n, args.jobs) for a in KERAS_ASSIGNMENTS}
            print(json.dumps(results["keras"], indent=1))
        if "throughput" in parts:
            results["throughput"] = bench_throughput(tmp, args.jobs)
            print(json.dumps(results["throughput"], indent=1))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
