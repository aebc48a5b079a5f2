"""Training the gradient-boosted quantile predictors on the split's training days; selection on validation.

scikit-learn is imported inside the functions. Training is seeded and has no early stopping (no random
internal split), so the same trace and settings give the same trees.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from ipa_energy.errors import ConfigError
from ipa_energy.predict.evaluate import PredictorScore, score, split_windows
from ipa_energy.predict.gbm import GBMPredictor, GBMTrees, gbm_features
from ipa_energy.predict.split import DEFAULT_SPLIT, TraceSplit
from ipa_energy.workloads.twitter import TwitterTrace


@dataclass(frozen=True)
class GBMTrainConfig:
    """Everything that determines the trees (with the trace and the scikit-learn build)."""

    quantile: float = 0.9
    max_iter: int = 100
    max_leaf_nodes: int = 15
    learning_rate: float = 0.1
    seed: int = 0
    #: one training window every stride_s seconds (a multiple of 10)
    stride_s: int = 10

    def __post_init__(self) -> None:
        checks = {"quantile": 0 < self.quantile < 1, "max_iter": self.max_iter >= 1,
                  "max_leaf_nodes": self.max_leaf_nodes >= 2, "learning_rate": self.learning_rate > 0}
        for name, ok in checks.items():
            if not ok:
                raise ConfigError(f"invalid value {getattr(self, name)!r}", field=name)


#: the shipped models' settings (chosen on the validation day, see docs/prediction.md)
SHIPPED_CONFIGS = {
    "gbm-q90": GBMTrainConfig(quantile=0.9, max_leaf_nodes=31),
    "gbm-median": GBMTrainConfig(quantile=0.5, max_leaf_nodes=31),
}
#: candidates tried on the validation day for each shipped model (varying tree size and rate)
SELECTION_GRID = ({"max_leaf_nodes": 15}, {"max_leaf_nodes": 31}, {"max_leaf_nodes": 15, "learning_rate": 0.05,
                                                                    "max_iter": 200})


@dataclass(frozen=True)
class GBMTrainResult:
    model: GBMTrees
    train_windows: int
    wall_s: float


def pinball_loss(predicted: np.ndarray, actual: np.ndarray, quantile: float) -> float:
    """Mean quantile (pinball) loss in rps: ``q * (a - p)`` when under, ``(1 - q) * (p - a)`` when over."""
    d = np.asarray(actual, dtype=np.float64) - np.asarray(predicted, dtype=np.float64)
    return float(np.mean(np.maximum(quantile * d, (quantile - 1.0) * d)))


def train_gbm(trace: TwitterTrace, config: GBMTrainConfig = GBMTrainConfig(), *,
              split: TraceSplit = DEFAULT_SPLIT) -> GBMTrainResult:
    """Fit on the split's training days (windows as the LSTM's: last 120 s in, next 20 s peak out)."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    t0 = time.perf_counter()
    train = split_windows(trace, "train", split=split, stride_s=config.stride_s)
    if train.targets_rps.size == 0:
        raise ConfigError("the training days hold no gap-free 140 s window", field="trace")
    model = HistGradientBoostingRegressor(
        loss="quantile", quantile=config.quantile, max_iter=config.max_iter,
        max_leaf_nodes=config.max_leaf_nodes, learning_rate=config.learning_rate,
        early_stopping=False, random_state=config.seed,
    )
    model.fit(gbm_features(train.histories_rps), train.targets_rps)
    import sklearn

    meta = {
        "trace": trace.source.rsplit("/", 1)[-1], "trace_seconds": trace.duration_s, "damping": trace.damping,
        "train_days": list(split.days("train")), "train_windows": int(train.targets_rps.size),
        "target": "max of the next 20 s", "sklearn": sklearn.__version__, "python": platform.python_version(),
        **asdict(config),
    }
    trees = export_trees(model, config.quantile, float(train.targets_rps.max()), meta)
    return GBMTrainResult(trees, int(train.targets_rps.size), time.perf_counter() - t0)


def export_trees(model: Any, quantile: float, scale_rps: float, meta: dict[str, Any]) -> GBMTrees:
    """Flatten a fitted ``HistGradientBoostingRegressor`` (one output) into :class:`GBMTrees`."""
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("feature", "threshold", "left", "right", "value",
                                                          "is_leaf")}
    roots = []
    offset = 0
    for (tree,) in model._predictors:  # one tree per iteration for a single-output regressor
        nodes = tree.nodes
        leaf = nodes["is_leaf"].astype(bool)
        roots.append(offset)
        parts["feature"].append(np.where(leaf, 0, nodes["feature_idx"]))
        parts["threshold"].append(nodes["num_threshold"])
        parts["left"].append(np.where(leaf, offset, nodes["left"].astype(np.int64) + offset))
        parts["right"].append(np.where(leaf, offset, nodes["right"].astype(np.int64) + offset))
        parts["value"].append(np.where(leaf, nodes["value"], 0.0))
        parts["is_leaf"].append(leaf)
        offset += nodes.shape[0]
    flat = {k: np.concatenate(v) for k, v in parts.items()}
    baseline = float(np.ravel(model._baseline_prediction)[0])
    return GBMTrees(**flat, roots=np.array(roots), baseline=baseline, quantile=quantile, scale_rps=scale_rps,
                    meta=meta)


@dataclass(frozen=True)
class Candidate:
    config: GBMTrainConfig
    pinball_rps: float
    validation: PredictorScore
    wall_s: float


def select_on_validation(trace: TwitterTrace, base: GBMTrainConfig,
                         grid: Sequence[dict[str, Any]] = SELECTION_GRID, *,
                         split: TraceSplit = DEFAULT_SPLIT) -> list[Candidate]:
    """Train each candidate of ``grid`` (changes to ``base``) and score it on the validation days only.

    Sorted best first by pinball loss at ``base.quantile`` (the loss the model is trained for).
    """
    val = split_windows(trace, "validation", split=split)
    if val.targets_rps.size == 0:
        raise ConfigError("the validation days hold no gap-free window", field="split")
    out = []
    for change in grid:
        cfg = replace(base, **change)
        res = train_gbm(trace, cfg, split=split)
        pred = GBMPredictor(res.model).predict_many(val.histories_rps)
        out.append(Candidate(cfg, pinball_loss(pred, val.targets_rps, cfg.quantile),
                             score("candidate", pred, val.targets_rps), res.wall_s))
    return sorted(out, key=lambda c: c.pinball_rps)
