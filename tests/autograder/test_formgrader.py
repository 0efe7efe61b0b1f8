"""The instructor's formgrader (`make formgrader`) on a fresh course folder, and gradebooks left half-created."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from autograder import gradebook_repair
from autograder.demo import formgrader_command, make_course_copy
from autograder.gradebook_repair import GradebookError
from autograder.nbgrader_course import Course
from lab_server import make_target

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning", "ignore::DeprecationWarning")
BIN = Path(sys.executable).parent


def _half_created(course: Course) -> str:
    """What nbgrader leaves when `alembic` is not on PATH: all its tables, no alembic_version; plus a student
    and an assignment, standing for grades that must survive."""
    from nbgrader.api import Base

    engine = create_engine(course.db_url)
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO student (id, first_name) VALUES ('ann', 'Ann')"))
        conn.execute(text("INSERT INTO course (id) VALUES ('rnn-course')"))
        conn.execute(text("INSERT INTO assignment (id, name, course_id) VALUES ('a1', 'ex1_rnn_cells', 'rnn-course')"))
    engine.dispose()
    return course.db_url


def _execute(db_url: str, *statements: str) -> None:
    engine = create_engine(db_url)
    with engine.begin() as conn:
        for sql in statements:
            conn.execute(text(sql))
    engine.dispose()


def _rows(db_url: str, sql: str) -> list:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text(sql))]
    engine.dispose()
    return rows


def _db_upgrade(course: Course) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run([str(BIN / "nbgrader"), "db", "upgrade"], cwd=course.root, env=env,
                          capture_output=True, text=True, timeout=120)


def test_formgrader_api_answers_on_a_fresh_course_folder(tmp_path):
    course = make_course_copy(tmp_path / "course")
    assert not (course.root / "gradebook.db").exists()
    with make_target("formgrader", tmp_path / "formgrader.log", COURSE=str(course.root)) as lab:
        assignments = lab.get_json("/formgrader/api/assignments")
        assert {a["name"] for a in assignments} == set(course.assignments())
        assert lab.get("/formgrader")[0] == 200
        assert lab.get_json("/formgrader/api/students") == []
    log = (tmp_path / "formgrader.log").read_text()
    assert "has no submissions yet" in log and "make formgrader COURSE=build/grade-demo/course" in log
    assert _rows(course.db_url, "SELECT version_num FROM alembic_version") == [(gradebook_repair.head_revision(),)]


def test_the_demo_names_the_formgrader_command_of_its_course():
    from autograder.paths import REPO_ROOT
    assert formgrader_command(REPO_ROOT / "build" / "grade-demo" / "course") == \
        "make formgrader COURSE=build/grade-demo/course"


def test_a_half_created_gradebook_is_completed_and_keeps_its_rows(tmp_path):
    course = make_course_copy(tmp_path / "course")
    db_url = _half_created(course)
    before = _db_upgrade(course)
    assert before.returncode != 0        # the state the issue found: nbgrader db upgrade fails on it ...
    assert _rows(db_url, "SELECT version_num FROM alembic_version") != [(gradebook_repair.head_revision(),)]
    run = subprocess.run([sys.executable, "-m", "autograder", "--course", str(course.root), "gradebook"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "repaired a half-created gradebook" in run.stderr
    assert _rows(db_url, "SELECT version_num FROM alembic_version") == [(gradebook_repair.head_revision(),)]
    assert _rows(db_url, "SELECT id, first_name FROM student") == [("ann", "Ann")]
    assert _rows(db_url, "SELECT name FROM assignment") == [("ex1_rnn_cells",)]
    after = _db_upgrade(course)
    assert after.returncode == 0, after.stdout + after.stderr
    assert gradebook_repair.repair(db_url) is None      # nothing left to do


def test_a_gradebook_without_any_revision_is_completed(tmp_path):
    db_url = _half_created(make_course_copy(tmp_path / "course"))
    assert "was: none" in gradebook_repair.repair(db_url)
    assert _rows(db_url, "SELECT version_num FROM alembic_version") == [(gradebook_repair.head_revision(),)]


def test_an_older_gradebook_at_its_own_revision_is_left_to_nbgrader_db_upgrade(tmp_path):
    db_url = _half_created(make_course_copy(tmp_path / "course"))
    _execute(db_url, "ALTER TABLE grade DROP COLUMN extra_credit",          # as before revision 724cde206c17
             "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)",
             "INSERT INTO alembic_version (version_num) VALUES ('50a4d84c131a')")
    assert gradebook_repair.repair(db_url) is None
    assert _rows(db_url, "SELECT version_num FROM alembic_version") == [("50a4d84c131a",)]


def test_missing_tables_of_a_half_created_gradebook_are_created(tmp_path):
    course = make_course_copy(tmp_path / "course")
    db_url = _half_created(course)
    _execute(db_url, "DROP TABLE comment")
    assert "repaired" in gradebook_repair.repair(db_url)
    engine = create_engine(db_url)
    assert "comment" in inspect(engine).get_table_names()
    engine.dispose()


def test_a_half_created_gradebook_of_another_schema_is_refused_unchanged(tmp_path):
    course = make_course_copy(tmp_path / "course")
    db_url = _half_created(course)
    _execute(db_url, "ALTER TABLE student ADD COLUMN nickname VARCHAR(32)")
    db_file = course.root / "gradebook.db"
    digest = hashlib.sha256(db_file.read_bytes()).hexdigest()
    with pytest.raises(GradebookError, match="left unchanged") as refused:
        course.gradebook()
    assert "table student" in str(refused.value) and "Back it up" in str(refused.value)
    assert hashlib.sha256(db_file.read_bytes()).hexdigest() == digest
    run = subprocess.run([sys.executable, "-m", "autograder", "--course", str(course.root), "gradebook"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and "gradebook not usable" in run.stderr and "Traceback" not in run.stderr
