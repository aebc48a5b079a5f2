"""``constant``: one intensity for the whole run (e.g. a grid's annual average typed in by the user)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ipa_energy.carbon.base import CarbonIntensitySource, check_intensity


class ConstantIntensity(CarbonIntensitySource):
    def __init__(self, g_per_kwh: float, *, label: str | None = None) -> None:
        self.g_per_kwh = check_intensity(g_per_kwh, field="g_per_kwh")
        self.source = f"constant {self.g_per_kwh:g} g/kWh ({label or 'user value'})"

    def intensity_g_per_kwh(self, t_s: float) -> float:
        return self.g_per_kwh

    def intensity_per_second(self, t_s: ArrayLike) -> NDArray[np.float64]:
        return np.full(np.shape(t_s), self.g_per_kwh, dtype=np.float64)
