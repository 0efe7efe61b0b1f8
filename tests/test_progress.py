"""course_utils.progress: live status lines that leave one output in a notebook and few lines in a log."""
import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

keras = pytest.importorskip("keras")

from course_utils.progress import TrainingProgress, progress  # noqa: E402


def test_progress_yields_every_item_and_logs_only_start_and_end(capsys):
    assert list(progress(range(5), "grid")) == [0, 1, 2, 3, 4]     # pytest's stdout is not a terminal
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "grid: 0 of 5 done"
    assert lines[-1].startswith("grid: 5 of 5 done in ") and len(lines) <= 3   # at most one update a minute


def test_training_progress_reports_the_epochs_run(capsys):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    x = np.zeros((8, 3), "float32")
    model.fit(x, x[:, :1], epochs=2, batch_size=4, verbose=0, callbacks=[TrainingProgress("tiny")])
    assert capsys.readouterr().out.splitlines()[-1].startswith("tiny: 2 epochs done in ")


def test_in_a_notebook_the_line_is_one_output_holding_the_final_state():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import time\n"
        "from course_utils.progress import StatusLine, progress\n"
        "for i in progress(range(30), 'grid'):\n"
        "    time.sleep(0.05)\n"
        "line = StatusLine(every=0)\n"
        "for i in range(50):\n"
        "    line.update(f'step {i}')\n"
        "line.done('all 50 steps done')\n")])
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    outputs = nb.cells[0].outputs
    assert [o.output_type for o in outputs] == ["display_data", "display_data"], outputs
    assert outputs[0].data["text/plain"].startswith("grid: 30 of 30 done in ")
    assert outputs[1].data["text/plain"] == "all 50 steps done"
