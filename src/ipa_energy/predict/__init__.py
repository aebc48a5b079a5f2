"""Load predictors behind one interface (:class:`Predictor`) and one registry (names used by CLI and YAML).

* ``lstm``: IPA's LSTM (12 ten-second maxima of the last 120 s in, max of the next 20 s out), shipped
  weights, numpy inference;
* ``reactive``: the last second's arrivals;
* ``moving-max``: the maximum of the last 20 s;
* ``gbm-q90``: gradient-boosted 0.9 quantile of the next 20 s peak (knows its uncertainty);
* ``gbm-median``: gradient-boosted median of the next 20 s peak (the point predictor).
"""

from __future__ import annotations

from ipa_energy.predict.base import Predictor
from ipa_energy.registry import Registry

PREDICTORS: Registry[type[Predictor]] = Registry(
    "predictor",
    {
        "lstm": "ipa_energy.predict.lstm:LSTMPredictor",
        "reactive": "ipa_energy.predict.simple:ReactivePredictor",
        "moving-max": "ipa_energy.predict.simple:MovingMaxPredictor",
        "gbm-q90": "ipa_energy.predict.gbm:GBMQ90Predictor",
        "gbm-median": "ipa_energy.predict.gbm:GBMMedianPredictor",
    },
)

DEFAULT_PREDICTOR = "lstm"


def get_predictor(name: str = DEFAULT_PREDICTOR) -> Predictor:
    """A new predictor registered as ``name`` with its defaults (unknown names list the valid ones)."""
    return PREDICTORS.get(name, field="predictor")()


__all__ = ["DEFAULT_PREDICTOR", "PREDICTORS", "Predictor", "get_predictor"]
