"""Power caps that follow a schedule (a constant, or a CSV ``t_s,max_power_w`` such as a demand-response
event), and how much of a run went over its cap.

A cap bounds the pipeline's *planned* power (``Problem.max_power_w``: idle + dynamic W of the chosen
configuration at the predicted rate). What the run then draws per second can still exceed it when the load
beats the prediction; :func:`time_above_cap_s` and :func:`energy_above_cap_j` report that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ipa_energy.carbon.step import StepSeries, read_step_csv
from ipa_energy.errors import ConfigError

VALUE_COLUMN = "max_power_w"


@dataclass(frozen=True, eq=False)
class PowerCapSchedule:
    """The cap in W as a step function of run time; ``source`` says where it came from."""

    series: StepSeries
    source: str

    @classmethod
    def constant(cls, max_power_w: float) -> PowerCapSchedule:
        if not (isinstance(max_power_w, int | float) and math.isfinite(max_power_w) and max_power_w > 0):
            raise ConfigError(f"must be a positive number of W (got {max_power_w!r})", field="power_cap")
        series = StepSeries(np.zeros(1), np.array([float(max_power_w)]))
        return cls(series, f"constant {float(max_power_w):g} W")

    @classmethod
    def from_csv(cls, path: str | Path) -> PowerCapSchedule:
        return cls(read_step_csv(path, VALUE_COLUMN, unit="W", positive=True), f"schedule {Path(path).name}")

    @classmethod
    def parse(cls, text: str) -> PowerCapSchedule:
        """``--power-cap``: a number of W, or the path of a ``t_s,max_power_w`` CSV."""
        try:
            value = float(text)
        except ValueError:
            return cls.from_csv(text)
        return cls.constant(value)

    def max_power_w(self, t_s: float) -> float:
        return self.series.at(t_s)

    def max_power_w_per_second(self, t_s: ArrayLike) -> NDArray[np.float64]:
        return self.series.at_many(t_s)

    def min_over(self, t0_s: float, t1_s: float) -> float:
        """The tightest cap in force during ``[t0_s, t1_s)``: what one interval's plan must respect."""
        return self.series.min_over(t0_s, t1_s)


def _over(power_w_per_s: ArrayLike, cap_w_per_s: ArrayLike) -> NDArray[np.float64]:
    p = np.asarray(power_w_per_s, dtype=np.float64)
    cap = np.asarray(cap_w_per_s, dtype=np.float64)
    if p.ndim != 1 or cap.shape != p.shape:
        raise ConfigError(f"power and cap need one value per second each (got {p.shape} and {cap.shape})",
                          field="power_cap")
    out: NDArray[np.float64] = np.maximum(0.0, p - cap)
    return out


def time_above_cap_s(power_w_per_s: ArrayLike, cap_w_per_s: ArrayLike) -> float:
    """Seconds whose mean power exceeded that second's cap (each value covers one second)."""
    return float(np.count_nonzero(_over(power_w_per_s, cap_w_per_s) > 0))


def energy_above_cap_j(power_w_per_s: ArrayLike, cap_w_per_s: ArrayLike) -> float:
    """Joules drawn above the cap, summed over the seconds."""
    return float(_over(power_w_per_s, cap_w_per_s).sum())


__all__ = ["PowerCapSchedule", "energy_above_cap_j", "time_above_cap_s"]
