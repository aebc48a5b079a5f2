"""IPA's LSTM load predictor with numpy inference from shipped weights (no torch import at run time).

Model: one LSTM layer (25 units, input size 1) over the 12 ten-second maxima of the last 120 s, then a
dense layer on the last hidden state: the predicted max load of the next 20 s. Inputs and output are in
units of ``scale_rps`` (stored with the weights). Parameters follow PyTorch's ``nn.LSTM`` layout (gates
``i, f, g, o`` stacked), so :mod:`ipa_energy.predict.lstm_torch` converts both ways exactly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ipa_energy.errors import ConfigError
from ipa_energy.predict.base import Predictor, as_history
from ipa_energy.predict.features import HISTORY_S, N_BLOCKS, lstm_features, lstm_features_many

SHIPPED_WEIGHTS = "lstm_weights.npz"
_ARRAYS = ("w_ih", "w_hh", "b_ih", "b_hh", "w_out", "b_out")


@dataclass(frozen=True, eq=False)
class LSTMWeights:
    """Parameters of the LSTM predictor (float32, PyTorch layout) and how they were made."""

    w_ih: NDArray[np.float32]  # (4H, 1)
    w_hh: NDArray[np.float32]  # (4H, H)
    b_ih: NDArray[np.float32]  # (4H,)
    b_hh: NDArray[np.float32]  # (4H,)
    w_out: NDArray[np.float32]  # (1, H)
    b_out: NDArray[np.float32]  # (1,)
    scale_rps: float
    #: provenance: trace, days, seed, epochs, training windows, held-out SMAPE, ...
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in _ARRAYS:
            arr = np.array(getattr(self, name), dtype=np.float32)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        h = self.hidden_size
        shapes = {"w_hh": (4 * h, h), "w_ih": (4 * h, 1), "b_ih": (4 * h,), "b_hh": (4 * h,),
                  "w_out": (1, h), "b_out": (1,)}
        for name, shape in shapes.items():
            if getattr(self, name).shape != shape:
                raise ConfigError(f"expected shape {shape}, got {getattr(self, name).shape}", field=name)
        if not np.isfinite(self.scale_rps) or self.scale_rps <= 0:
            raise ConfigError(f"must be > 0, got {self.scale_rps}", field="scale_rps")

    @property
    def hidden_size(self) -> int:
        return int(self.w_hh.shape[1])

    def max_abs_diff(self, other: LSTMWeights) -> float:
        """Largest absolute difference over all parameters (inf if the shapes or scale differ)."""
        if self.hidden_size != other.hidden_size or self.scale_rps != other.scale_rps:
            return float("inf")
        return max(float(np.abs(getattr(self, n) - getattr(other, n)).max()) for n in _ARRAYS)

    def save(self, path: str | Path) -> None:
        arrays = {n: getattr(self, n) for n in _ARRAYS}
        with open(path, "wb") as f:
            np.savez(f, **arrays, scale_rps=np.float64(self.scale_rps), meta=np.str_(json.dumps(self.meta)))

    @classmethod
    def load(cls, path: str | Path | None = None) -> LSTMWeights:
        """Weights from ``path``; None loads the shipped ones (package data)."""
        if path is None:
            ref = resources.files("ipa_energy.predict").joinpath("data", SHIPPED_WEIGHTS)
            try:
                with ref.open("rb") as f:
                    return cls._from_npz(f, f"shipped {SHIPPED_WEIGHTS}")
            except FileNotFoundError:
                raise ConfigError("the shipped LSTM weights are missing from the package",
                                  source=SHIPPED_WEIGHTS) from None
        try:
            with open(path, "rb") as f:
                return cls._from_npz(f, str(path))
        except FileNotFoundError:
            raise ConfigError("weights file not found", source=str(path)) from None

    @classmethod
    def _from_npz(cls, f: Any, source: str) -> LSTMWeights:
        try:
            with np.load(f, allow_pickle=False) as z:
                missing = [n for n in (*_ARRAYS, "scale_rps", "meta") if n not in z.files]
                if missing:
                    raise ConfigError(f"not LSTM weights: missing {', '.join(missing)}", source=source)
                return cls(**{n: z[n] for n in _ARRAYS}, scale_rps=float(z["scale_rps"]),
                           meta=json.loads(str(z["meta"])))
        except ConfigError:
            raise
        except (OSError, ValueError) as e:
            raise ConfigError(f"cannot read LSTM weights: {e}", source=source) from None


def _sigmoid(x: NDArray[np.float32]) -> NDArray[np.float32]:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)  # = 1 / (1 + exp(-x)), without overflow


def lstm_forward(weights: LSTMWeights, features_rps: NDArray[np.float64]) -> NDArray[np.float64]:
    """Model output in rps for a ``(n, 12)`` array of features, computed in float32 like PyTorch."""
    x = np.asarray(features_rps, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] != N_BLOCKS:
        raise ConfigError(f"expected shape (n, {N_BLOCKS}), got {x.shape}", field="features_rps")
    x = x / np.float32(weights.scale_rps)
    hs = weights.hidden_size
    n = x.shape[0]
    h = np.zeros((n, hs), dtype=np.float32)
    c = np.zeros((n, hs), dtype=np.float32)
    w_in = weights.w_ih[:, 0]
    w_hh_t = weights.w_hh.T
    bias = weights.b_ih + weights.b_hh
    for step in range(N_BLOCKS):
        gates = x[:, step, None] * w_in + h @ w_hh_t + bias
        i = _sigmoid(gates[:, :hs])
        f = _sigmoid(gates[:, hs : 2 * hs])
        g = np.tanh(gates[:, 2 * hs : 3 * hs])
        o = _sigmoid(gates[:, 3 * hs :])
        c = f * c + i * g
        h = o * np.tanh(c)
    out = h @ weights.w_out.T + weights.b_out
    return out[:, 0].astype(np.float64) * weights.scale_rps


def _forward_in_range(weights: LSTMWeights, feats: NDArray[np.float64]) -> NDArray[np.float64]:
    """Forward pass that stays in the range the weights were trained on.

    A window whose maxima exceed ``scale_rps`` (e.g. a trace multiplied by ``--load-scale 100``) would
    saturate the LSTM's gates and predict a fraction of the load. Such a window is divided by
    k = max / scale_rps, predicted, and multiplied back by k: the LSTM then predicts from the shape of the
    load. Windows inside the training range (k = 1) are unchanged.
    """
    k = np.maximum(1.0, feats.max(axis=1) / weights.scale_rps)
    return lstm_forward(weights, feats / k[:, None]) * k


class LSTMPredictor(Predictor):
    """IPA's LSTM: predicts the max load of the next 20 s from the last 120 s; never below 0.

    Shorter histories are padded as :func:`lstm_features` documents; an empty history predicts 0.0.
    Loads above the training range are predicted from their shape (see :func:`_forward_in_range`).
    """

    name = "lstm"

    def __init__(self, weights: LSTMWeights | str | Path | None = None) -> None:
        self.weights = weights if isinstance(weights, LSTMWeights) else LSTMWeights.load(weights)
        self.history_s = HISTORY_S

    def predict(self, history_rps: NDArray[np.float64]) -> float:
        feats = lstm_features(as_history(history_rps))
        if feats is None:
            return 0.0
        return max(0.0, float(_forward_in_range(self.weights, feats[None, :])[0]))

    def predict_many(self, histories_rps: NDArray[np.float64], *, chunk: int = 16_384) -> NDArray[np.float64]:
        h = np.asarray(histories_rps, dtype=np.float64)
        if h.ndim != 2 or h.shape[1] < HISTORY_S:
            return super().predict_many(h)
        out = np.empty(h.shape[0], dtype=np.float64)
        for i in range(0, h.shape[0], chunk):
            out[i : i + chunk] = _forward_in_range(self.weights, lstm_features_many(h[i : i + chunk]))
        return np.maximum(out, 0.0)
