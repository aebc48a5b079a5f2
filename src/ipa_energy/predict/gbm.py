"""Gradient-boosted quantile regression of the next 20 s peak, with numpy inference from shipped trees.

A predictor that knows its uncertainty: trained with the pinball (quantile) loss at quantile ``q``, it
predicts the load that the next 20 s peak stays at or below in a share ``q`` of windows. Two are shipped:

* ``gbm-q90``: q = 0.9, for provisioning: under-predicts about 1 window in 10 (IPA's LSTM: 1 in 2);
* ``gbm-median``: q = 0.5, the point predictor (the median minimises absolute error).

Features (:func:`gbm_features`) come from the same last 120 s as the LSTM's: the max, mean and min of each
10 s block and the last 10 seconds as they are. Trees are fitted by scikit-learn's
``HistGradientBoostingRegressor`` (:mod:`ipa_energy.predict.gbm_train`) and exported to flat arrays, so
inference needs neither scikit-learn nor pickle; ``tests/unit/predict/test_gbm.py`` checks it against
scikit-learn's own prediction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from ipa_energy.errors import ConfigError
from ipa_energy.predict.base import Predictor, as_history
from ipa_energy.predict.features import BLOCK_S, HISTORY_S, N_BLOCKS

#: shipped model file per registered name
SHIPPED_MODELS = {"gbm-q90": "gbm_q90.npz", "gbm-median": "gbm_median.npz"}
_ARRAYS = ("feature", "threshold", "left", "right", "value", "is_leaf", "roots")
N_FEATURES = 3 * N_BLOCKS + BLOCK_S


def gbm_features(histories_rps: NDArray[np.float64]) -> NDArray[np.float64]:
    """Features of a ``(n, 120)`` array of histories: per 10 s block the max, mean and min (oldest block
    first), then the last 10 seconds. Shape ``(n, 46)``."""
    h = np.asarray(histories_rps, dtype=np.float64)
    if h.ndim != 2 or h.shape[1] != HISTORY_S:
        raise ConfigError(f"expected shape (n, {HISTORY_S}), got {h.shape}", field="histories_rps")
    b = h.reshape(h.shape[0], N_BLOCKS, BLOCK_S)
    return np.hstack([b.max(axis=2), b.mean(axis=2), b.min(axis=2), h[:, -BLOCK_S:]])


def pad_history(history_rps: NDArray[np.float64]) -> NDArray[np.float64]:
    """The last 120 s of a non-empty history; a shorter one is padded on the left with its oldest value
    (a run's first seconds look like a steady past, as for the LSTM)."""
    h = history_rps[-HISTORY_S:]
    return np.pad(h, (HISTORY_S - h.size, 0), mode="edge") if h.size < HISTORY_S else h


@dataclass(frozen=True, eq=False)
class GBMTrees:
    """All trees of one model as flat node arrays (node indices global), and how the model was made.

    A sample goes left at an inner node when ``x[feature] <= threshold``; the prediction is ``baseline``
    plus the sum over trees of the leaf values reached, in units of rps.
    """

    feature: NDArray[np.int64]
    threshold: NDArray[np.float64]
    left: NDArray[np.int64]
    right: NDArray[np.int64]
    value: NDArray[np.float64]
    is_leaf: NDArray[np.bool_]
    #: the root node of each tree
    roots: NDArray[np.int64]
    baseline: float
    quantile: float
    #: the largest training target: a history above it is predicted from its shape (see GBMPredictor)
    scale_rps: float
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        dtypes = {"feature": np.int64, "threshold": np.float64, "left": np.int64, "right": np.int64,
                  "value": np.float64, "is_leaf": np.bool_, "roots": np.int64}
        for name, dt in dtypes.items():
            arr: Any = np.array(getattr(self, name), dtype=dt)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        n = self.feature.size
        if any(getattr(self, a).shape != (n,) for a in _ARRAYS[:-1]) or self.roots.size == 0:
            raise ConfigError("node arrays must be 1-D of one length, with at least one tree", field="trees")
        inner = ~self.is_leaf
        links = np.concatenate([self.left[inner], self.right[inner], self.roots])
        if links.size and (links.min() < 0 or links.max() >= n):
            raise ConfigError("a node index is out of range", field="trees")
        if inner.any() and (self.feature[inner].min() < 0 or self.feature[inner].max() >= N_FEATURES):
            raise ConfigError(f"a feature index is outside 0..{N_FEATURES - 1}", field="feature")
        if not 0 < self.quantile < 1 or not self.scale_rps > 0:
            raise ConfigError(f"need 0 < quantile < 1 and scale_rps > 0, got {self.quantile}, "
                              f"{self.scale_rps}", field="quantile")

    @property
    def n_trees(self) -> int:
        return int(self.roots.size)

    def same_as(self, other: GBMTrees) -> bool:
        """True when both hold exactly the same trees, baseline and scale."""
        return (self.baseline == other.baseline and self.scale_rps == other.scale_rps
                and all(np.array_equal(getattr(self, a), getattr(other, a)) for a in _ARRAYS))

    def predict_features(self, features: NDArray[np.float64]) -> NDArray[np.float64]:
        """Raw model output (rps) for a ``(n, 46)`` feature array: all trees walked at once."""
        x = np.asarray(features, dtype=np.float64)
        rows = np.arange(x.shape[0])[:, None]
        node = np.broadcast_to(self.roots, (x.shape[0], self.n_trees)).copy()
        while True:
            inner = ~self.is_leaf[node]
            if not inner.any():
                break
            go_left = x[rows, self.feature[node]] <= self.threshold[node]
            node = np.where(inner, np.where(go_left, self.left[node], self.right[node]), node)
        out: NDArray[np.float64] = self.baseline + self.value[node].sum(axis=1)
        return out

    def save(self, path: str | Path) -> None:
        arrays = {a: getattr(self, a) for a in _ARRAYS}
        arrays["feature"] = arrays["feature"].astype(np.int8)  # 46 features
        arrays["left"] = arrays["left"].astype(np.int32)
        arrays["right"] = arrays["right"].astype(np.int32)
        arrays["roots"] = arrays["roots"].astype(np.int32)
        scalars: dict[str, Any] = {k: np.float64(getattr(self, k)) for k in ("baseline", "quantile", "scale_rps")}
        with open(path, "wb") as f:
            np.savez_compressed(f, **arrays, **scalars, meta=np.str_(json.dumps(self.meta)))

    @classmethod
    def load(cls, path: str | Path) -> GBMTrees:
        try:
            with open(path, "rb") as f:
                return cls._from_npz(f, str(path))
        except FileNotFoundError:
            raise ConfigError("model file not found", source=str(path)) from None

    @classmethod
    def load_shipped(cls, name: str) -> GBMTrees:
        if name not in SHIPPED_MODELS:
            raise ConfigError(f"no shipped model {name!r}; shipped: {', '.join(SHIPPED_MODELS)}", field="name")
        ref = resources.files("ipa_energy.predict").joinpath("data", SHIPPED_MODELS[name])
        try:
            with ref.open("rb") as f:
                return cls._from_npz(f, f"shipped {SHIPPED_MODELS[name]}")
        except FileNotFoundError:
            raise ConfigError("the shipped model is missing from the package", source=SHIPPED_MODELS[name]) from None

    @classmethod
    def _from_npz(cls, f: Any, source: str) -> GBMTrees:
        keys = (*_ARRAYS, "baseline", "quantile", "scale_rps", "meta")
        try:
            with np.load(f, allow_pickle=False) as z:
                missing = [k for k in keys if k not in z.files]
                if missing:
                    raise ConfigError(f"not a GBM model: missing {', '.join(missing)}", source=source)
                fields: dict[str, Any] = {a: z[a] for a in _ARRAYS}
                fields.update({k: float(z[k]) for k in ("baseline", "quantile", "scale_rps")})
                return cls(**fields, meta=json.loads(str(z["meta"])))
        except ConfigError:
            raise
        except (OSError, ValueError) as e:
            raise ConfigError(f"cannot read GBM model: {e}", source=source) from None


class GBMPredictor(Predictor):
    """A quantile of the next 20 s peak from the last 120 s; never below 0; 0.0 for an empty history.

    A history whose peak exceeds the training range (``scale_rps``, e.g. a trace times ``--load-scale``)
    is divided by k = peak / scale_rps, predicted and multiplied back by k (trees cannot extrapolate);
    histories inside the range are unchanged.
    """

    name: ClassVar[str] = "gbm"

    def __init__(self, model: GBMTrees | str | Path | None = None) -> None:
        if model is None:
            model = GBMTrees.load_shipped(self.name)
        self.model = model if isinstance(model, GBMTrees) else GBMTrees.load(model)
        self.history_s = HISTORY_S

    def predict(self, history_rps: NDArray[np.float64]) -> float:
        h = as_history(history_rps)
        if h.size == 0:
            return 0.0
        return float(self.predict_many(pad_history(h)[None, :])[0])

    def predict_many(self, histories_rps: NDArray[np.float64], *, chunk: int = 8_192) -> NDArray[np.float64]:
        h = np.asarray(histories_rps, dtype=np.float64)
        if h.ndim != 2 or h.shape[1] < HISTORY_S:
            return super().predict_many(h)
        h = h[:, -HISTORY_S:]
        out = np.empty(h.shape[0], dtype=np.float64)
        for i in range(0, h.shape[0], chunk):
            part = h[i : i + chunk]
            k = np.maximum(1.0, part.max(axis=1) / self.model.scale_rps)
            out[i : i + chunk] = self.model.predict_features(gbm_features(part / k[:, None])) * k
        return np.maximum(out, 0.0)


class GBMQ90Predictor(GBMPredictor):
    """Gradient-boosted 0.9 quantile of the next 20 s peak (provisioning: ~10 % of windows under)."""

    name = "gbm-q90"


class GBMMedianPredictor(GBMPredictor):
    """Gradient-boosted median of the next 20 s peak (the point predictor)."""

    name = "gbm-median"
