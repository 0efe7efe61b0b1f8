"""course_utils.checks.claim (computed conclusions) and course_utils.paired_tests."""
import numpy as np
import pytest

from course_utils import config
from course_utils.checks import ClaimError, claim
from course_utils.paired_tests import mcnemar, paired_bootstrap


def test_claim_prints_the_numbers_and_fails_only_when_enforced(capsys):
    assert claim("the GRU beats persistence", 0.9 < 1.0, enforce=True, gru=0.9, persistence=1.0)
    assert capsys.readouterr().out == "CLAIM HOLDS: the GRU beats persistence  [gru = 0.9, persistence = 1]\n"
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
