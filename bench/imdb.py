"""IMDB training speed: the course's best recurrent model against the widely used Keras example configuration,
and the NBSVM baseline.

    python bench/imdb.py                                  # the full comparison (run it under the CPU lock)
    python bench/imdb.py --max-train-seconds 300          # cap each configuration's training time
    python bench/imdb.py --skip-runs                      # only the per-step breakdown (about 2 minutes)
    python bench/imdb.py --subset 2000 --breakdown-steps 3 --max-train-seconds 20   # a smoke test

Every configuration trains on the same 20,000 training reviews, is checked on the same 5,000 validation reviews
(carved from the training reviews) and tested on the 25,000 test reviews:

* **keras-example**: the Keras "Bidirectional LSTM on IMDB" example: 20,000-word vocabulary, the last 200 tokens
  (``pad_sequences`` defaults: pre-padding, pre-truncation), no masking, ``Embedding(20000, 128)`` ->
  ``Bidirectional(LSTM(64, return_sequences=True))`` -> ``Bidirectional(LSTM(64))`` -> ``Dense(1)``, Adam, batch 32.
* **course**: chapter 8's whole-review model: 20,000-word vocabulary, the first 600 words, masking,
  length-bucketed batches of 64, ``Embedding(20000, 50)`` initialised with GloVe and fine-tuned ->
  ``SpatialDropout1D(0.25)`` -> ``Bidirectional(GRU(64))`` -> concat pooling ([last states, max, mean]) ->
  ``Dropout(0.3)`` -> ``Dense(1)``, Adam (2e-3).
* **nbsvm**: NBSVM on word uni- and bigrams (chapter 8's baseline) with ``C=1``, ``beta=0.5``, the best setting of
  the exploration on validation (chapter 8 chooses its own on validation): seconds to fit.

Reported per recurrent configuration: training seconds until the validation accuracy first reaches 0.85 and 0.90
(validation is checked every quarter epoch; the time spent validating is not counted; ``null`` if not reached
within ``--max-train-seconds``), seconds per epoch, test accuracy after the last epoch. The breakdown measures
milliseconds per training step of intermediate configurations of the Keras example and of chapter 8's BiGRU(32)
recipe (last 200 tokens) to show where the time goes.
Results are written to ``bench/results/imdb.json``; bench/README.md discusses them.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from course_utils import setup  # noqa: E402

TARGETS = (0.85, 0.90)


def encode_first(vectorizer, texts, length=600, batch=1000):
    """The first ``length`` ids of every text, padded with 0 at the end (chapter 8's whole-review encoding)."""
    out = np.zeros((len(texts), length), dtype="int32")
    for s in range(0, len(texts), batch):
        ids = vectorizer(texts[s:s + batch]).numpy()[:, :length]
        out[s:s + len(ids), :ids.shape[1]] = ids
    return out


def encode_last(vectorizer, texts, length=200, batch=1000):
    """The last ``length`` ids of every text, padded with 0 at the end."""
    from course_utils.truncation import KeepLastTokens

    keep = KeepLastTokens(length)
    return np.concatenate([keep(vectorizer(texts[s:s + batch])).numpy() for s in range(0, len(texts), batch)])


def pre_pad(ids_post):
    """Move the padding of end-padded rows to the front (what ``pad_sequences`` does by default)."""
    import keras

    return keras.utils.pad_sequences([row[row > 0] for row in ids_post], maxlen=ids_post.shape[1],
                                     padding="pre", truncating="pre")


def keras_example_model(vocab_size):
    import keras
    from keras import layers

    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(vocab_size, 128)(inputs)
    x = layers.Bidirectional(layers.LSTM(64, return_sequences=True))(x)
    x = layers.Bidirectional(layers.LSTM(64))(x)
    model = keras.Model(inputs, layers.Dense(1, activation="sigmoid")(x))
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def course_model(vocab_size, matrix=None, mask=True):
    import keras
    from keras import layers

    from course_utils.attention import AttentionLayer

    inputs = keras.Input(shape=(None,), dtype="int32")
    init = keras.initializers.Constant(matrix) if matrix is not None else "uniform"
    x = layers.Embedding(vocab_size, 50, mask_zero=mask, embeddings_initializer=init)(inputs)
    x = layers.Bidirectional(layers.GRU(32, return_sequences=True))(x)
    context, _ = AttentionLayer(32)(x)
    model = keras.Model(inputs, layers.Dense(1, activation="sigmoid")(context))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy", metrics=["accuracy"])
    return model


def whole_review_model(vocab_size, matrix):
    import keras
    from keras import layers

    from course_utils.pooling import ConcatPooling

    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(vocab_size, matrix.shape[1], mask_zero=True,
                         embeddings_initializer=keras.initializers.Constant(matrix))(inputs)
    x = layers.SpatialDropout1D(0.25)(x)
    seq, forward, backward = layers.Bidirectional(layers.GRU(64, return_sequences=True, return_state=True))(x)
    x = layers.Dropout(0.3)(layers.Concatenate()([forward, backward, ConcatPooling()(seq)]))
    model = keras.Model(inputs, layers.Dense(1, activation="sigmoid")(x))
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="binary_crossentropy", metrics=["accuracy"])
    return model


class ValidationClock:
    """A Keras callback: counts training seconds only, checks validation accuracy every ``every`` steps."""

    def __init__(self, evaluate, every, max_seconds):
        import keras

        outer = self

        class _CB(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                outer.train_seconds, outer.checks, outer.epoch_seconds, outer.capped = 0.0, [], [], False
                outer._t = time.perf_counter()

            def on_epoch_begin(self, epoch, logs=None):
                outer._epoch_start = outer.train_seconds

            def on_train_batch_end(self, batch, logs=None):
                if (batch + 1) % every:
                    return
                outer.train_seconds += time.perf_counter() - outer._t
                acc = evaluate(self.model)
                outer.checks.append((round(outer.train_seconds, 1), round(acc, 4)))
                print(f"    {outer.train_seconds:7.1f} s of training: validation accuracy {acc:.4f}", flush=True)
                if outer.train_seconds > max_seconds:
                    self.model.stop_training = outer.capped = True
                outer._t = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):       # also called for an epoch the cap cut short
                outer.train_seconds += time.perf_counter() - outer._t
                if not outer.capped:
                    outer.epoch_seconds.append(outer.train_seconds - outer._epoch_start)
                outer._t = time.perf_counter()

        self.callback = _CB()

    def seconds_to(self, target):
        return next((s for s, acc in self.checks if acc >= target), None)


def step_ms(model, batches, warmup=3):
    """Milliseconds per training step over ``batches`` (a list of (x, y)), after ``warmup`` steps."""
    for x, y in batches[:warmup]:
        model.train_on_batch(x, y)
    start = time.perf_counter()
    for x, y in batches[warmup:]:
        model.train_on_batch(x, y)
    return 1000 * (time.perf_counter() - start) / (len(batches) - warmup)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--max-train-seconds", type=float, default=600, help="cap per configuration")
    parser.add_argument("--breakdown-steps", type=int, default=15)
    parser.add_argument("--skip-runs", action="store_true", help="only the per-step breakdown")
    parser.add_argument("--skip-breakdown", action="store_true", help="only the training runs")
    parser.add_argument("--subset", type=int, default=None, help="reviews per split (a smaller run)")
    parser.add_argument("--only", choices=("course", "keras-example", "nbsvm"), help="run one configuration")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "imdb.json")
    args = parser.parse_args(argv)

    cfg = setup(verbose=False)
    import keras
    import tensorflow as tf

    from course_utils.datasets import load_glove, load_imdb
    from course_utils.pipelines import length_bucketed_dataset, length_sorted_dataset, predict_in_order
    from course_utils.text import make_word_vectorizer, vocabulary

    t0 = time.perf_counter()
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = load_imdb(validation_split=0.2, seed=cfg.seed,
                                                                     subset=args.subset)
    data = {}
    for name, vocab_size in (("course", 10_000), ("keras-example", 20_000)):
        vec = make_word_vectorizer(x_train, max_tokens=vocab_size, sequence_length=None)
        data[name] = dict(vec=vec, train=encode_last(vec, x_train), val=encode_last(vec, x_val),
                          test=encode_last(vec, x_test))
    for split in ("train", "val", "test"):           # the Keras example pads at the front, without a mask
        data["keras-example"][split] = pre_pad(data["keras-example"][split])
    glove = load_glove()
    glove_matrix, coverage = glove.embedding_matrix(vocabulary(data["course"]["vec"]))
    whole_vec = data["keras-example"]["vec"]                  # the same 20,000-word vocabulary
    whole = dict(train=encode_first(whole_vec, x_train), val=encode_first(whole_vec, x_val),
                 test=encode_first(whole_vec, x_test))
    whole_matrix, _ = glove.embedding_matrix(vocabulary(whole_vec))
    print(f"data ready in {time.perf_counter() - t0:.0f} s: {len(x_train):,d} train / {len(x_val):,d} val / "
          f"{len(x_test):,d} test reviews; GloVe coverage {coverage:.1%}", flush=True)

    n_train = len(y_train)
    results = {"machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}, "
                          f"TensorFlow {tf.__version__}, Keras {keras.__version__}",
               "date": time.strftime("%Y-%m-%d %H:%M"), "target_val_accuracies": list(TARGETS),
               "train_reviews": n_train, "runs": {}, "breakdown_ms_per_step": {}}

    # ---------------------------------------------------------------- where the time goes: ms per training step
    rng = np.random.default_rng(cfg.seed)
    steps = args.breakdown_steps + 3

    def fixed_batches(ids, bs):
        idx = rng.permutation(n_train)[:bs * steps]
        return [(ids[idx[i * bs:(i + 1) * bs]], y_train[idx[i * bs:(i + 1) * bs]]) for i in range(steps)]

    def bucketed_batches(ids, bs):
        ds = length_bucketed_dataset(ids, y_train, batch_size=bs, shuffle=True, seed=cfg.seed)
        return [(np.asarray(x), np.asarray(y)) for x, y in ds.take(steps)]

    cases = [
        ("keras-example model, fixed 200 steps, no mask, batch 32", "keras-example", None, 32, "fixed"),
        ("keras-example model, fixed 200 steps, no mask, batch 128", "keras-example", None, 128, "fixed"),
        ("course model, fixed 200 steps, no mask, batch 128", "course", False, 128, "fixed"),
        ("course model, fixed 200 steps, masked, batch 128", "course", True, 128, "fixed"),
        ("course model, length-bucketed, masked, batch 128", "course", True, 128, "bucketed"),
    ]
    print("\nwhere the time goes (ms per training step -> seconds per epoch of 20,000 reviews):", flush=True)
    for label, name, mask, bs, batching in ([] if args.skip_breakdown else cases):
        keras.utils.set_random_seed(cfg.seed)
        model = keras_example_model(20_000) if name == "keras-example" else course_model(10_000, glove_matrix, mask)
        ids = data[name]["train"]
        batches = fixed_batches(ids, bs) if batching == "fixed" else bucketed_batches(ids, bs)
        if batching == "fixed" and name == "course":
            batches = [(x, y) for x, y in batches]            # end-padded 200-token rows
        ms = step_ms(model, batches)
        per_epoch = ms / 1000 * n_train / bs
        results["breakdown_ms_per_step"][label] = dict(ms_per_step=round(ms, 1), s_per_epoch=round(per_epoch, 1))
        print(f"  {label:<60} {ms:7.1f} ms/step  -> {per_epoch:6.0f} s/epoch", flush=True)
        del model
        keras.backend.clear_session()

    # ---------------------------------------------------------------- the two full runs
    if not args.skip_runs:
        if args.only in (None, "nbsvm"):
            from course_utils.nbsvm import NBSVM

            start = time.perf_counter()
            nbsvm = NBSVM(ngrams=2, C=1.0, beta=0.5).fit(x_train, y_train)
            fit_seconds = time.perf_counter() - start
            results["runs"]["nbsvm"] = dict(
                features=nbsvm.n_features, fit_seconds=round(fit_seconds, 1),
                val_accuracy=round(float((nbsvm.predict(x_val) == y_val).mean()), 4),
                test_accuracy=round(float((nbsvm.predict(x_test) == y_test).mean()), 4))
            print(f"\nnbsvm: {results['runs']['nbsvm']}", flush=True)
        for name in ("course", "keras-example"):
            if args.only and name != args.only:
                continue
            d = whole if name == "course" else data[name]
            keras.utils.set_random_seed(cfg.seed)
            if name == "course":
                model = whole_review_model(len(whole_matrix), whole_matrix)
                train = length_bucketed_dataset(d["train"], y_train, batch_size=64, shuffle=True, seed=cfg.seed,
                                                boundaries=(64, 128, 192, 256, 384, 512))
                steps_per_epoch = sum(1 for _ in train)
                val_ds, _ = length_sorted_dataset(d["val"], y_val, batch_size=256)
                evaluate = lambda m: m.evaluate(val_ds, verbose=0)[1]  # noqa: E731
                fit_args = dict(x=train)
            else:
                model = keras_example_model(20_000)
                steps_per_epoch = int(np.ceil(n_train / 32))
                evaluate = lambda m: m.evaluate(d["val"], y_val, batch_size=256, verbose=0)[1]  # noqa: E731
                fit_args = dict(x=d["train"], y=y_train, batch_size=32, shuffle=True)
            clock = ValidationClock(evaluate, every=max(steps_per_epoch // 4, 1), max_seconds=args.max_train_seconds)
            print(f"\n{name}: {model.count_params():,d} parameters, {steps_per_epoch} steps per epoch", flush=True)
            model.fit(epochs=args.epochs, verbose=0, callbacks=[clock.callback], **fit_args)
            if name == "course":
                test_acc = float(((predict_in_order(model, d["test"])[:, 0] > 0.5) == y_test).mean())
            else:
                test_acc = float(model.evaluate(d["test"], y_test, batch_size=256, verbose=0)[1])
            completed = len(clock.epoch_seconds)
            per_epoch = (clock.epoch_seconds[0] if completed else
                         clock.train_seconds / (len(clock.checks) / 4 or 1))
            run = dict(parameters=model.count_params(),
                       seconds_to={str(t): clock.seconds_to(t) for t in TARGETS},
                       s_per_epoch=round(per_epoch, 1), epochs_completed=completed,
                       train_seconds=round(clock.train_seconds, 1), validation_checks=clock.checks,
                       test_accuracy=round(test_acc, 4), capped=clock.capped)
            results["runs"][name] = run
            reached = ", ".join(f"{t}: {run['seconds_to'][str(t)]} s" for t in TARGETS)
            print(f"{name}: training seconds to validation accuracy {reached}; {run['s_per_epoch']} s/epoch; "
                  f"test accuracy {test_acc:.4f}", flush=True)
            del model
            keras.backend.clear_session()
        runs = results["runs"]
        if {"course", "keras-example"} <= runs.keys():
            for t in TARGETS:
                a, b = runs["course"]["seconds_to"][str(t)], runs["keras-example"]["seconds_to"][str(t)]
                if a and b:
                    results.setdefault("speedup_to", {})[str(t)] = round(b / a, 2)
                    print(f"\nspeed-up to {t} validation accuracy: {b / a:.2f}x", flush=True)

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
