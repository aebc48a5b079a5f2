"""Simple predictors: ``reactive`` (the last second) and ``moving-max`` (the max of the last N seconds)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ipa_energy.errors import ConfigError
from ipa_energy.predict.base import Predictor, as_history


class ReactivePredictor(Predictor):
    """The last observed second's arrivals (the paper's ablation baseline); 0.0 for an empty history."""

    name = "reactive"

    def __init__(self) -> None:
        self.history_s = 1

    def predict(self, history_rps: NDArray[np.float64]) -> float:
        h = as_history(history_rps)
        return float(h[-1]) if h.size else 0.0

    def predict_many(self, histories_rps: NDArray[np.float64]) -> NDArray[np.float64]:
        h = np.asarray(histories_rps, dtype=np.float64)
        if h.ndim != 2 or h.shape[1] == 0:
            return super().predict_many(h)
        return h[:, -1].copy()


class MovingMaxPredictor(Predictor):
    """The maximum of the last ``window_s`` seconds (all of a shorter history); 0.0 when empty.

    Provisioning for the recent peak rather than the recent mean: with the default 20 s it looks back as
    far as the LSTM looks ahead.
    """

    name = "moving-max"

    def __init__(self, window_s: int = 20) -> None:
        if int(window_s) != window_s or window_s < 1:
            raise ConfigError(f"must be an integer >= 1, got {window_s!r}", field="window_s")
        self.window_s = int(window_s)
        self.history_s = self.window_s

    def predict(self, history_rps: NDArray[np.float64]) -> float:
        h = as_history(history_rps)
        return float(h[-self.window_s :].max()) if h.size else 0.0

    def predict_many(self, histories_rps: NDArray[np.float64]) -> NDArray[np.float64]:
        h = np.asarray(histories_rps, dtype=np.float64)
        if h.ndim != 2 or h.shape[1] == 0:
            return super().predict_many(h)
        return h[:, -self.window_s :].max(axis=1)
