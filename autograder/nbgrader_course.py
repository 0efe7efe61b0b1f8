"""The nbgrader course folder: configuration, paths and nbgrader's own commands (release, feedback, export)."""
from __future__ import annotations

import logging
import os
import shutil
import sys
import warnings
from pathlib import Path

from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from autograder import hidden
from autograder.paths import DEFAULT_COURSE

# nbgrader runs its database migrations with the `alembic` command: make the environment's scripts findable even
# when the virtual environment is not activated (e.g. `.venv/bin/python -m autograder ...`).
_BIN = os.path.dirname(sys.executable)
if _BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")


class Course:
    """An nbgrader course root holding ``nbgrader_config.py`` and ``source/<assignment>/<assignment>.ipynb``, with
    the hidden checks in ``checks_dir`` (default: autograder/hidden)."""

    def __init__(self, root: Path | str = DEFAULT_COURSE, checks_dir: Path | str | None = None):
        self.root = Path(root).resolve()
        self.checks_dir = Path(checks_dir).resolve() if checks_dir else hidden.HIDDEN_DIR
        if not (self.root / "nbgrader_config.py").is_file():
            raise FileNotFoundError(f"{self.root} is not a course folder (no nbgrader_config.py)")
        self._config: Config | None = None
        self._gradebook_checked = False

    # paths ------------------------------------------------------------------------------------------------
    def source_notebook(self, assignment: str) -> Path:
        return self.root / "source" / assignment / f"{assignment}.ipynb"

    def release_notebook(self, assignment: str) -> Path:
        return self.root / "release" / assignment / f"{assignment}.ipynb"

    def submitted_dir(self) -> Path:
        return self.root / "submitted"

    def submission_notebook(self, student: str, assignment: str) -> Path:
        return self.submitted_dir() / student / assignment / f"{assignment}.ipynb"

    def autograded_dir(self, student: str, assignment: str) -> Path:
        return self.root / "autograded" / student / assignment

    def reference_file(self, assignment: str) -> Path:
        return self.root / "reference" / f"{assignment}.json"

    def reports_dir(self) -> Path:
        return self.root / "reports"

    def assignments(self) -> list[str]:
        """Every assignment with both hidden checks and a source notebook."""
        return [a for a in hidden.names(self.checks_dir) if self.source_notebook(a).is_file()]

    def hidden_checks(self, assignment: str):
        return hidden.load(assignment, self.checks_dir)

    # nbgrader ---------------------------------------------------------------------------------------------
    @property
    def config(self) -> Config:
        if self._config is None:
            cfg = PyFileConfigLoader("nbgrader_config.py", path=str(self.root)).load_config()
            cfg.CourseDirectory.root = str(self.root)
            self._config = cfg
        return self._config

    @property
    def db_url(self) -> str:
        url = self.config.CourseDirectory.get("db_url")
        return url if isinstance(url, str) and url else f"sqlite:///{self.root / 'gradebook.db'}"

    @property
    def course_id(self) -> str:
        cid = self.config.CourseDirectory.get("course_id")
        return cid if isinstance(cid, str) else ""

    def check_gradebook(self) -> None:
        """Complete a gradebook left half-created, once per Course (see autograder.gradebook_repair); a gradebook
        that cannot be repaired safely raises GradebookError with what to do."""
        from autograder.gradebook_repair import repair

        if not self._gradebook_checked:
            note = repair(self.db_url)
            if note:
                print(f"{self.db_url}: {note}", file=sys.stderr)
            self._gradebook_checked = True

    def api(self, extra: Config | None = None):
        from nbgrader.apps import NbGraderAPI

        self.check_gradebook()
        cfg = Config(self.config)
        if extra is not None:
            cfg.merge(extra)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            api = NbGraderAPI(config=cfg)
        api.log.setLevel(logging.ERROR)
        return api

    def gradebook(self):
        from nbgrader.api import Gradebook

        self.check_gradebook()
        return Gradebook(self.db_url, self.course_id or None)

    def release(self, assignment: str, sync_to: Path | None = None) -> Path:
        """nbgrader generate_assignment; optionally copy the student version to the learners' folder."""
        result = self.api().generate_assignment(assignment, force=True, create=True)
        if not result.get("success"):
            raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n{result.get('log', '')}\n"
                               f"{result.get('error', '')}")
        released = self.release_notebook(assignment)
        if sync_to is not None:
            sync_to.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(released, sync_to / released.name)
        return released

    def feedback(self, assignment: str, student: str | None = None) -> dict:
        return self.api().generate_feedback(assignment, student_id=student, force=True)

    def export_csv(self, to: Path) -> Path:
        from nbgrader.plugins import CsvExportPlugin

        plugin = CsvExportPlugin(config=self.config)
        plugin.to = str(to)
        with self.gradebook() as gb:
            plugin.export(gb)
        return to
