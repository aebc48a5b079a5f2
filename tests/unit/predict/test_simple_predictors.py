"""The predictor interface, the registry, and the simple predictors."""

from __future__ import annotations

import numpy as np
import pytest

from ipa_energy.errors import ConfigError, UnknownNameError
from ipa_energy.predict import PREDICTORS, Predictor, get_predictor
from ipa_energy.predict.simple import MovingMaxPredictor, ReactivePredictor


def test_registry_names() -> None:
    assert set(PREDICTORS.names()) >= {"lstm", "reactive", "moving-max"}


def test_unknown_name_lists_valid_ones() -> None:
    with pytest.raises(UnknownNameError) as e:
        get_predictor("arima")
    for name in ("lstm", "reactive", "moving-max"):
        assert name in str(e.value)


def test_reactive_is_last_value() -> None:
    p = get_predictor("reactive")
    assert isinstance(p, ReactivePredictor) and isinstance(p, Predictor)
    assert p.predict(np.array([3.0, 9.0, 4.0])) == 4.0
    assert p.predict(np.array([7.0])) == 7.0
    assert p.predict(np.array([])) == 0.0


def test_moving_max() -> None:
    p = get_predictor("moving-max")
    assert isinstance(p, MovingMaxPredictor) and p.window_s == 20
    h = np.arange(100, dtype=np.float64)[::-1]  # 99, 98, ..., 0: the max of the last 20 s is 19
    assert p.predict(h) == 19.0
    assert p.predict(np.array([2.0, 5.0, 1.0])) == 5.0  # short history: all of it
    assert p.predict(np.array([])) == 0.0
    assert MovingMaxPredictor(window_s=1).predict(h) == 0.0
    with pytest.raises(ConfigError, match="window_s"):
        MovingMaxPredictor(window_s=0)


@pytest.mark.parametrize("name", ["reactive", "moving-max"])
def test_predict_many_equals_predict(name: str) -> None:
    p = get_predictor(name)
    rng = np.random.default_rng(0)
    h = rng.poisson(10, size=(50, 120)).astype(np.float64)
    np.testing.assert_array_equal(p.predict_many(h), [p.predict(row) for row in h])


def test_history_must_be_1d() -> None:
    with pytest.raises(ConfigError, match="history_rps"):
        get_predictor("reactive").predict(np.zeros((2, 3)))
