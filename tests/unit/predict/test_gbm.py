"""The gradient-boosted quantile predictors: numpy inference equals scikit-learn, quantile behaviour, edges."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ipa_energy.errors import ConfigError
from ipa_energy.predict import PREDICTORS, get_predictor
from ipa_energy.predict.gbm import GBMPredictor, GBMTrees, gbm_features
from ipa_energy.predict.gbm_train import GBMTrainConfig, export_trees, pinball_loss, train_gbm
from ipa_energy.predict.split import TraceSplit
from ipa_energy.workloads.twitter import TwitterTrace


def _synthetic_trace(hours: float = 4.0, seed: int = 0) -> TwitterTrace:
    rng = np.random.default_rng(seed)
    n = int(hours * 3600)
    rates = np.floor(10 + 5 * np.sin(np.arange(n) * 2 * np.pi / 1800) + rng.poisson(3, size=n)).astype(float)
    return TwitterTrace(rates, np.zeros(n, dtype=bool), "synthetic.txt", 8)


SPLIT = TraceSplit(validation_day=2.5 / 24, test_day=3.0 / 24)  # 2.5 h train, 0.5 h validation, rest test


@pytest.fixture(scope="module")
def trained() -> tuple[TwitterTrace, GBMTrees]:
    trace = _synthetic_trace()
    return trace, train_gbm(trace, GBMTrainConfig(quantile=0.9, max_iter=20), split=SPLIT).model


def test_numpy_inference_equals_sklearn() -> None:
    from sklearn.ensemble import HistGradientBoostingRegressor

    rng = np.random.default_rng(1)
    x = rng.poisson(8, size=(600, 120)).astype(float)
    y = x[:, -20:].max(axis=1) + rng.normal(0, 1, size=600)
    feats = gbm_features(x)
    m = HistGradientBoostingRegressor(loss="quantile", quantile=0.8, max_iter=15, early_stopping=False,
                                      random_state=0).fit(feats, y)
    trees = export_trees(m, 0.8, float(y.max()), {})
    x_new = rng.poisson(8, size=(300, 120)).astype(float)
    np.testing.assert_allclose(trees.predict_features(gbm_features(x_new)), m.predict(gbm_features(x_new)),
                               rtol=1e-12, atol=1e-12)


def test_high_quantile_under_predicts_rarely_and_above_median(trained: tuple[TwitterTrace, GBMTrees]) -> None:
    from ipa_energy.predict.evaluate import split_windows

    trace, model = trained
    test = split_windows(trace, "test", split=SPLIT)
    p90 = GBMPredictor(model).predict_many(test.histories_rps)
    under = float((p90 < test.targets_rps).mean())
    assert under < 0.2
    median = train_gbm(trace, GBMTrainConfig(quantile=0.5, max_iter=20), split=SPLIT).model
    p50 = GBMPredictor(median).predict_many(test.histories_rps)
    assert p90.mean() > p50.mean()
    assert pinball_loss(p90, test.targets_rps, 0.9) < pinball_loss(p50, test.targets_rps, 0.9)


def test_training_is_reproducible_and_round_trips(trained: tuple[TwitterTrace, GBMTrees], tmp_path: Path) -> None:
    trace, model = trained
    again = train_gbm(trace, GBMTrainConfig(quantile=0.9, max_iter=20), split=SPLIT).model
    assert again.same_as(model)
    model.save(tmp_path / "m.npz")
    loaded = GBMTrees.load(tmp_path / "m.npz")
    assert loaded.same_as(model) and loaded.meta["quantile"] == 0.9


def test_predict_equals_predict_many_and_handles_short_histories(trained: tuple[TwitterTrace, GBMTrees]) -> None:
    _, model = trained
    p = GBMPredictor(model)
    rng = np.random.default_rng(2)
    h = rng.poisson(10, size=(5, 120)).astype(float)
    np.testing.assert_allclose(p.predict_many(h), [p.predict(row) for row in h])
    assert p.predict(np.array([])) == 0.0
    short = p.predict(np.array([12.0, 13.0]))
    assert np.isfinite(short) and short >= 0
    assert p.predict(np.concatenate([np.full(118, 12.0), [12.0, 13.0]])) == short  # padded with the oldest


def test_loads_above_the_training_range_scale_with_the_load(trained: tuple[TwitterTrace, GBMTrees]) -> None:
    _, model = trained
    p = GBMPredictor(model)
    h = np.full(120, model.scale_rps)
    assert p.predict(h * 10) == pytest.approx(10 * p.predict(h))


def test_shipped_models_are_registered_and_load() -> None:
    for name, q in (("gbm-q90", 0.9), ("gbm-median", 0.5)):
        assert name in PREDICTORS.names()
        pred = get_predictor(name)
        assert isinstance(pred, GBMPredictor) and pred.model.quantile == q
        assert pred.predict(np.full(120, 10.0)) > 0


def test_corrupt_model_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    np.savez(bad, feature=np.zeros(3))
    with pytest.raises(ConfigError, match="missing"):
        GBMTrees.load(bad)
    with pytest.raises(ConfigError, match="not found"):
        GBMTrees.load(tmp_path / "none.npz")
