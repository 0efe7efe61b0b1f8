"""A gradebook left half-created: nbgrader's tables without the ``alembic_version`` table.

nbgrader creates a new gradebook's tables first and then records the schema revision, which it asks the
``alembic`` command for; when that command is not on PATH (formgrader started without the environment's ``bin``),
the tables stay without ``alembic_version``, and a later ``nbgrader db upgrade`` records the first revision and
then fails on columns that already exist. Such a gradebook is repaired only when its tables are exactly those of
the installed nbgrader (so they are at its head revision): missing tables are created and the head revision is
recorded; no grade is touched. Anything else is refused with
what to do, and the gradebook is left as it was.
"""
from __future__ import annotations

from sqlalchemy import create_engine, inspect, text

VERSION_TABLE = "alembic_version"


class GradebookError(RuntimeError):
    """The gradebook cannot be used as it is; the message says what to do."""


def head_revision() -> str:
    """The newest schema revision of the installed nbgrader (from its migration scripts, no ``alembic`` command)."""
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    return ScriptDirectory(ALEMBIC_DIR).get_current_head()


def schema_differences(db_url: str) -> list[str]:
    """How the gradebook's tables differ from the installed nbgrader's (tables that are missing are not a
    difference: creating them loses nothing)."""
    from nbgrader.api import Base

    engine = create_engine(db_url, future=True)
    try:
        found = inspect(engine)
        wanted = Base.metadata.tables
        problems = [f"unknown table {name}" for name in found.get_table_names()
                    if name not in wanted and name != VERSION_TABLE]
        for name in found.get_table_names():
            if name in wanted:
                have = {c["name"] for c in found.get_columns(name)}
                need = {c.name for c in wanted[name].columns}
                if have != need:
                    problems.append(f"table {name} has columns {sorted(have)}, nbgrader's has {sorted(need)}")
        return problems
    finally:
        engine.dispose()


def recorded_revisions(db_url: str) -> tuple[list[str], list[str] | None]:
    """(the gradebook's tables, the revisions its ``alembic_version`` holds, or None without that table)."""
    engine = create_engine(db_url, future=True)
    try:
        with engine.connect() as conn:
            names = inspect(conn).get_table_names()
            if VERSION_TABLE not in names:
                return names, None
            return names, [row[0] for row in conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))]
    finally:
        engine.dispose()


def repair(db_url: str) -> str | None:
    """Complete a half-created gradebook; return what was done, or None when there was nothing to do. Raise
    GradebookError, leaving the gradebook unchanged, when it lacks its revision and its tables are not the
    installed nbgrader's.

    Half-created: tables without a recorded revision, or, after a failed ``nbgrader db upgrade`` on such a
    gradebook, with an older revision recorded although the tables are already the head revision's (every
    nbgrader migration after the first changes tables or columns, so equal tables mean the head revision). A
    gradebook at an older revision with that revision's tables is left to ``nbgrader db upgrade``."""
    names, recorded = recorded_revisions(db_url)
    revision = head_revision()
    if not names or recorded == [revision]:
        return None
    problems = schema_differences(db_url)
    if problems and recorded:
        return None
    if problems:
        import nbgrader

        raise GradebookError(
            f"the gradebook {db_url} has tables but no {VERSION_TABLE} revision (its creation was interrupted), "
            f"and they are not nbgrader {nbgrader.__version__}'s: {'; '.join(problems)}. It was left unchanged. "
            f"Back it up first (for SQLite: copy gradebook.db). Then either record the revision it was created at "
            f"with nbgrader's migrations (`alembic stamp <revision>`, then `nbgrader db upgrade`), or, if it holds "
            f"no grades you need, move it away and run `python -m autograder gradebook` to create a new one.")
    from nbgrader.api import Base

    engine = create_engine(db_url, future=True)
    try:
        Base.metadata.create_all(bind=engine)   # only the tables that are missing
        with engine.begin() as conn:
            if VERSION_TABLE not in inspect(conn).get_table_names():
                conn.execute(text(f"CREATE TABLE {VERSION_TABLE} (version_num VARCHAR(32) NOT NULL)"))
            conn.execute(text(f"DELETE FROM {VERSION_TABLE}"))
            conn.execute(text(f"INSERT INTO {VERSION_TABLE} (version_num) VALUES (:rev)"), {"rev": revision})
    finally:
        engine.dispose()
    was = ", ".join(recorded) if recorded else "none"
    return (f"repaired a half-created gradebook: its tables are nbgrader's schema revision {revision}, now recorded "
            f"(was: {was}); no grade changed")
