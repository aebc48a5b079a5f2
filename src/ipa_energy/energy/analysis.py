"""Analysis of per-interval energy series: binning (per minute), smoothing (rolling mean, EWMA,
Savitzky-Golay) and idle/active summaries. Gaps (NaN) are never treated as zeros: bins average only
valid intervals (energy-weighted: sum of joules / sum of covered seconds), smoothers skip them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ipa_energy.energy.formats import DomainSeries
from ipa_energy.errors import ConfigError

F64 = NDArray[np.float64]


@dataclass(frozen=True)
class Binned:
    """Mean power per bin. ``start_s`` are bin starts; ``covered_s`` the valid seconds in each bin."""

    start_s: F64
    mean_power_w: F64
    covered_s: F64
    width_s: float


def binned(series: DomainSeries, width_s: float = 60.0, *, min_coverage: float = 0.5) -> Binned:
    """Energy-weighted mean power per ``width_s`` bin (by interval end time); bins covered by less than
    ``min_coverage`` of their width are NaN (a final partial minute with a few seconds is not a minute)."""
    if width_s <= 0:
        raise ConfigError(f"must be > 0 (got {width_s})", field="width_s")
    if len(series.t_s) == 0:
        empty = np.array([], dtype=float)
        return Binned(empty, empty, empty, width_s)
    start = series.t_s - series.interval_s
    idx = np.floor(np.maximum(start, 0.0) / width_s + 1e-9).astype(int)
    n = int(idx.max()) + 1
    valid = series.valid
    energy = np.bincount(idx[valid], weights=series.energy_j[valid], minlength=n)
    covered = np.bincount(idx[valid], weights=series.interval_s[valid], minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(covered >= min_coverage * width_s, energy / covered, np.nan).astype(np.float64)
    starts = (np.arange(n) * width_s).astype(np.float64)
    return Binned(starts, mean, covered.astype(np.float64), width_s)


def per_minute(series: DomainSeries, *, min_coverage: float = 0.5) -> Binned:
    return binned(series, 60.0, min_coverage=min_coverage)


def rolling_mean(x: F64, window: int) -> F64:
    """Trailing mean over ``window`` points, ignoring NaNs (NaN where the window holds none)."""
    if window < 1:
        raise ConfigError(f"must be >= 1 (got {window})", field="window")
    x = np.asarray(x, dtype=float)
    valid = ~np.isnan(x)
    csum = np.concatenate([[0.0], np.cumsum(np.where(valid, x, 0.0))])
    ccount = np.concatenate([[0], np.cumsum(valid)])
    hi = np.arange(1, len(x) + 1)
    lo = np.maximum(hi - window, 0)
    count = ccount[hi] - ccount[lo]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(count > 0, (csum[hi] - csum[lo]) / count, np.nan)


def ewma(x: F64, alpha: float) -> F64:
    """Exponentially weighted moving average (``alpha`` in (0, 1]); a gap carries the previous value."""
    if not 0 < alpha <= 1:
        raise ConfigError(f"must be in (0, 1] (got {alpha})", field="alpha")
    x = np.asarray(x, dtype=float)
    out = np.full(len(x), np.nan)
    s = np.nan
    for i, v in enumerate(x):
        if not np.isnan(v):
            s = v if np.isnan(s) else alpha * v + (1 - alpha) * s
        out[i] = s
    return out


def savgol(x: F64, window: int, polyorder: int = 2) -> F64:
    """Savitzky-Golay filter (scipy); gaps are linearly interpolated for the filter, then put back as NaN."""
    from scipy.signal import savgol_filter

    x = np.asarray(x, dtype=float)
    valid = ~np.isnan(x)
    if valid.sum() <= polyorder:
        return np.full(len(x), np.nan)
    window = min(window, int(valid.sum()))
    if window % 2 == 0:
        window -= 1
    if window <= polyorder:
        raise ConfigError(f"window {window} must exceed polyorder {polyorder}", field="window")
    idx = np.arange(len(x))
    filled = np.interp(idx, idx[valid], x[valid])
    out: F64 = savgol_filter(filled, window, polyorder)
    out[~valid] = np.nan
    return out


SMOOTHERS: dict[str, str] = {
    "none": "no smoothing",
    "rolling": "trailing rolling mean (param: window points, default 5)",
    "ewma": "exponentially weighted moving average (param: alpha, default 0.3)",
    "savgol": "Savitzky-Golay (params: window points, default 7; polyorder 2)",
}


def smoother(spec: str) -> tuple[str, Callable[[F64], F64]]:
    """Parse ``name[:param]`` (e.g. ``rolling:5``, ``ewma:0.2``, ``savgol:9``) into a label and a function."""
    name, _, param = spec.partition(":")
    try:
        if name == "none":
            return "raw", lambda x: np.asarray(x, dtype=float)
        if name == "rolling":
            w = int(param or 5)
            return f"rolling mean ({w})", lambda x: rolling_mean(x, w)
        if name == "ewma":
            a = float(param or 0.3)
            return f"EWMA (alpha {a:g})", lambda x: ewma(x, a)
        if name == "savgol":
            w = int(param or 7)
            return f"Savitzky-Golay ({w}, 2)", lambda x: savgol(x, w, 2)
    except ValueError:
        raise ConfigError(f"bad parameter {param!r} in {spec!r}", field="smooth") from None
    raise ConfigError(f"unknown smoother {name!r}; valid: {', '.join(SMOOTHERS)}", field="smooth")


@dataclass(frozen=True)
class IdleActive:
    idle_w: float
    idle_j: float
    active_j: float
    duration_s: float


def idle_active(series: DomainSeries, idle_w: float | None = None, *, idle_quantile: float = 0.05) -> IdleActive:
    """Split a series' energy into idle (``idle_w`` x covered time) and active (the rest, >= 0 per interval).

    Without ``idle_w`` the idle power is estimated as the ``idle_quantile`` of per-interval power (a
    label-worthy estimate: the run must contain idle seconds for it to mean anything).
    """
    valid = series.valid
    p = series.power_w[valid]
    if idle_w is None:
        idle_w = float(np.quantile(p, idle_quantile)) if len(p) else 0.0
    iv = series.interval_s[valid]
    idle_j = float(np.sum(np.minimum(series.energy_j[valid], idle_w * iv)))
    active_j = float(np.sum(np.maximum(series.energy_j[valid] - idle_w * iv, 0.0)))
    return IdleActive(idle_w, idle_j, active_j, float(iv.sum()))
