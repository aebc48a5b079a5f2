"""IPA's LSTM: feature shapes, short histories, numpy inference == torch inference, weight files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ipa_energy.errors import ConfigError
from ipa_energy.predict import get_predictor
from ipa_energy.predict.features import HISTORY_S, N_BLOCKS, lstm_features, lstm_features_many
from ipa_energy.predict.lstm import LSTMPredictor, LSTMWeights, lstm_forward


def test_features_of_a_full_history() -> None:
    h = np.arange(150, dtype=np.float64)  # only the last 120 s count: 30..149
    f = lstm_features(h)
    assert f is not None and f.shape == (N_BLOCKS,)
    np.testing.assert_array_equal(f, np.arange(39, 150, 10))
    np.testing.assert_array_equal(lstm_features_many(h[None, :]), f[None, :])


def test_features_of_short_histories() -> None:
    assert lstm_features(np.array([])) is None
    np.testing.assert_array_equal(lstm_features(np.array([4.0])), np.full(12, 4.0))
    # 25 s: two full blocks (aligned to the end) and a partial oldest one, repeated further back
    h = np.concatenate([np.full(5, 9.0), np.full(10, 2.0), np.full(10, 3.0)])
    np.testing.assert_array_equal(lstm_features(h), [9.0] * 10 + [2.0, 3.0])


def test_features_many_rejects_short_rows() -> None:
    with pytest.raises(ConfigError, match="histories_rps"):
        lstm_features_many(np.zeros((3, 50)))


def test_shipped_weights_shapes_and_provenance() -> None:
    w = LSTMWeights.load()
    assert w.hidden_size == 25
    assert w.w_ih.shape == (100, 1) and w.w_hh.shape == (100, 25) and w.w_out.shape == (1, 25)
    assert w.meta["seed"] == 0 and w.meta["train_days"] == 14.0 and w.meta["damping"] == 8
    assert w.meta["trace"] == "twitter_trace_per_second.txt"


def test_forward_shape() -> None:
    w = LSTMWeights.load()
    out = lstm_forward(w, np.zeros((7, 12)))
    assert out.shape == (7,)
    with pytest.raises(ConfigError, match="features_rps"):
        lstm_forward(w, np.zeros((7, 11)))


def _random_weights(seed: int) -> LSTMWeights:
    rng = np.random.default_rng(seed)
    return LSTMWeights(
        w_ih=rng.normal(size=(100, 1)), w_hh=rng.normal(size=(100, 25)) * 0.3,
        b_ih=rng.normal(size=100), b_hh=rng.normal(size=100),
        w_out=rng.normal(size=(1, 25)), b_out=rng.normal(size=1), scale_rps=30.0,
    )


@pytest.mark.parametrize("which", ["shipped", "random"])
def test_numpy_inference_matches_torch(which: str) -> None:
    pytest.importorskip("torch")
    from ipa_energy.predict.lstm_torch import torch_predict

    w = LSTMWeights.load() if which == "shipped" else _random_weights(3)
    rng = np.random.default_rng(1)
    feats = np.concatenate([rng.uniform(0, 50, size=(500, 12)), np.zeros((1, 12)), np.full((1, 12), 300.0)])
    ours, ref = lstm_forward(w, feats), torch_predict(w, feats)
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-4)
    assert np.ptp(ref) > 1.0  # the comparison is not between constants


def test_torch_round_trip_is_exact() -> None:
    pytest.importorskip("torch")
    from ipa_energy.predict.lstm_torch import torch_from_weights, weights_from_torch

    w = _random_weights(5)
    back = weights_from_torch(torch_from_weights(w), w.scale_rps, {})
    assert back.max_abs_diff(w) == 0.0


def test_predictor_behaviour() -> None:
    p = get_predictor("lstm")
    assert isinstance(p, LSTMPredictor) and p.history_s == HISTORY_S
    assert p.predict(np.array([])) == 0.0
    for level in (3.0, 10.0, 25.0):
        # a steady load predicts roughly itself (the next 20 s max is a little above a steady mean)
        pred = p.predict(np.full(120, level))
        assert level * 0.8 <= pred <= level * 1.5 + 2, (level, pred)
    # a load rising over the last 2 minutes predicts more than a flat one at the old level
    assert p.predict(np.linspace(5, 30, 120)) > p.predict(np.full(120, 5.0)) + 10
    # longer histories: only the last 120 s matter
    h = np.random.default_rng(0).poisson(12, size=300).astype(float)
    assert p.predict(h) == p.predict(h[-120:])
    assert p.predict(np.zeros(120)) >= 0.0


def test_predict_many_equals_predict() -> None:
    p = get_predictor("lstm")
    h = np.random.default_rng(2).poisson(15, size=(40, 120)).astype(float)
    np.testing.assert_allclose(p.predict_many(h, chunk=7), [p.predict(row) for row in h], rtol=1e-6)


def test_weights_round_trip(tmp_path: Path) -> None:
    w = _random_weights(0)
    w2 = LSTMWeights(**{n: getattr(w, n) for n in ("w_ih", "w_hh", "b_ih", "b_hh", "w_out", "b_out")},
                     scale_rps=w.scale_rps, meta={"note": "x"})
    path = tmp_path / "w.npz"
    w2.save(path)
    back = LSTMWeights.load(path)
    assert back.max_abs_diff(w2) == 0.0 and back.meta == {"note": "x"}
    assert LSTMPredictor(path).predict(np.full(30, 4.0)) == LSTMPredictor(w2).predict(np.full(30, 4.0))


def test_bad_weight_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        LSTMWeights.load(tmp_path / "absent.npz")
    junk = tmp_path / "junk.npz"
    junk.write_text("not a zip")
    with pytest.raises(ConfigError, match="junk.npz"):
        LSTMWeights.load(junk)
    partial = tmp_path / "partial.npz"
    np.savez(partial, w_ih=np.zeros((100, 1)))
    with pytest.raises(ConfigError, match="missing"):
        LSTMWeights.load(partial)
    with pytest.raises(ConfigError, match="w_hh"):
        LSTMWeights(w_ih=np.zeros((100, 1)), w_hh=np.zeros((100, 24)), b_ih=np.zeros(100),
                    b_hh=np.zeros(100), w_out=np.zeros((1, 25)), b_out=np.zeros(1), scale_rps=1.0)


def test_loads_above_the_training_range_are_predicted_from_their_shape() -> None:
    lstm = LSTMPredictor()
    base = np.full(120, 20.0)
    p1 = lstm.predict(base)
    p100 = lstm.predict(base * 100)  # e.g. --load-scale 100: far above the trace the LSTM saw
    assert 0.7 * 20 < p1 < 1.5 * 20
    assert 0.7 * 2000 < p100 < 1.5 * 2000
    # inside the training range nothing changes
    assert lstm.predict(base) == pytest.approx(float(lstm.predict_many(base[None, :])[0]))
