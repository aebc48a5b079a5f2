"""``diurnal``: a SYNTHETIC intensity profile (sine or square wave); its label says synthetic everywhere.

No hourly grid trace ships with this package; this generator exists to exercise carbon-aware adaptation
with a controlled swing (e.g. ``period_s=600``: clean and dirty alternate every five minutes). Its
numbers are not grid data.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ipa_energy.carbon.base import CarbonIntensitySource, check_intensity
from ipa_energy.errors import ConfigError

SHAPES = ("sine", "square")


class DiurnalIntensity(CarbonIntensitySource):
    """``mean + amplitude * wave((t + phase_s) / period_s)``.

    sine: a smooth day, dirtiest a quarter period in and cleanest three quarters in; square:
    ``mean - amplitude`` (clean) for the first half of each period, then ``mean + amplitude`` (dirty).
    Units g CO2/kWh; amplitude <= mean so the value never goes negative.
    """

    def __init__(
        self,
        mean_g_per_kwh: float = 300.0,
        amplitude_g_per_kwh: float = 150.0,
        *,
        period_s: float = 86_400.0,
        phase_s: float = 0.0,
        shape: str = "sine",
    ) -> None:
        self.mean_g_per_kwh = check_intensity(mean_g_per_kwh, field="mean_g_per_kwh")
        self.amplitude_g_per_kwh = check_intensity(amplitude_g_per_kwh, field="amplitude_g_per_kwh")
        if self.amplitude_g_per_kwh > self.mean_g_per_kwh:
            raise ConfigError(
                f"must be <= mean_g_per_kwh={self.mean_g_per_kwh:g} (got {amplitude_g_per_kwh!r})",
                field="amplitude_g_per_kwh",
            )
        if not (isinstance(period_s, int | float) and math.isfinite(period_s) and period_s > 0):
            raise ConfigError(f"must be a positive number of seconds (got {period_s!r})", field="period_s")
        if not (isinstance(phase_s, int | float) and math.isfinite(phase_s)):
            raise ConfigError(f"must be a number of seconds (got {phase_s!r})", field="phase_s")
        if shape not in SHAPES:
            raise ConfigError(f"must be one of {', '.join(SHAPES)} (got {shape!r})", field="shape")
        self.period_s = float(period_s)
        self.phase_s = float(phase_s)
        self.shape = shape
        self.source = (
            f"synthetic diurnal {shape} (not grid data): {self.mean_g_per_kwh:g} +- "
            f"{self.amplitude_g_per_kwh:g} g/kWh, period {self.period_s:g} s"
        )

    def intensity_per_second(self, t_s: ArrayLike) -> NDArray[np.float64]:
        x = (np.asarray(t_s, dtype=np.float64) + self.phase_s) / self.period_s
        wave = np.sin(2 * np.pi * x) if self.shape == "sine" else np.where(x % 1.0 < 0.5, -1.0, 1.0)
        out: NDArray[np.float64] = np.maximum(0.0, self.mean_g_per_kwh + self.amplitude_g_per_kwh * wave)
        return out

    def intensity_g_per_kwh(self, t_s: float) -> float:
        return float(self.intensity_per_second(np.array([t_s]))[0])
