"""Each exercise's hidden checks: the instructor's reference solutions earn full marks, typical mistakes do not,
and manual grades of written answers survive a regrade."""
from __future__ import annotations

import pytest

from autograder import grader

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning", "ignore::DeprecationWarning")


def _grade(kit, assignment, submissions: dict, jobs=2):
    kit.released(assignment)
    for student, nb in submissions.items():
        kit.submit(student, assignment, nb)
    verdicts = grader.grade_assignment(kit.course, assignment, students=sorted(submissions), jobs=jobs)
    return {v.student: v for v in verdicts}


def _scores(v):
    return {f.function: f.score for f in v.functions}


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
    v = _grade(kit, A, {
        "ex4_honest": kit.honest(A),
        "ex4_no_temperature": kit.honest(A, sample_with_temperature=no_temperature),
        "ex4_global_rng": kit.honest(A, sample_with_temperature=global_rng),
        "ex4_no_start": kit.honest(A, generate_text=no_start),
        "ex4_last_char_only": kit.honest(A, generate_text=last_char_only),
    })
    assert _scores(v["ex4_honest"]) == {"sample_with_temperature": 3, "generate_text": 3}
    assert _scores(v["ex4_no_temperature"])["sample_with_temperature"] == 0
    assert "p**(1/T)" in v["ex4_no_temperature"].functions[0].reason
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
    v = _grade(kit, A, {"ex2_honest": kit.honest(A), "ex2_one_lstm": kit.honest(A, build_stacked_lstm=one_lstm)})
    assert _scores(v["ex2_honest"]) == {"build_stacked_lstm": 3, "build_bidirectional_lstm": 3}, \
        grader.summary_table(list(v.values()))
    assert "accuracy" in v["ex2_honest"].functions[0].reason
    assert _scores(v["ex2_one_lstm"])["build_stacked_lstm"] == 0
    assert "at least two LSTM layers" in v["ex2_one_lstm"].functions[0].reason


def test_ex3_reference_passes_and_off_by_one_windows_fail(kit):
    A = "ex3_time_series"
    off_by_one = ("def create_dataset(data, window_size):\n"
                  "    X = np.array([data[i:i + window_size] for i in range(len(data) - window_size + 1)])\n"
                  "    return X[..., None], np.asarray(data[window_size - 1:])\n")
    shuffled = ("def chronological_split(series, val_fraction, test_fraction):\n"
                "    s = np.random.default_rng(0).permutation(series)\n"
                "    n = len(s); a = n - int(n * val_fraction) - int(n * test_fraction)\n"
                "    return s[:a], s[a:a + int(n * val_fraction)], s[a + int(n * val_fraction):]\n")
    v = _grade(kit, A, {"ex3_honest": kit.honest(A),
                        "ex3_mistakes": kit.honest(A, create_dataset=off_by_one, chronological_split=shuffled)})
    assert _scores(v["ex3_honest"]) == {"create_dataset": 2, "chronological_split": 2, "persistence_mae": 1,
                                        "build_forecaster": 3}, grader.summary_table(list(v.values()))
    assert "persistence" in v["ex3_honest"].functions[-1].reason
    assert _scores(v["ex3_mistakes"])["create_dataset"] == 0
    assert _scores(v["ex3_mistakes"])["chronological_split"] == 0


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


def test_ex5_reference_passes_and_an_unmasked_layer_fails(kit):
    A = "ex5_attention"
    answers = kit.answers(A)
    unmasked = answers["attention_layer"].replace("if mask is not None:", "if False:")
    assert GOOD_CONFIG in answers["attention_layer"]
    patched_load = answers["attention_layer"].replace(GOOD_CONFIG, PATCHED_LOAD)
    v = _grade(kit, A, {"ex5_honest": kit.honest(A), "ex5_unmasked": kit.honest(A, attention_layer=unmasked),
                        "ex5_patched_load": kit.honest(A, attention_layer=patched_load)})
    table = grader.summary_table(list(v.values()))
    assert _scores(v["ex5_honest"]) == {"AttentionLayer": 3, "AttentionLayer serialisation": 2,
                                        "build_attention_model": 3}, table
    assert "round trip" in v["ex5_honest"].functions[1].reason
    assert _scores(v["ex5_unmasked"])["AttentionLayer"] == 0
    assert _scores(v["ex5_unmasked"])["AttentionLayer serialisation"] == 2
    # the load_model patch no longer helps: the fresh process reads the file, and the file lacks `units`
    assert _scores(v["ex5_patched_load"]) == {"AttentionLayer": 3, "AttentionLayer serialisation": 0,
                                              "build_attention_model": 3}, table
    reason = v["ex5_patched_load"].functions[1].reason
    assert grader.AFTER_RELOAD in reason and "shape" in reason, reason
