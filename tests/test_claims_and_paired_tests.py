"""course_utils.checks.claim (computed conclusions) and course_utils.paired_tests."""
import numpy as np
import pytest

from course_utils import config
from course_utils.checks import ClaimError, claim
from course_utils.paired_tests import compare, mcnemar, paired_bootstrap


def test_claim_prints_the_numbers_and_fails_only_when_enforced(capsys):
    assert claim("the GRU's MAE is below 1", 0.9 < 1.0, enforce=True, gru=0.9, target=1.0)
    assert capsys.readouterr().out == "CLAIM HOLDS: the GRU's MAE is below 1  [gru = 0.9, target = 1]\n"
    with pytest.raises(ClaimError, match=r"does not hold: more units help  \[small = 1.2, large = 1.3\]"):
        claim("more units help", 1.3 < 1.2, enforce=True, small=1.2, large=1.3)
    assert not claim("more units help", 1.3 < 1.2, enforce=False, small=1.2, large=1.3)
    assert "DOES NOT HOLD on this quick-mode run" in capsys.readouterr().out


def test_cfg_claim_enforces_in_full_mode_only():
    with pytest.raises(ClaimError):
        config.Config(mode="full", seed=0).claim("x", False, value=1)
    assert config.Config(mode="quick", seed=0).claim("x", False, value=1) is False


def test_mcnemar_counts_disagreements_and_matches_the_binomial():
    a = np.array([1, 1, 1, 1, 0, 0, 1, 1], dtype=bool)
    b = np.array([0, 0, 0, 1, 0, 1, 1, 1], dtype=bool)
    result = mcnemar(a, b)
    assert (result.only_a, result.only_b) == (3, 1)
    assert result.p_value == pytest.approx(2 * (1 + 4) / 16)          # 2 * P(X <= 1), X ~ Binomial(4, 1/2)
    assert mcnemar(a, a).p_value == 1.0
    big = mcnemar(np.r_[np.ones(60), np.zeros(40)], np.r_[np.zeros(60), np.ones(40)])
    assert big.p_value == pytest.approx(0.0569, abs=1e-3)              # exact two-sided binomial, n = 100, k = 40
    with pytest.raises(ValueError):
        mcnemar(a, b[:3])


def test_paired_bootstrap_sees_a_paired_difference_that_unpaired_noise_hides():
    rng = np.random.default_rng(1)
    shared = rng.gamma(2.0, 1.0, size=400)                              # day-to-day difficulty, common to both
    a, b = shared + 0.05, shared                                        # A is worse by 0.05 every day
    result = paired_bootstrap(a, b, seed=0)
    assert result.difference == pytest.approx(0.05) and result.low > 0 and result.p_value < 0.01
    same = paired_bootstrap(shared + rng.normal(0, 0.1, 400), shared + rng.normal(0, 0.1, 400), seed=0)
    assert same.low < 0 < same.high and same.p_value > 0.05
    blocks = paired_bootstrap(a, b, seed=0, block=7)
    assert blocks.low > 0
    with pytest.raises(ValueError):
        paired_bootstrap(a, b[:5])


def _pair(only_a: int, only_b: int, both: int = 50):
    """Right/wrong outcomes of two models: ``only_a`` examples only A gets right, ``only_b`` only B, ``both`` both."""
    a = np.r_[np.ones(only_a), np.zeros(only_b), np.ones(both)].astype(bool)
    b = np.r_[np.zeros(only_a), np.ones(only_b), np.ones(both)].astype(bool)
    return a, b


def test_compare_gives_one_of_three_verdicts_for_accuracy():
    a, b = _pair(30, 5)
    y = np.ones(len(a), dtype=int)
    verdict = compare("A", a.astype(int), "B", b.astype(int), y, split="validation")
    assert verdict.winner == "A" and verdict.text == "A is better than B"
    assert verdict.score_a == pytest.approx(80 / 85) and verdict.p_value == mcnemar(a, b).p_value
    assert verdict.low < (30 - 5) / 85 < verdict.high and verdict.low > 0
    assert "VERDICT on validation (accuracy, 85 paired examples): A vs B: A is better than B" in str(verdict)
    assert compare("A", b, "B", a).text == "B is better than A"             # outcomes given directly (y=None)
    c, d = _pair(6, 5)
    assert compare("A", c, "B", d).text == "no difference shown"


def test_compare_exact_match_needs_every_entry_of_a_sequence():
    y = np.array([[1, 2], [3, 4], [5, 6]])
    pred = np.array([[1, 2], [3, 0], [5, 6]])
    assert compare("A", pred, "B", y, y).score_a == pytest.approx(2 / 3)


def test_compare_mae_prefers_the_lower_error_with_a_block_bootstrap():
    rng = np.random.default_rng(0)
    y = rng.normal(size=300)
    close, far = y + rng.normal(0, 0.1, 300), y + rng.normal(0, 1.0, 300)
    verdict = compare("close", close, "far", far, y, kind="mae", block=7)
    assert verdict.winner == "close" and verdict.high < 0 and "blocks of 7" in verdict.test
    with pytest.raises(ValueError, match="one entry per example"):
        compare("A", close, "B", far[:10], y, kind="mae")
    with pytest.raises(ValueError, match="kind"):
        compare("A", close, "B", far, y, kind="rmse")


def test_a_verdict_never_prints_a_p_of_zero_or_an_interval_of_no_width():
    far_a, far_b = _pair(3_000, 0)                  # McNemar's tail underflows to 0.0 in double precision
    assert mcnemar(far_a, far_b).p_value == 0.0
    assert "McNemar exact p < 1e-300]" in str(compare("A", far_a, "B", far_b))
    rng = np.random.default_rng(0)
    y = rng.normal(size=300)
    boot = compare("close", y + 0.01, "far", y + 1.0, y, kind="mae")   # no resample on the other side of zero
    assert boot.p_value == 0.0 and boot.p_text == "p < 0.001" and "p = 0]" not in str(boot)
    same = np.array([True, False, True])
    text = str(compare("A", same, "B", same))
    assert "no difference shown" in text and "right on exactly the same examples, so no interval" in text
    assert "interval +0.0000 to +0.0000" not in text and "McNemar exact p = 1]" in text


def test_a_claim_that_ranks_models_needs_a_verdict_that_agrees_with_its_words():
    (a, b), (c, d) = _pair(30, 5), _pair(6, 5)
    better, tie = compare("A", a, "B", b), compare("A", c, "B", d)
    with pytest.raises(ClaimError, match="without a paired test"):
        claim("A beats B", True, enforce=False, a=0.9, b=0.8)
    assert claim("A beats B", better.winner == "A", enforce=True, verdict=better)
    with pytest.raises(ClaimError, match="does not hold"):                 # the words say more than the test
        claim("A is more accurate than B", True, enforce=True, verdict=tie)
    assert claim("the test shows no difference between A and B", True, enforce=True, verdict=tie)
    assert not claim("the test shows no difference between A and B", True, enforce=False, verdict=better)
    assert claim("A does not beat B", tie.winner != "A", enforce=True, verdict=tie)
