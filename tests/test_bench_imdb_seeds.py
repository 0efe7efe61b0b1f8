"""bench/imdb_seeds.py runs end to end on a miniature IMDB archive and writes well-formed results (no timing is
checked: benchmarks never gate CI on a time)."""
import importlib.util
import json
from pathlib import Path

import pytest

pytest.importorskip("keras")

from test_datasets import mini_imdb  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def test_imdb_seeds_smoke(isolated):
    mini_imdb(isolated / "mirror" / "aclImdb_v1.tar.gz")
    spec = importlib.util.spec_from_file_location("imdb_seeds", ROOT / "bench" / "imdb_seeds.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = isolated / "seeds.json"
    bench.main(["--seeds", "1", "2", "--epochs", "1", "--output", str(out)])
    results = json.loads(out.read_text())
    assert results["train_reviews"] == 40 and results["test_reviews"] == 40 and results["epochs"] == 1
    assert set(results["seeds"]) == {"1", "2"}
    for run in results["seeds"].values():
        assert 0 <= run["test_accuracy"] <= 1 and run["train_seconds"] > 0 and 0 <= run["mcnemar_vs_nbsvm_p"] <= 1
    accuracies = [r["test_accuracy"] for r in results["seeds"].values()]
    assert results["summary"]["fits"] == 2 and results["summary"]["at_least_0_90"] == sum(a >= 0.9 for a in accuracies)
    assert abs(results["summary"]["mean"] - sum(accuracies) / 2) < 1e-4
