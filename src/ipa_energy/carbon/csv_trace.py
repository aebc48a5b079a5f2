"""``csv``: a user's carbon-intensity trace, ``t_s,g_co2_per_kwh`` at any step, read as a step function."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ipa_energy.carbon.base import CarbonIntensitySource
from ipa_energy.carbon.step import StepSeries, read_step_csv
from ipa_energy.errors import ConfigError

VALUE_COLUMN = "g_co2_per_kwh"


class CsvIntensity(CarbonIntensitySource):
    """The trace in ``path``; ``time_scale`` K > 1 replays it K times faster (run second t reads trace
    time K * t), e.g. ``time_scale=60`` turns an hourly trace into one step per minute. The label says so.

    ``label`` names what the trace is (e.g. "CAISO March, measured hourly"); by default the file name.
    """

    def __init__(self, path: str | Path, *, time_scale: float = 1.0, label: str | None = None) -> None:
        if not (isinstance(time_scale, int | float) and math.isfinite(time_scale) and time_scale > 0):
            raise ConfigError(f"must be a positive number (got {time_scale!r})", field="time_scale")
        self.path = Path(path)
        self.time_scale = float(time_scale)
        self.series: StepSeries = read_step_csv(self.path, VALUE_COLUMN, unit="g CO2/kWh")
        what = label or self.path.name
        scaled = f", time compressed x{self.time_scale:g}" if self.time_scale != 1.0 else ""
        self.source = f"trace {what} (user CSV, step function{scaled})"

    def intensity_g_per_kwh(self, t_s: float) -> float:
        return self.series.at(t_s * self.time_scale)

    def intensity_per_second(self, t_s: ArrayLike) -> NDArray[np.float64]:
        return self.series.at_many(np.asarray(t_s, dtype=np.float64) * self.time_scale)
