"""The load-predictor interface: per-second arrival history in, predicted rate (rps) out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ipa_energy.errors import ConfigError


class Predictor(ABC):
    """A load predictor. Stateless: each prediction is a pure function of the history it is given.

    ``history_rps`` holds the arrivals observed in each past second, oldest first, most recent last. It
    may be short (the first seconds of a run) or empty; every predictor returns a finite rate >= 0 then
    (0.0 for an empty history). The result is the load to provision for over the next interval.
    """

    #: the registry name
    name: ClassVar[str]
    #: seconds of history the predictor reads (older seconds are ignored; callers may pass more)
    history_s: int

    @abstractmethod
    def predict(self, history_rps: NDArray[np.float64]) -> float:
        """Predicted load in requests per second for the next interval."""

    def predict_many(self, histories_rps: NDArray[np.float64]) -> NDArray[np.float64]:
        """One prediction per row of a ``(n, length)`` array of equal-length histories (for evaluation).

        Subclasses may vectorise; the result must equal calling :meth:`predict` on each row.
        """
        h = np.asarray(histories_rps, dtype=np.float64)
        if h.ndim != 2:
            raise ConfigError(f"expected a 2-D array (n, seconds), got shape {h.shape}", field="histories_rps")
        return np.array([self.predict(row) for row in h], dtype=np.float64)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(history_s={self.history_s})"


def as_history(history_rps: ArrayLike) -> NDArray[np.float64]:
    """``history_rps`` as a 1-D float array; other shapes are an error naming the field."""
    h = np.asarray(history_rps, dtype=np.float64)
    if h.ndim != 1:
        raise ConfigError(f"expected a 1-D array of per-second rates, got shape {h.shape}", field="history_rps")
    return h
