"""The learner's JupyterLab (`make lab`): the course's settings are installed and used, nbgrader's tools are off."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from lab_server import REPO_ROOT, make_target

OVERRIDES = REPO_ROOT / "jupyter" / "overrides.json"
INSTALLED = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
PREVIEW = {"@jupyterlab/docmanager-extension:plugin": {"defaultViewers": {"markdown": "Markdown Preview"}}}
NO_NEWS = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}}


def test_the_setup_installs_the_course_settings_into_the_environment():
    shipped = json.loads(OVERRIDES.read_text())
    assert PREVIEW.items() <= shipped.items() and NO_NEWS.items() <= shipped.items()
    assert INSTALLED.is_file(), f"{INSTALLED} missing: `make lab` / `make test` install it from {OVERRIDES}"
    assert json.loads(INSTALLED.read_text()) == shipped, f"{INSTALLED} is stale: run make {INSTALLED}"


def test_make_lab_opens_the_course_map_as_a_preview_without_news_or_instructor_tools(tmp_path):
    with make_target("lab", tmp_path / "lab.log") as lab:
        docmanager = lab.get_json("/lab/api/settings/@jupyterlab/docmanager-extension:plugin")
        assert docmanager["schema"]["properties"]["defaultViewers"]["default"] == {"markdown": "Markdown Preview"}
        news = lab.get_json("/lab/api/settings/@jupyterlab/apputils-extension:notification")
        assert news["schema"]["properties"]["fetchNews"]["default"] == "false"
        status, page = lab.get("/lab/tree/notebooks/README.md")
        assert status == 200
        config = json.loads(re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>',
                                      page, re.S).group(1))
        assert "@jupyter/nbgrader" in config["disabledExtensions"]          # no Formgrader, no Create Assignment
        assert lab.get("/formgrader")[0] == 404
        assert lab.get("/assignments")[0] == 404
        assert lab.get("/api/contents/notebooks/README.md")[0] == 200
    log = (tmp_path / "lab.log").read_text()
    assert "nbgrader" not in log.lower(), log[-3000:]    # no "no nbgrader_config.py", no "unwritable exchange"
