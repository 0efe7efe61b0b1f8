"""The training loop chapters 5 and 8 share: binary classifiers, early stopping on validation, seconds per epoch."""
from __future__ import annotations

import time
from dataclasses import dataclass

import keras
import numpy as np

from course_utils.progress import TrainingProgress

__all__ = ["EpochTimer", "TrainingRun", "WeightSnapshots", "average_weights", "compile_binary_classifier",
           "fit_for_epochs", "fit_with_early_stopping"]


class EpochTimer(keras.callbacks.Callback):
    """Records the wall-clock seconds of every epoch in ``self.seconds`` (training plus validation)."""

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)

    @property
    def per_epoch(self) -> float:
        return sum(self.seconds) / max(len(self.seconds), 1)


class WeightSnapshots(keras.callbacks.Callback):
    """Keeps a copy of the model's weights after every epoch in ``self.weights`` (epoch 1 first)."""

    def on_train_begin(self, logs=None):
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append([np.array(w, copy=True) for w in self.model.get_weights()])


def average_weights(snapshots: list[list[np.ndarray]]) -> list[np.ndarray]:
    """The element-wise mean of several snapshots of one model's weights (checkpoint averaging)."""
    if not snapshots:
        raise ValueError("average_weights needs at least one snapshot")
    return [np.mean(group, axis=0).astype(group[0].dtype) for group in zip(*snapshots)]


@dataclass
class TrainingRun:
    """What one ``fit_with_early_stopping`` call measured."""

    history: dict[str, list[float]]  # Keras' per-epoch logs: loss, accuracy, val_loss, val_accuracy
    seconds_per_epoch: float         # mean wall-clock seconds of an epoch, validation included
    monitor: str = "val_accuracy"    # the validation metric early stopping watched

    @property
    def epochs_run(self) -> int:
        return len(self.history[self.monitor])

    @property
    def best_epoch(self) -> int:
        """1-based epoch with the best ``monitor`` value: the weights the model holds after training."""
        return int(np.argmax(self.history[self.monitor])) + 1

    @property
    def best(self) -> float:
        return float(self.history[self.monitor][self.best_epoch - 1])


def compile_binary_classifier(model: keras.Model, learning_rate: float = 1e-3) -> keras.Model:
    """Compile a model with one sigmoid output: Adam, binary cross-entropy, accuracy. Returns the model."""
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="binary_crossentropy", metrics=["accuracy"])
    return model


def fit_with_early_stopping(model: keras.Model, train_data, val_data, *, epochs: int, patience: int = 1,
                            monitor: str = "val_accuracy", verbose: int = 0, progress: str | None = None,
                            callbacks: tuple = ()) -> TrainingRun:
    """Train for at most ``epochs`` epochs, stop after ``patience`` epochs without a better ``monitor`` value on
    ``val_data``, and keep the best epoch's weights. Selection uses validation data only, never the test split.
    ``progress``: a label for a live status line (``course_utils.progress.TrainingProgress``) while it trains;
    ``callbacks``: more Keras callbacks (e.g. ``WeightSnapshots``)."""
    timer = EpochTimer()
    early = keras.callbacks.EarlyStopping(monitor=monitor, patience=patience, restore_best_weights=True)
    extra = [TrainingProgress(progress)] if progress else []
    history = model.fit(train_data, validation_data=val_data, epochs=epochs, verbose=verbose,
                        callbacks=[*callbacks, early, timer, *extra])
    return TrainingRun(history=history.history, seconds_per_epoch=timer.per_epoch, monitor=monitor)


def fit_for_epochs(model: keras.Model, train_data, *, epochs: int, progress: str | None = None,
                   callbacks: tuple = ()) -> EpochTimer:
    """Train for exactly ``epochs`` epochs with no validation data (a final fit whose epoch count was chosen on
    validation before). Returns the ``EpochTimer``: ``.seconds`` per epoch, ``.per_epoch`` their mean."""
    timer = EpochTimer()
    extra = [TrainingProgress(progress)] if progress else []
    model.fit(train_data, epochs=epochs, verbose=0, callbacks=[*callbacks, timer, *extra])
    return timer
