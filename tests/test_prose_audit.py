"""Every chapter's prose quotes only numbers its own stored outputs (or code) contain; see tests/prose_audit.py."""
import glob
import json
from pathlib import Path

import pytest

from prose_audit import audit_comparisons, audit_notebook

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(ROOT.glob("notebooks/[0-9][0-9]_*.ipynb"))
CHAPTER_NUMBERS = {int(p.name[:2]) for p in CHAPTERS}

# Numbers that may stand in prose without a printed output, and why. Keep this short: a measured number belongs in
# an output, and the prose points at it.
ALLOWED = {
    "02_bptt.ipynb": {"0.95": "a setting in a Check-yourself question, not a measurement"},
    "03_lstm_gru.ipynb": {"0.73": "sigma(1) = 0.731, a property of the sigmoid"},
    "04_keras_recurrent_layers.ipynb": {"1.24": "a NumPy version number",
                                        "0.3": "a setting in a Check-yourself question"},
    "06_time_series.ipynb": {"80 %": "series[:800] of the 1,000-point sine wave, in the code",
                             "0.99": "a hypothetical R^2 in a Check-yourself question"},
}


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: p.name)
def test_prose_numbers_come_from_the_notebooks_outputs(notebook):
    findings = audit_notebook(notebook, ALLOWED.get(notebook.name, {}), CHAPTER_NUMBERS)
    assert not findings, "numbers or references in the prose that no output of the notebook supports:\n" + \
        "\n".join(map(str, findings))


def test_every_allowed_number_is_still_in_its_notebook():
    for name, allowed in ALLOWED.items():
        text = "".join("".join(c["source"]) for c in json.loads((ROOT / "notebooks" / name).read_text())["cells"]
                       if c["cell_type"] == "markdown")
        stale = [n for n in allowed if n not in text]
        assert not stale, f"{name}: allow-list entries no longer in the prose: {stale}"


def _notebook(tmp_path, markdown, output, code="x = 1"):
    cells = [{"cell_type": "code", "source": code, "metadata": {}, "execution_count": 1,
              "outputs": [{"output_type": "stream", "name": "stdout", "text": output}]},
             {"cell_type": "markdown", "source": markdown, "metadata": {}}]
    path = tmp_path / "09_planted.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_the_audit_catches_a_planted_mismatch(tmp_path):
    printed = "test MAE 0.9361 of persistence; 547.2 s; 31.4% of the words; 1,322,337 params\n"
    good = "The GRU reaches 0.936 of persistence in 547 s; 31 % of the words; 1.3 million parameters."
    assert audit_notebook(_notebook(tmp_path, good, printed)) == []
    bad = "The GRU reaches 0.898 of persistence in about 360 s; 5 % better."
    found = audit_notebook(_notebook(tmp_path, bad, printed))
    assert [f.text for f in found] == ["0.898", "360 s", "5 %"]
    assert audit_notebook(_notebook(tmp_path, "learning rate 0.02", "", code="lr = 0.02")) == []  # a constant


def test_the_audit_catches_a_reference_to_a_missing_chapter(tmp_path):
    path = _notebook(tmp_path, "Encoder-decoder models follow in chapter 12; see chapters 1 and 3.", "")
    found = audit_notebook(path, chapters={1, 2, 3})
    assert [f.context for f in found] == ["no chapter 12 notebook"]
    assert audit_notebook(path, chapters={1, 3, 12}) == []


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: p.name)
def test_prose_ranks_no_pair_whose_paired_test_shows_no_difference(notebook):
    findings = audit_comparisons(notebook)
    assert not findings, "prose that ranks two models the paired test does not separate:\n" + \
        "\n".join(map(str, findings))


def test_the_comparison_audit_catches_a_ranking_the_test_does_not_show(tmp_path):
    printed = ("VERDICT on test (accuracy, 500 paired examples): BiLSTM vs LSTM: no difference shown  [...]\n"
               "VERDICT on test (accuracy, 500 paired examples): NBSVM vs LSTM: NBSVM is better than LSTM  [...]\n")
    fine = ("NBSVM is more accurate than the LSTM. The test shows no difference between the BiLSTM and the LSTM; "
            "the BiLSTM is not better than the LSTM.")
    assert audit_comparisons(_notebook(tmp_path, fine, printed)) == []
    bad = "The BiLSTM is at least as accurate as the LSTM, with half the weights."
    found = audit_comparisons(_notebook(tmp_path, bad, printed))
    assert [f.text for f in found] == ["bilstm vs lstm: no difference shown"]
