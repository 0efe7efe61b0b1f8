"""ex4: draws from the learner's sample_with_temperature (twice from the same seed), its picks at T = 0, or whether
it raises."""
import numpy as np


def run(ns, payload):
    fn = ns["sample_with_temperature"]
    if payload["kind"] == "raises":
        try:
            fn(np.asarray(payload["probs"], dtype=np.float64), payload["temperature"], np.random.default_rng(0))
        except ValueError:
            return {"raised": "ValueError"}
        except Exception as exc:
            return {"raised": type(exc).__name__}
        return {"raised": ""}
    if payload["kind"] == "greedy":
        try:
            picks = [fn(np.asarray(payload["probs"], dtype=np.float64), 0.0, np.random.default_rng(s))
                     for s in range(payload["n"])]
        except Exception as exc:
            return {"raised": type(exc).__name__, "picks": []}
        if any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in picks):
            return {"error": "returned a non-int at temperature 0, expected an int index"}
        return {"raised": "", "picks": [int(v) for v in picks]}
    probs = np.asarray(payload["probs"], dtype=np.float64)
    draws, types = [], set()
    for n in (payload["n"], 100):
        rng = np.random.default_rng(payload["seed"])
        seq = []
        for _ in range(n):
            value = fn(probs.copy(), payload["temperature"], rng)
            types.add(type(value).__module__ + "." + type(value).__name__)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                return {"error": "returned " + type(value).__name__ + ", expected an int index"}
            seq.append(int(value))
        draws.append(seq)
    return {"draws": np.asarray(draws[0], dtype=np.int64), "reproducible": draws[0][:100] == draws[1],
            "types": sorted(types)}
