"""Scoring predictors on held-out days of the Twitter trace: SMAPE against the max load of the next 20 s."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ipa_energy.errors import ConfigError
from ipa_energy.predict.base import Predictor
from ipa_energy.predict.features import history_windows, supervised_windows
from ipa_energy.predict.split import DEFAULT_SPLIT, Part, TraceSplit
from ipa_energy.workloads.twitter import TwitterTrace


def smape_pct(predicted: ArrayLike, actual: ArrayLike) -> float:
    """Symmetric mean absolute percentage error, in %: ``100 * mean(2|p - a| / (|p| + |a|))``.

    A term with ``p == a == 0`` counts as 0 (a perfect prediction).
    """
    p = np.asarray(predicted, dtype=np.float64)
    a = np.asarray(actual, dtype=np.float64)
    if p.shape != a.shape or p.size == 0:
        raise ValueError(f"need two non-empty arrays of one shape, got {p.shape} and {a.shape}")
    den = np.abs(p) + np.abs(a)
    terms = np.divide(2.0 * np.abs(p - a), den, out=np.zeros_like(den), where=den > 0)
    return float(100.0 * terms.mean())


@dataclass(frozen=True)
class PredictorScore:
    """How one predictor did on the evaluation windows (target: max load of the next 20 s)."""

    name: str
    smape_pct: float
    mae_rps: float
    #: share of windows where the prediction was below the target (under-provisioning), in %
    under_pct: float
    windows: int


@dataclass(frozen=True)
class HeldOut:
    """Evaluation windows: raw 120 s histories, targets, and which days they came from."""

    histories_rps: np.ndarray
    targets_rps: np.ndarray
    first_day: float
    last_day: float | None
    stride_s: int


def held_out_windows(
    trace: TwitterTrace, *, first_day: float = 14.0, last_day: float | None = None, stride_s: int = 10
) -> HeldOut:
    """Every ``stride_s`` s of days ``[first_day, last_day)`` (None: to the end), gap-free windows only."""
    _, y, t = supervised_windows(
        trace.rates_rps, trace.gaps, trace.day_range(first_day, last_day), stride_s=stride_s
    )
    return HeldOut(history_windows(trace.rates_rps, t), y, first_day, last_day, stride_s)


def split_windows(
    trace: TwitterTrace, part: Part, *, split: TraceSplit = DEFAULT_SPLIT, stride_s: int = 10
) -> HeldOut:
    """The gap-free windows of one part (train, validation or test) of ``split``."""
    first, last = split.days(part)
    return held_out_windows(trace, first_day=first, last_day=last, stride_s=stride_s)


def score(name: str, predicted: ArrayLike, actual: ArrayLike) -> PredictorScore:
    p = np.asarray(predicted, dtype=np.float64)
    a = np.asarray(actual, dtype=np.float64)
    return PredictorScore(
        name=name,
        smape_pct=smape_pct(p, a),
        mae_rps=float(np.abs(p - a).mean()),
        under_pct=float(100.0 * (p < a).mean()),
        windows=int(a.size),
    )


def evaluate_predictors(predictors: Mapping[str, Predictor], held_out: HeldOut) -> list[PredictorScore]:
    """Score each predictor on the same windows (histories of the last 120 s)."""
    if held_out.targets_rps.size == 0:
        raise ConfigError("no gap-free evaluation window in the held-out days", field="held_out")
    return [
        score(name, p.predict_many(held_out.histories_rps), held_out.targets_rps)
        for name, p in predictors.items()
    ]
