# nbgrader configuration of the course (used by `python -m autograder ...` and by plain `nbgrader` commands run here).
c = get_config()  # noqa: F821  (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "rnn-course"
# The gradebook: SQLite next to this file by default. For a large course point it at PostgreSQL (any SQLAlchemy URL):
# c.CourseDirectory.db_url = "postgresql+psycopg2://grader:secret@db.example.org:5432/rnn_course"
# (or set it with `python -m autograder --db-url ...`; the driver, psycopg2-binary, is in requirements.txt).

# Grade on a Dask distributed cluster instead of this machine (the same as `python -m autograder grade --scheduler ...`;
# see "Grading on several machines" in autograder/README.md):
# c.Autograder.scheduler = "tcp://grader-head.example.org:8786"

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# A learner who deletes a test cell gets it back at grading time (nbgrader's own mechanism).
c.OverwriteCells.add_missing_cells = True

# Used only by plain `nbgrader autograde` (the sandboxed grader does not execute notebooks).
c.Execute.timeout = 120

# Formgrader's manual-grading page loads MathJax from the course's own files (jupyter-server-mathjax, served by the
# instructor's JupyterLab), not from a CDN, so it works offline: our formgrade/mathjax.html.j2 comes before
# nbconvert's. nbgrader's own templates (formgrade, feedback) stay second in the list; feedback is unchanged.
import os as _os                       # noqa: E402
import autograder as _autograder       # noqa: E402
import nbgrader as _nbgrader           # noqa: E402

c.HTMLExporter.extra_template_basedirs = [
    _os.path.join(_os.path.dirname(_autograder.__file__), "formgrader_templates"),
    _os.path.join(_os.path.dirname(_nbgrader.__file__), "server_extensions", "formgrader", "templates"),
]
