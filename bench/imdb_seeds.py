"""How much chapter 8's test accuracy depends on the seed: its final fit, repeated with other seeds.

    python bench/imdb_seeds.py                       # seeds 1, 2, 3 (run it under the CPU lock, ~25 minutes)
    python bench/imdb_seeds.py --subset 1000 --seeds 1 --epochs 1    # a smoke test

Chapter 8 chooses everything on validation (the whole-review model, 4 epochs, no checkpoint averaging), trains it
once more on all 25,000 training reviews with seed 42 and tests it once. One seed is one sample of the random
initialisation, dropout and data order; this script repeats that final fit, with nothing changed but the seed, and
tests each fit, to show the spread the chapter's one number comes from. Nothing here chooses anything: the recipe
and the epoch count are fixed, so reading the test set for each seed selects nothing. NBSVM (C=0.1, beta=0.75, the
setting chapter 8 chose on validation), fitted on the same 25,000 reviews, is tested beside them with McNemar's test.
Results go to ``bench/results/imdb_seeds.json``; bench/README.md discusses them.
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

from bench.imdb import encode_first, whole_review_model  # noqa: E402
from course_utils import setup  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--epochs", type=int, default=4, help="chapter 8's epoch count, chosen on validation")
    parser.add_argument("--subset", type=int, default=None, help="reviews per split (a smaller run)")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "imdb_seeds.json")
    args = parser.parse_args(argv)

    cfg = setup(verbose=False)
    import keras
    import tensorflow as tf

    from course_utils.datasets import load_glove, load_imdb
    from course_utils.nbsvm import NBSVM
    from course_utils.paired_tests import mcnemar
    from course_utils.pipelines import length_bucketed_dataset, predict_in_order
    from course_utils.text import make_word_vectorizer, vocabulary

    (x_train, y_train), (x_val, y_val), (x_test, y_test) = load_imdb(validation_split=0.2, seed=cfg.seed,
                                                                     subset=args.subset)
    vectorizer = make_word_vectorizer(x_train, max_tokens=20_000, sequence_length=None)   # as chapter 8
    matrix, _ = load_glove().embedding_matrix(vocabulary(vectorizer))
    x_full, y_full = np.concatenate([x_train, x_val]), np.concatenate([y_train, y_val])
    full_ids, test_ids = encode_first(vectorizer, x_full), encode_first(vectorizer, x_test)

    start = time.perf_counter()
    nbsvm = NBSVM(ngrams=2, C=0.1, beta=0.75).fit(x_full, y_full)
    nbsvm_correct = nbsvm.predict(x_test) == y_test
    results = {"machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}, "
                          f"TensorFlow {tf.__version__}, Keras {keras.__version__}",
               "date": time.strftime("%Y-%m-%d %H:%M"), "train_reviews": len(y_full), "test_reviews": len(y_test),
               "epochs": args.epochs,
               "nbsvm": dict(test_accuracy=round(float(nbsvm_correct.mean()), 4),
                             fit_seconds=round(time.perf_counter() - start, 1)),
               "seeds": {}}
    print(f"NBSVM: test accuracy {nbsvm_correct.mean():.4f}", flush=True)

    for seed in args.seeds:
        keras.utils.set_random_seed(seed)
        model = whole_review_model(len(matrix), matrix)
        train = length_bucketed_dataset(full_ids, y_full, batch_size=64, shuffle=True, seed=seed,
                                        boundaries=(64, 128, 192, 256, 384, 512))
        start = time.perf_counter()
        model.fit(train, epochs=args.epochs, verbose=0)
        seconds = time.perf_counter() - start
        correct = (predict_in_order(model, test_ids)[:, 0] > 0.5) == y_test
        versus = mcnemar(correct, nbsvm_correct)
        results["seeds"][str(seed)] = dict(test_accuracy=round(float(correct.mean()), 4),
                                           train_seconds=round(seconds, 1),
                                           mcnemar_vs_nbsvm_p=float(f"{versus.p_value:.3g}"))
        print(f"seed {seed}: test accuracy {correct.mean():.4f}, {seconds:.0f} s of training; vs NBSVM: {versus}",
              flush=True)
        del model
        keras.backend.clear_session()

    accuracies = [r["test_accuracy"] for r in results["seeds"].values()]
    results["summary"] = dict(mean=round(float(np.mean(accuracies)), 4),
                              sd=round(float(np.std(accuracies, ddof=1)), 4) if len(accuracies) > 1 else None,
                              at_least_0_90=sum(a >= 0.90 for a in accuracies), fits=len(accuracies))
    print(f"summary: {results['summary']}", flush=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")


if __name__ == "__main__":
    main()
