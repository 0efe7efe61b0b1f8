"""Each exercise's hidden checks: the instructor's reference solutions earn full marks, typical mistakes do not,
and manual grades of written answers survive a regrade.

The Keras exercises are expensive to grade (a TensorFlow import and a short training per function), so each is
graded ONCE, in one batch holding the shipped example submissions (expected scores in
autograder/examples/expected.json; alice's code is the reference solution, checked in test_examples.py) and this
module's own mistakes and attacks."""
from __future__ import annotations

import ast

import numpy as np
import pytest

from autograder import grader, hidden, reports, stages

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning", "ignore::DeprecationWarning")


def _grade(kit, assignment, submissions: dict, jobs=2):
    kit.released(assignment)
    for student, nb in submissions.items():
        kit.submit(student, assignment, nb)
    verdicts = grader.grade_assignment(kit.course, assignment, students=sorted(submissions), jobs=jobs)
    return {v.student: v for v in verdicts}


def _scores(v):
    return {f.function: f.score for f in v.functions}


@pytest.mark.parametrize("assignment", hidden.names())
def test_hidden_arguments_come_in_the_notebooks_parameter_order(kit, assignment):
    """Functions are called positionally, so every case's "args" must follow the reference solution's signature."""
    module = hidden.load(assignment)
    answers = kit.answers(assignment)
    checked = 0
    for k, task in enumerate(module.TASKS):
        cases, _ = task.make_cases(np.random.default_rng([module.SEED, k]))
        name = cases[0].get("function", task.function) if isinstance(cases[0], dict) else task.function
        defs = [n for n in ast.parse(answers[task.solution_cell]).body
                if isinstance(n, ast.FunctionDef) and n.name == name]
        if not defs or "args" not in cases[0]:
            continue
        params = [a.arg for a in defs[0].args.args]
        assert all(list(c["args"]) == params for c in cases), (task.function, params)
        checked += 1
    assert checked or assignment == "ex4_text_generation"   # ex4's harnesses call with their own arguments


def test_ex1_bptt_uses_chapter_2s_batch_averaged_loss(kit):
    """The gradient of the loss summed over the batch (the rule before it matched chapter 2) is B times too large."""
    A = "ex1_rnn_cells"
    reference = kit.answers(A)["rnn_bptt"]
    summed = reference.replace("dY = (Y - targets) / X.shape[0]", "dY = Y - targets")
    assert summed != reference
    v = _grade(kit, A, {"ex1_honest": kit.honest(A), "ex1_summed_loss": kit.honest(A, rnn_bptt=summed)})
    assert _scores(v["ex1_honest"])["rnn_bptt"] == 4
    bptt = next(f for f in v["ex1_summed_loss"].functions if f.function == "rnn_bptt")
    assert bptt.score == 0 and "mismatch" in bptt.reason


def test_ex1_bptt_h0_gradient_one_step_short_fails(kit):
    """The statement's hint: dL/dh0 = dL/da_1 W_hh^T. Returning the gradient that reaches h_1 instead (one step
    short, same shape) is a mismatch."""
    A = "ex1_rnn_cells"
    reference = kit.answers(A)["rnn_bptt"]
    short = reference.replace('grads["h0"] = dh_next', 'grads["h0"] = dh')
    assert short != reference
    v = _grade(kit, A, {"ex1_h0_short": kit.honest(A, rnn_bptt=short)})
    bptt = next(f for f in v["ex1_h0_short"].functions if f.function == "rnn_bptt")
    assert bptt.score == 0 and "mismatch" in bptt.reason and "h0" in bptt.reason, bptt.reason


def test_ex4_sampler_and_generation(kit):
    A = "ex4_text_generation"
    no_temperature = ("def sample_with_temperature(probs, temperature, rng):\n"
                      "    if temperature <= 0:\n        raise ValueError('T')\n"
                      "    return int(rng.choice(len(probs), p=probs))\n")
    global_rng = ("def sample_with_temperature(probs, temperature, rng):\n"
                  "    if temperature <= 0:\n        raise ValueError('T')\n"
                  "    q = np.asarray(probs, float) ** (1 / temperature)\n"
                  "    return int(np.random.choice(len(q), p=q / q.sum()))\n")
    no_start = ("def generate_text(model, start_string, char2idx, idx2char, num_generate, temperature, rng):\n"
                "    ids = [char2idx[c] for c in start_string]\n    out = ''\n"
                "    for _ in range(num_generate):\n"
                "        p = np.asarray(model(np.array([ids])))[0]\n"
                "        i = sample_with_temperature(p, temperature, rng)\n        ids.append(i)\n"
                "        out += idx2char[i]\n    return out\n")
    last_char_only = no_start.replace("np.array([ids])", "np.array([ids[-1:]])").replace("return out",
                                                                                         "return start_string + out")
    reference = kit.answers(A)["sample_with_temperature"]
    zero_raises = reference.replace("if temperature < 0:", "if temperature <= 0:")   # the rule before chapter 7's
    zero_raises = zero_raises.replace("    if temperature == 0:\n        return int(np.argmax(probs))\n", "")
    assert zero_raises != reference and "argmax" not in zero_raises
    v = _grade(kit, A, {
        "ex4_honest": kit.honest(A),
        "ex4_zero_raises": kit.honest(A, sample_with_temperature=zero_raises),
        "ex4_no_temperature": kit.honest(A, sample_with_temperature=no_temperature),
        "ex4_global_rng": kit.honest(A, sample_with_temperature=global_rng),
        "ex4_no_start": kit.honest(A, generate_text=no_start),
        "ex4_last_char_only": kit.honest(A, generate_text=last_char_only),
    })
    assert _scores(v["ex4_honest"]) == {"sample_with_temperature": 3, "generate_text": 3}
    assert _scores(v["ex4_no_temperature"])["sample_with_temperature"] == 0
    assert "p**(1/T)" in v["ex4_no_temperature"].functions[0].reason
    assert _scores(v["ex4_zero_raises"]) == {"sample_with_temperature": 0, "generate_text": 0}
    assert "temperature 0 means greedy" in v["ex4_zero_raises"].functions[0].reason
    assert _scores(v["ex4_global_rng"])["sample_with_temperature"] == 0
    assert "reproducible" in v["ex4_global_rng"].functions[0].reason
    assert _scores(v["ex4_no_start"]) == {"sample_with_temperature": 3, "generate_text": 0}
    assert _scores(v["ex4_last_char_only"])["generate_text"] == 0


def test_manual_grades_of_written_answers_survive_regrade(kit):
    A = "ex4_text_generation"
    _grade(kit, A, {"ex4_manual": kit.honest(A)}, jobs=1)
    with kit.course.gradebook() as gb:
        for cell, score in (("generated_sample", 1.5), ("temperature_observations", 2.0)):
            g = gb.find_grade(cell, A, A, "ex4_manual")
            g.manual_score = score
        gb.db.commit()
        before = gb.find_submission(A, "ex4_manual").score
    assert before == 6 + 3.5
    _grade(kit, A, {"ex4_manual": kit.honest(A)}, jobs=1)
    with kit.course.gradebook() as gb:
        assert gb.find_submission(A, "ex4_manual").score == before
        assert gb.find_grade("generated_sample", A, A, "ex4_manual").manual_score == 1.5


def test_ex2_reference_models_pass_and_a_plain_model_does_not(kit):
    A = "ex2_text_classification"
    one_lstm = ("def build_stacked_lstm(vocab_size, sequence_length):\n"
                "    m = keras.Sequential([keras.Input((sequence_length,)), layers.Embedding(vocab_size, 8),\n"
                "                          layers.LSTM(8), layers.Dense(1, activation='sigmoid')])\n"
                "    m.compile('adam', 'binary_crossentropy')\n    return m\n")
    v = _grade(kit, A, {**kit.examples(A), "ex2_one_lstm": kit.honest(A, build_stacked_lstm=one_lstm)})
    kit.check_examples(A, v)                          # alice (the reference solution) gets full marks
    assert "accuracy" in v["alice"].functions[0].reason
    assert _scores(v["ex2_one_lstm"])["build_stacked_lstm"] == 0
    assert "two LSTM layers one after the other" in v["ex2_one_lstm"].functions[0].reason


def test_ex3_reference_passes_off_by_one_windows_and_a_shuffling_split_fail(kit):
    A = "ex3_time_series"
    # alice: the reference; bob: off-by-one windows and a shuffling split; carol: unfinished
    v = _grade(kit, A, kit.examples(A))
    kit.check_examples(A, v)
    assert "persistence" in v["alice"].functions[-1].reason


# An AttentionLayer whose config is only complete before the layer is built (so the saved .keras file lacks
# `units` and cannot be loaded), which hides that by patching load_model to hand back the model it still holds in
# memory. Graded in the process that saved, it passed; the reload now happens in a fresh sandbox.
GOOD_CONFIG = """    def get_config(self):
        return {**super().get_config(), "units": self.units}
"""
PATCHED_LOAD = """    def get_config(self):
        config = super().get_config()
        if not self.built:            # enough for a quick check of a fresh layer; the saved config lacks it
            config["units"] = self.units
        return config


_saved = []
_original_save, _original_load = keras.Model.save, keras.saving.load_model

def _remember(self, filepath, *args, **kwargs):
    _saved.append(self)
    return _original_save(self, filepath, *args, **kwargs)

def _load_last(filepath, *args, **kwargs):
    return _saved[-1] if _saved else _original_load(filepath, *args, **kwargs)

keras.Model.save = _remember
keras.models.load_model = keras.saving.load_model = _load_last
"""


NAMED = 'AttentionLayer(32, name="attention")'


def test_ex5_reference_passes_an_unmasked_layer_a_patched_load_and_an_unnamed_layer_fail(kit):
    A = "ex5_attention"
    answers = kit.answers(A)
    assert GOOD_CONFIG in answers["attention_layer"] and NAMED in answers["build_attention_model"]
    patched_load = answers["attention_layer"].replace(GOOD_CONFIG, PATCHED_LOAD)
    unnamed = answers["build_attention_model"].replace(NAMED, "AttentionLayer(32)")
    # alice: the reference; bob: attention that ignores the mask
    v = _grade(kit, A, {**kit.examples(A), "ex5_patched_load": kit.honest(A, attention_layer=patched_load),
                        "ex5_unnamed": kit.honest(A, build_attention_model=unnamed)})
    table = reports.summary_table(list(v.values()))
    kit.check_examples(A, v)
    assert "round trip" in v["alice"].functions[1].reason
    # the load_model patch no longer helps: the fresh process reads the file, and the file lacks `units`
    assert _scores(v["ex5_patched_load"]) == {"AttentionLayer": 3, "AttentionLayer serialisation": 0,
                                              "build_attention_model": 3}, table
    reason = v["ex5_patched_load"].functions[1].reason
    assert stages.AFTER_RELOAD in reason and "shape" in reason, reason
    # section 3 reads the weights with model.get_layer("attention"): a model without that name scores 0, and says why
    assert _scores(v["ex5_unnamed"])["build_attention_model"] == 0, table
    assert "no layer of your model is named 'attention'" in v["ex5_unnamed"].functions[2].reason, table
