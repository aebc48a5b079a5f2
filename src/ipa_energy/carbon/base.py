"""The carbon-intensity interface: grams of CO2-equivalent per kWh of grid electricity at a time.

Every source carries a ``source`` label saying where its numbers come from (a user trace, an annual
table, a synthetic generator) and whether they are measured grid data or an estimate; outputs that use a
source print that label next to the figures.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ipa_energy.errors import ConfigError


class CarbonIntensitySource(ABC):
    """Grid carbon intensity as a function of run time ``t_s`` (seconds from the start of the run).

    Units: g CO2-eq / kWh. Implementations are immutable values; they read no clock.
    """

    #: where the numbers come from, printed beside every figure computed from them
    source: str

    @abstractmethod
    def intensity_g_per_kwh(self, t_s: float) -> float:
        """The intensity in force at ``t_s``."""

    def intensity_per_second(self, t_s: ArrayLike) -> NDArray[np.float64]:
        """Vectorised :meth:`intensity_g_per_kwh` over an array of times (e.g. one per simulated second)."""
        t = np.asarray(t_s, dtype=np.float64)
        return np.array([self.intensity_g_per_kwh(float(x)) for x in t.ravel()], dtype=np.float64).reshape(t.shape)

    def mean_over(self, t0_s: float, t1_s: float) -> float:
        """Mean intensity over the seconds of ``[t0_s, t1_s)`` (the value at ``t0_s`` when the span is empty)."""
        if not t1_s > t0_s:
            return self.intensity_g_per_kwh(t0_s)
        return float(np.mean(self.intensity_per_second(np.arange(t0_s, t1_s, 1.0))))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.source!r})"


def check_intensity(value: float, *, field: str, source: str | None = None) -> float:
    """A finite, non-negative g/kWh value, or a ConfigError naming the field."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"must be a number of g CO2/kWh (got {value!r})", field=field, source=source) from None
    if not math.isfinite(x) or x < 0:
        raise ConfigError(f"must be a finite number >= 0 g CO2/kWh (got {value!r})", field=field, source=source)
    return x
