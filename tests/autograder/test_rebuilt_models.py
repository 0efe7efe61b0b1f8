"""The Keras exercises' verdicts rest on the saved model, not on what the submission's process says.

ex2 and ex3: the learner's code builds, compiles, trains and saves the model; the trusted process reads the
architecture from the saved config (autograder.saved_model); the hidden test inputs go only to a fresh sandbox that
rebuilds the model from Keras' own layers and runs none of the submission's code. First the config reader on
hand-written configs (fast), then one graded batch per exercise of attacks that passed before and fair solutions
that must keep passing."""
from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from autograder import grader, hidden, saved_model, stages
from autograder.protocol import dict_fields
from autograder.references import prepare

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning", "ignore::DeprecationWarning")


def _layer(cls, name, module="keras.layers", inbound=None, **config):
    out = {"module": module, "class_name": cls, "config": {"name": name, **config}, "registered_name": None}
    if inbound is not None:
        out.update(name=name, inbound_nodes=[{"args": [{"class_name": "__keras_tensor__",
                                                        "config": {"keras_history": [src, 0, 0]}} for src in inbound],
                                              "kwargs": {}}])
    return out


def _sequential(*layers):
    return {"module": "keras", "class_name": "Sequential", "config": {"name": "m", "layers": list(layers)},
            "registered_name": None}


def _functional(layers, inputs, outputs):
    return {"module": "keras.src.models.functional", "class_name": "Functional", "registered_name": "Functional",
            "config": {"name": "f", "layers": layers, "input_layers": [[n, 0, 0] for n in inputs],
                       "output_layers": [[n, 0, 0] for n in outputs]}}


def _graph(config):
    return saved_model.graph(saved_model.parse(json.dumps(config)))


LSTM_CHAIN = lambda kind: saved_model.is_layer(kind, "LSTM")   # noqa: E731 - as ex2's judge counts


def test_a_sequential_path_in_order_with_wrappers_named_by_what_they_wrap():
    g = _graph(_sequential(_layer("InputLayer", "in"), _layer("Embedding", "e"), _layer("LSTM", "a"),
                           {**_layer("Bidirectional", "b"), "config": {"name": "b", "layer": _layer("LSTM", "f")}},
                           _layer("Dense", "d")))
    assert saved_model.describe(g) == "InputLayer -> Embedding -> LSTM -> Bidirectional(LSTM) -> Dense"
    assert g.longest_chain(LSTM_CHAIN) == 2


def test_side_by_side_lstms_are_not_stacked_and_an_unused_branch_is_not_on_the_path():
    layers = [_layer("InputLayer", "in", inbound=[]), _layer("Embedding", "e", inbound=["in"]),
              _layer("LSTM", "a", inbound=["e"]), _layer("LSTM", "b", inbound=["e"]),
              _layer("Concatenate", "c", inbound=["a", "b"]), _layer("Dense", "d", inbound=["c"]),
              _layer("LSTM", "unused", inbound=["e"])]
    g = _graph(_functional(layers, ["in"], ["d"]))
    assert g.longest_chain(LSTM_CHAIN) == 1
    assert "e:unused" not in g.on_path() and len(g.on_path()) == 6


def test_a_nested_model_is_expanded_into_the_path():
    inner = _sequential(_layer("LSTM", "x"), _layer("LSTM", "y"))
    layers = [_layer("InputLayer", "in", inbound=[]), _layer("Embedding", "e", inbound=["in"]),
              {**inner, "name": "inner", "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__",
                                                                       "config": {"keras_history": ["e", 0, 0]}}]}]},
              _layer("Dense", "d", inbound=["inner"])]
    g = _graph(_functional(layers, ["in"], ["d"]))
    assert saved_model.describe(g) == "InputLayer -> Embedding -> LSTM -> LSTM -> Dense"
    assert g.longest_chain(LSTM_CHAIN) == 2


@pytest.mark.parametrize("config, why", [
    (_sequential(_layer("ReviewLSTM", "r", module=None)), "is of class ReviewLSTM, defined in the notebook"),
    (_sequential({**_layer("ReviewLSTM", "r", module="keras.layers"), "registered_name": "Custom>ReviewLSTM"}),
     "is of class ReviewLSTM"),
    (_sequential(_layer("Lambda", "l")), "is a Lambda layer"),
    ({"module": "builtins", "class_name": "MyModel", "config": {"layers": []}, "registered_name": "MyModel"},
     "is of class MyModel"),
    (_sequential({**_layer("Bidirectional", "b"), "config": {"name": "b", "layer": _layer("Mine", "m", module=None)}}),
     "is of class Mine"),
    ([1, 2], "does not describe a model"),
])
def test_a_class_that_is_not_keras_own_is_refused_with_what_to_change(config, why):
    assert why in saved_model.refusal(json.dumps(config))


def test_a_file_that_is_not_a_keras_archive_is_refused():
    with pytest.raises(saved_model.Refused, match="not a Keras model archive"):
        saved_model.read_config(b"not a zip")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("config.json", "x" * (saved_model.MAX_CONFIG_BYTES + 1))
    with pytest.raises(saved_model.Refused, match="larger than"):
        saved_model.read_config(buf.getvalue())
    assert "not valid JSON" in saved_model.refusal("{")


@pytest.mark.parametrize("assignment", ["ex2_text_classification", "ex3_time_series"])
def test_no_stage_that_runs_learner_code_receives_the_hidden_test_inputs(kit, assignment):
    kit.released(assignment)
    prep = prepare(kit.course, assignment)
    answers = kit.answers(assignment)
    for task in (t for t in prep.tasks if t.rebuild):
        first = stages.job_for(prep, task, answers, prep.setup, task.harness)
        again = stages.rebuild_job_for(prep, task)
        assert first.cells and all("x_test" not in dict_fields(c) for c in first.cases)
        assert again.cells == [] and again.preamble == stages.REBUILD_PREAMBLE and again.requires is None
        assert all("x_test" in dict_fields(c) for c in again.cases)


def _grade(kit, assignment, submissions: dict):
    kit.released(assignment)
    for student, nb in submissions.items():
        kit.submit(student, assignment, nb)
    verdicts = grader.grade_assignment(kit.course, assignment, students=sorted(submissions), jobs=2)
    return {v.student: {f.function: (f.score, f.reason) for f in v.functions} for v in verdicts}


STACKED_HEAD = "def build_stacked_lstm(vocab_size, sequence_length):\n"
COMPILE = "    m.compile('adam', 'binary_crossentropy', metrics=['accuracy'])\n    return m\n"
SMALL_STACK = ("        layers.Embedding(vocab_size, 8), layers.LSTM(4, return_sequences=True),\n"
               "        layers.LSTM(4), ")
NO_BIDIRECTIONAL = "def build_bidirectional_lstm(vocab_size, sequence_length):\n    raise NotImplementedError\n"
EX2 = {
    # attacks: each passed (or could pass) a check of the layers' names or types in the submission's process
    "side_by_side": (False, "two LSTM layers one after the other", STACKED_HEAD +
                     "    i = keras.Input((sequence_length,), dtype='int32')\n"
                     "    e = layers.Embedding(vocab_size, 16)(i)\n"
                     "    c = layers.Concatenate()([layers.LSTM(8)(e), layers.LSTM(8)(e)])\n"
                     "    m = keras.Model(i, layers.Dense(1, activation='sigmoid')(c))\n" + COMPILE),
    "named_lstm": (False, "found 0", STACKED_HEAD +
                   "    m = keras.Sequential([keras.Input((sequence_length,), dtype='int32'),\n"
                   "        layers.Embedding(vocab_size, 16), layers.GlobalAveragePooling1D(name='lstm'),\n"
                   "        layers.Dense(8, name='lstm_2'), layers.Dense(1, activation='sigmoid')])\n" + COMPILE),
    "fit_substitution": (False, "is of class Impostor, defined in the notebook",
                         "class Impostor(keras.Sequential):\n"
                         "    def fit(self, x, y, **kw):\n"
                         "        self.rate = float(np.mean(y))\n"
                         "    def predict(self, x, **kw):\n"
                         "        return np.full((len(x), 1), self.rate, np.float32)\n\n\n" + STACKED_HEAD +
                         "    m = Impostor([keras.Input((sequence_length,), dtype='int32'),\n" + SMALL_STACK +
                         "layers.Dense(1, activation='sigmoid')])\n" + COMPILE),
    "forged_file": (False, "not a Keras model archive",
                    "keras.Model.save = lambda self, path, *a, **k: open(path, 'wb').write(b'forged')\n\n\n" +
                    STACKED_HEAD + "    m = keras.Sequential([keras.Input((sequence_length,), dtype='int32'),\n" +
                    SMALL_STACK + "layers.Dense(1, activation='sigmoid')])\n" + COMPILE),
    "lambda_layer": (False, "is a Lambda layer", STACKED_HEAD +
                     "    m = keras.Sequential([keras.Input((sequence_length,), dtype='int32'),\n" + SMALL_STACK +
                     "layers.Lambda(lambda t: t * 1.0), layers.Dense(1, activation='sigmoid')])\n" + COMPILE),
    # fair: the functional API, a Dropout between the LSTMs
    "functional_with_dropout": (True, "accuracy", STACKED_HEAD +
                                "    i = keras.Input((sequence_length,), dtype='int32')\n"
                                "    h = layers.Embedding(vocab_size, 32, mask_zero=True)(i)\n"
                                "    h = layers.Dropout(0.1)(layers.LSTM(32, return_sequences=True)(h))\n"
                                "    m = keras.Model(i, layers.Dense(1, activation='sigmoid')(layers.LSTM(32)(h)))\n"
                                + COMPILE),
}


def _check(kit, assignment, function, submissions, **others):
    """Grade one submission per entry of ``submissions`` (name -> (passes, reason fragment, code of
    ``function``)), the other functions' answers from ``others`` or the reference; check each verdict."""
    verdicts = _grade(kit, assignment, {name: kit.honest(assignment, **others, **{function: code})
                                        for name, (_, _, code) in submissions.items()})
    for name, (passes, fragment, _) in submissions.items():
        score, reason = verdicts[name][function]
        assert (score > 0) == passes and fragment in reason, (name, score, reason)


def test_ex2_verdicts_rest_on_the_saved_model(kit):
    _check(kit, "ex2_text_classification", "build_stacked_lstm", EX2, build_bidirectional_lstm=NO_BIDIRECTIONAL)


FORECASTER_HEAD = "def build_forecaster(window_size, n_features):\n"
EX3 = {
    "no_recurrent_layer": (False, "has no recurrent layer", FORECASTER_HEAD +
                           "    m = keras.Sequential([keras.Input((window_size, n_features)), layers.Flatten(),\n"
                           "        layers.Dense(16, activation='relu'), layers.Dense(1)])\n"
                           "    m.compile('adam', 'mse')\n    return m\n"),
    "reads_the_next_window": (False, "is of class PeekNext, defined in the notebook",
                              "class PeekNext(keras.layers.Layer):\n"
                              "    def call(self, x):\n"
                              "        nxt = keras.ops.concatenate([x[1:, -1:, 0], x[-1:, -1:, 0]], axis=0)\n"
                              "        return nxt\n\n\n" + FORECASTER_HEAD +
                              "    i = keras.Input((window_size, n_features))\n"
                              "    h = layers.LSTM(4)(i)\n"
                              "    m = keras.Model(i, layers.Add()([layers.Dense(1)(h), PeekNext()(i)]))\n"
                              "    m.compile('adam', 'mse')\n    return m\n"),
    "gru_functional": (True, "persistence", FORECASTER_HEAD +
                       "    i = keras.Input((window_size, n_features))\n"
                       "    m = keras.Model(i, layers.Dense(1)(layers.GRU(32)(i)))\n"
                       "    m.compile(keras.optimizers.Adam(0.005), 'mse')\n    return m\n"),
}


def test_ex3_verdicts_rest_on_the_saved_model(kit):
    _check(kit, "ex3_time_series", "build_forecaster", EX3)


def test_every_rebuild_task_carries_a_saved_model_and_hides_its_test_inputs():
    for name in hidden.names():
        for task in hidden.load(name).TASKS:
            if task.rebuild:
                assert task.reload_harness and task.carry and task.rebuild_only == ("x_test",)
                assert np.all([c.endswith(".keras") for c in task.carry])
