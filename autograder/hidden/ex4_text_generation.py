"""Hidden checks for ex4_text_generation: statistical tests of the sampler, hidden deterministic "models".

No neural network is needed to grade generation: the hidden models are tiny Python objects with the interface the
exercise promises (ids of shape (1, n) -> next-character probabilities of shape (1, vocab)), built in the sandbox
from parameters made here. Statistical checks use fixed seeds, so regrading gives the same verdict.
"""
from __future__ import annotations

import math

import numpy as np

from autograder.compare import Mismatch, result_dict
from autograder.harnesses import source
from autograder.task import Task

ASSIGNMENT = "ex4_text_generation"
SEED = 40_404
N_DRAWS = 2500
# the chance that a correct sampler fails one chi-square test; with a few tests per function the false-fail risk
# per submission is below 1e-5, and fixed seeds make any verdict reproducible
ALPHA = 1e-6


def _tempered(p: np.ndarray, t: float) -> np.ndarray:
    with np.errstate(divide="ignore"):
        logits = np.log(p) / t
    logits -= logits[np.isfinite(logits)].max()
    q = np.exp(logits)
    return q / q.sum()


def _chi2_sf(x: float, k: int) -> float:
    """Survival function of the chi-square distribution (regularised upper incomplete gamma), no scipy needed."""
    a, x2 = k / 2.0, x / 2.0
    if x2 <= 0:
        return 1.0
    if x2 < a + 1:  # series for the lower function
        term = total = 1.0 / a
        n = a
        for _ in range(1000):
            n += 1
            term *= x2 / n
            total += term
            if term < total * 1e-15:
                break
        return max(0.0, 1.0 - total * math.exp(-x2 + a * math.log(x2) - math.lgamma(a)))
    # continued fraction for the upper function
    b, c, d = x2 + 1 - a, 1e300, 1 / (x2 + 1 - a)
    h = d
    for i in range(1, 1000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = 1e-300 if abs(d) < 1e-300 else d
        c = b + an / c
        c = 1e-300 if abs(c) < 1e-300 else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-15:
            break
    return math.exp(-x2 + a * math.log(x2) - math.lgamma(a)) * h


def chi_square_ok(counts: np.ndarray, q: np.ndarray) -> tuple[bool, float, str]:
    """Goodness of fit of observed counts to probabilities q (bins with expected < 5 are pooled)."""
    n = counts.sum()
    if np.any(counts[q == 0] > 0):
        return False, 0.0, "drew an index whose tempered probability is 0"
    expected = q * n
    big = expected >= 5
    obs = list(counts[big]) + ([counts[~big].sum()] if (~big).any() else [])
    exp = list(expected[big]) + ([expected[~big].sum()] if (~big).any() else [])
    obs, exp = np.asarray(obs, float), np.asarray(exp, float)
    keep = exp > 0
    stat = float(np.sum((obs[keep] - exp[keep]) ** 2 / exp[keep]))
    dof = max(1, int(keep.sum()) - 1)
    p = _chi2_sf(stat, dof)
    return p >= ALPHA, p, f"chi-square {stat:.1f} on {dof} degrees of freedom, p = {p:.2g}"


SAMPLER_CASES = [  # (probabilities, temperature)
    ([0.5, 0.25, 0.125, 0.125], 1.0),
    ([0.1, 0.2, 0.3, 0.4], 0.5),
    ([0.05, 0.05, 0.1, 0.3, 0.5], 2.0),
    ([0.0, 0.7, 0.0, 0.3], 1.3),
    ([0.6, 0.3, 0.1], 0.05),
]
GREEDY_CASES = [[0.2, 0.5, 0.3], [0.05, 0.1, 0.15, 0.7], [0.4, 0.0, 0.35, 0.25]]  # T = 0: argmax, no draw
N_GREEDY = 100


def cases_sampler(rng):
    payloads, secret = [], []
    for probs, t in SAMPLER_CASES:
        payloads.append({"kind": "draw", "probs": probs, "temperature": t, "seed": int(rng.integers(1 << 30)),
                         "n": N_DRAWS})
        secret.append((np.asarray(probs), t))
    for probs in GREEDY_CASES:
        payloads.append({"kind": "greedy", "probs": probs, "n": N_GREEDY})
        secret.append(("greedy", int(np.argmax(probs)), len(probs)))
    for t in (-0.5, -2.0):
        payloads.append({"kind": "raises", "probs": [0.5, 0.5], "temperature": t})
        secret.append(("raises", t))
    return payloads, secret


def judge_sampler(results, _refs, secret):
    notes = []
    for raw, spec in zip(results, secret):
        if isinstance(spec[0], str) and spec[0] == "greedy":
            _judge_greedy(raw, *spec[1:])
            continue
        if isinstance(spec[0], str):
            out = result_dict(raw, ("raised",))
            if out["raised"] != "ValueError":
                got = out["raised"] or "nothing"
                raise Mismatch(f"temperature={spec[1]} must raise ValueError; raised {got}")
            continue
        probs, t = spec
        out = result_dict(raw, ("draws", "reproducible"))
        if out["reproducible"] is not True:
            raise Mismatch("draws are not reproducible from the rng argument (use rng, not np.random or random)")
        draws = out["draws"]
        if not isinstance(draws, np.ndarray) or draws.shape != (N_DRAWS,):
            raise Mismatch("malformed result")
        if draws.min() < 0 or draws.max() >= len(probs):
            raise Mismatch(f"returned an index outside 0..{len(probs) - 1}")
        counts = np.bincount(draws, minlength=len(probs))
        ok, p, text = chi_square_ok(counts, _tempered(probs, t))
        if not ok:
            raise Mismatch(f"at temperature {t} the draws do not follow p**(1/T) normalised ({text}); "
                           f"observed frequencies {np.round(counts / N_DRAWS, 3).tolist()}, "
                           f"expected {np.round(_tempered(probs, t), 3).tolist()}")
        notes.append(p)
    return f"{len(SAMPLER_CASES)} distributions fit p**(1/T), greedy at T = 0, ValueError for T < 0"


def _judge_greedy(raw, best: int, n_probs: int) -> None:
    out = result_dict(raw, ("raised", "picks"))
    rule = f"temperature 0 means greedy decoding: always the most likely index ({best} of 0..{n_probs - 1})"
    if out["raised"]:
        raise Mismatch(f"{rule}, as in chapter 7; it raised {out['raised']}")
    wrong = sorted(set(out["picks"]) - {best})
    if len(out["picks"]) != N_GREEDY or wrong:
        raise Mismatch(f"{rule}; it also returned {wrong[:5]}")


CHARS = "abcdefghij .,!"
FEED_HINT = "return start_string + the generated characters, and feed the whole text so far to the model at each step"


def cases_generate(rng):
    payloads, secret = [], []
    for kind, start, n, t in [("successor", "ab", 20, 1.0), ("successor", "j", 7, 0.3), ("sum", "ca", 25, 0.8),
                              ("sum", "b", 12, 1.7)]:
        payloads.append({"kind": kind, "chars": CHARS, "start": start, "num_generate": n, "temperature": t,
                         "seed": int(rng.integers(1 << 30)), "probs": None})
        ids = [CHARS.index(ch) for ch in start]
        for _ in range(n):
            ids.append((ids[-1] + 1) % len(CHARS) if kind == "successor" else sum(ids) % len(CHARS))
        secret.append(("exact", "".join(CHARS[i] for i in ids), len(start), FEED_HINT))
    probs = np.array([0.3, 0.2, 0.15, 0.1, 0.08, 0.06, 0.04, 0.03, 0.02, 0.01, 0.004, 0.003, 0.002, 0.001])
    probs = probs / probs.sum()
    payloads.append({"kind": "fixed", "chars": CHARS, "start": "a", "num_generate": 30, "temperature": 0.0,
                     "seed": int(rng.integers(1 << 30)), "probs": probs.astype(np.float32).tolist()})
    secret.append(("exact", "a" + CHARS[int(np.argmax(probs))] * 30, 1,
                   "temperature 0 is greedy: every step appends the most likely character"))
    for t in (1.0, 0.6):
        payloads.append({"kind": "fixed", "chars": CHARS, "start": "a", "num_generate": 3000, "temperature": t,
                         "seed": int(rng.integers(1 << 30)), "probs": probs.astype(np.float32).tolist()})
        secret.append(("stat", probs.astype(np.float32).astype(np.float64), t))
    return payloads, secret


def judge_generate(results, _refs, secret):
    for raw, spec in zip(results, secret):
        out = result_dict(raw, ("text",))
        text = out["text"]
        if spec[0] == "exact":
            expected, n_start, hint = spec[1:]
            if text != expected:
                raise Mismatch(f"with a hidden deterministic model, generate_text returned {text[:40]!r}; expected "
                               f"{expected[:40]!r} ({hint})")
            first = out.get("first_call")
            if first != [1, n_start]:
                raise Mismatch(f"the first model call had input shape {first}; expected (1, {n_start})")
        else:
            probs, t = spec[1], spec[2]
            if not text.startswith("a") or len(text) != 3001:
                raise Mismatch(f"returned {len(text)} characters; expected 1 + 3000")
            counts = np.array([text[1:].count(ch) for ch in CHARS])
            ok, p, detail = chi_square_ok(counts, _tempered(probs, t))
            if not ok:
                raise Mismatch(f"generated characters do not follow the model's probabilities at temperature {t} "
                               f"({detail})")
    return "exact on hidden deterministic models and at T = 0; character frequencies fit p**(1/T)"


TASKS = [
    Task("sample_with_temperature", "sample_with_temperature", "test_sample_with_temperature", cases_sampler,
         judge=judge_sampler, harness=source("ex4_sampler"), requires="sample_with_temperature",
         use_reference=False),
    Task("generate_text", "generate_text", "test_generate_text", cases_generate, judge=judge_generate,
         harness=source("ex4_generate"), requires="generate_text", use_reference=False),
]
