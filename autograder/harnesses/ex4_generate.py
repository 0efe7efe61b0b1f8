"""ex4: the learner's generate_text driven by a hidden deterministic or fixed-distribution model."""
import numpy as np


class _Probs(np.ndarray):
    def numpy(self):
        return np.asarray(self)


class HiddenModel:
    """ids (1, n) -> probabilities (1, vocab); kinds: successor, sum (needs the whole text), fixed."""
    def __init__(self, kind, vocab, probs=None):
        self.kind, self.vocab, self.probs = kind, vocab, probs
        self.calls = []
    def __call__(self, ids, training=False):
        ids = np.asarray(ids)
        self.calls.append(list(ids.shape))
        if ids.ndim != 2 or ids.shape[0] != 1 or ids.dtype.kind not in "iu":
            raise ValueError("the model expects integer ids of shape (1, n), got " + str(ids.dtype) + " " + str(ids.shape))
        out = np.zeros((1, self.vocab), dtype=np.float32)
        if self.kind == "successor":
            out[0, (int(ids[0, -1]) + 1) % self.vocab] = 1.0
        elif self.kind == "sum":
            out[0, int(ids[0].sum()) % self.vocab] = 1.0
        else:
            out[0] = self.probs
        return out.view(_Probs)
    def predict(self, ids, verbose=0, **kwargs):
        return np.asarray(self(ids))


def run(ns, payload):
    fn = ns["generate_text"]
    chars = payload["chars"]
    char2idx = {c: i for i, c in enumerate(chars)}
    idx2char = list(chars)
    probs = np.asarray(payload["probs"], dtype=np.float32) if payload.get("probs") is not None else None
    model = HiddenModel(payload["kind"], len(chars), probs)
    rng = np.random.default_rng(payload["seed"])
    text = fn(model, payload["start"], char2idx, idx2char, payload["num_generate"], payload["temperature"], rng)
    if type(text) is not str:
        return {"error": "returned " + type(text).__name__ + ", expected a str"}
    return {"text": text, "first_call": model.calls[0] if model.calls else [], "n_calls": len(model.calls)}
