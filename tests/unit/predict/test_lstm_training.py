"""Training smoke test (tiny, seconds), supervised windows, SMAPE and held-out evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from ipa_energy.errors import ConfigError
from ipa_energy.predict.evaluate import evaluate_predictors, held_out_windows, smape_pct
from ipa_energy.predict.features import supervised_windows
from ipa_energy.predict.simple import ReactivePredictor
from ipa_energy.workloads.twitter import SECONDS_PER_DAY, TwitterTrace


def _trace(seconds: int, seed: int = 0, gap_at: tuple[int, ...] = ()) -> TwitterTrace:
    rng = np.random.default_rng(seed)
    t = np.arange(seconds)
    rates = np.floor(10 + 6 * np.sin(2 * np.pi * t / 900) + rng.poisson(2, size=seconds)).astype(float)
    gaps = np.zeros(seconds, dtype=bool)
    gaps[list(gap_at)] = True
    rates[gaps] = 0.0
    return TwitterTrace(rates, gaps, "synthetic", 8)


def test_supervised_windows_inputs_targets_and_gaps() -> None:
    rates = np.arange(400, dtype=np.float64)
    gaps = np.zeros(400, dtype=bool)
    x, y, t = supervised_windows(rates, gaps, slice(0, 400))
    # windows end at 120, 130, ..., 380 (the 20 s target must fit)
    np.testing.assert_array_equal(t, np.arange(120, 390, 10))
    np.testing.assert_array_equal(x[0], np.arange(9, 120, 10))
    assert y[0] == 139.0 and y[-1] == 399.0
    gaps[200] = True  # touches windows whose 140 s span [t-120, t+20) contains second 200
    _, _, t2 = supervised_windows(rates, gaps, slice(0, 400))
    assert set(t) - set(t2) == {tt for tt in t if tt - 120 <= 200 < tt + 20}
    with pytest.raises(ConfigError, match="stride_s"):
        supervised_windows(rates, gaps, slice(0, 400), stride_s=15)


def test_smape() -> None:
    assert smape_pct([10.0, 0.0], [10.0, 0.0]) == 0.0
    assert smape_pct([10.0], [30.0]) == pytest.approx(100.0)  # 2 * 20 / 40
    assert smape_pct([0.0], [5.0]) == pytest.approx(200.0)
    with pytest.raises(ValueError):
        smape_pct([1.0], [1.0, 2.0])


def test_held_out_evaluation_scores_reactive_exactly() -> None:
    tr = _trace(2 * SECONDS_PER_DAY // 24, gap_at=(5000,))  # 2 hours
    held = held_out_windows(tr, first_day=1 / 24)  # the second hour
    assert held.histories_rps.shape == (held.targets_rps.size, 120)
    [s] = evaluate_predictors({"reactive": ReactivePredictor()}, held)
    assert s.windows == held.targets_rps.size > 300
    assert s.smape_pct == pytest.approx(smape_pct(held.histories_rps[:, -1], held.targets_rps))
    # the target is a max over 20 s, so the last second is rarely above it
    assert s.under_pct > 50


def test_training_smoke_is_seeded_and_learns() -> None:
    pytest.importorskip("torch")
    from ipa_energy.predict.lstm import LSTMPredictor
    from ipa_energy.predict.train import TrainConfig, train_lstm

    tr = _trace(SECONDS_PER_DAY // 8)  # 3 hours
    cfg = TrainConfig(epochs=1, max_windows=300, train_days=1 / 12, batch_size=32)
    a = train_lstm(tr, cfg)
    b = train_lstm(tr, cfg)
    assert a.train_windows == 300
    assert a.weights.max_abs_diff(b.weights) == 0.0  # same seed, same weights
    c = train_lstm(tr, TrainConfig(epochs=1, max_windows=300, train_days=1 / 12, batch_size=32, seed=1))
    assert c.weights.max_abs_diff(a.weights) > 0
    assert a.weights.hidden_size == 25 and a.weights.meta["epochs"] == 1
    assert np.isfinite(a.final_loss)
    # more epochs on the same windows fit the series better than one
    d = train_lstm(tr, TrainConfig(epochs=4, max_windows=300, train_days=1 / 12, batch_size=32))
    held = held_out_windows(tr, first_day=1 / 12)
    s1, s6 = (evaluate_predictors({"lstm": LSTMPredictor(r.weights)}, held)[0] for r in (a, d))
    assert s6.smape_pct < s1.smape_pct


def test_train_config_validation() -> None:
    from ipa_energy.predict.train import TrainConfig

    with pytest.raises(ConfigError, match="epochs"):
        TrainConfig(epochs=0)
    with pytest.raises(ConfigError, match="max_windows"):
        TrainConfig(max_windows=0)
