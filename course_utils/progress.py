"""Live progress for long cells: one status line that updates in place while the work runs.

In a notebook the line is a single display output that is replaced, at most once a second, so the stored notebook
keeps only its final state ("... done in 224 s"), never hundreds of lines. In a terminal it is rewritten with a
carriage return; in a log file (no terminal) it is printed at most once a minute.

    for item in progress(grid, "grid"): ...                      # "grid: 3 of 12 done, 41 s"
    model.fit(..., verbose=2, callbacks=[TrainingProgress("LSTM")])   # "LSTM: epoch 2 of 6, batch 120 of 684 ..."
"""
from __future__ import annotations

import sys
import time

import keras

__all__ = ["StatusLine", "TrainingProgress", "progress"]


def _notebook_kernel() -> bool:
    """True inside a Jupyter kernel (where display handles update an output in place)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


class StatusLine:
    """A line of text shown in place. ``update`` is rate-limited; ``done`` always shows its text."""

    def __init__(self, every: float | None = None):
        self._notebook = _notebook_kernel()
        self._terminal = not self._notebook and sys.stdout.isatty()
        self.every = every if every is not None else (1.0 if self._notebook or self._terminal else 60.0)
        self._last = float("-inf")
        self._handle = None

    def update(self, text: str) -> None:
        now = time.monotonic()
        if now - self._last >= self.every:
            self._last = now
            self._show(text, final=False)

    def done(self, text: str) -> None:
        self._show(text, final=True)

    def _show(self, text: str, final: bool) -> None:
        if self._notebook:
            from IPython.display import display
            if self._handle is None:
                self._handle = display({"text/plain": text}, raw=True, display_id=True)
            else:
                self._handle.update({"text/plain": text}, raw=True)
        elif self._terminal:
            print("\r" + text, end="\n" if final else "", flush=True)
        else:
            print(text, flush=True)


def progress(items, label: str, total: int | None = None):
    """Yield from ``items`` while a status line shows ``label: i of n done, t s`` (n from ``len`` or ``total``)."""
    items = list(items) if total is None and not hasattr(items, "__len__") else items
    n = total if total is not None else len(items)
    line, start = StatusLine(), time.perf_counter()
    line.done(f"{label}: 0 of {n} done")
    for i, item in enumerate(items):
        yield item
        line.update(f"{label}: {i + 1} of {n} done, {time.perf_counter() - start:.0f} s")
    line.done(f"{label}: {n} of {n} done in {time.perf_counter() - start:.0f} s")


class TrainingProgress(keras.callbacks.Callback):
    """A live line while Keras trains: epoch, batch, running loss and seconds. Pair it with ``verbose=0`` or
    ``verbose=2`` (one line per epoch): ``verbose=1``'s own bar would store every update in the notebook."""

    def __init__(self, label: str = "training"):
        super().__init__()
        self.label = label

    def on_train_begin(self, logs=None):
        self._line, self._start, self._epoch = StatusLine(), time.perf_counter(), 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        steps = self.params.get("steps")
        loss = (logs or {}).get("loss")
        text = (f"{self.label}: epoch {self._epoch + 1} of {self.params.get('epochs')}, batch {batch + 1}"
                + (f" of {steps}" if steps else "") + (f", loss {float(loss):.4f}" if loss is not None else "")
                + f", {time.perf_counter() - self._start:.0f} s")
        self._line.update(text)

    def on_train_end(self, logs=None):
        epochs = self._epoch + 1
        self._line.done(f"{self.label}: {epochs} epoch{'' if epochs == 1 else 's'} done in "
                        f"{time.perf_counter() - self._start:.0f} s")
