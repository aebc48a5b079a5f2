"""Carbon from energy: grams = sum over seconds of energy (J) x intensity (g/kWh) / 3.6e6 (J per kWh).

Energy and intensity come one value per second of the run, aligned (second i of both is the same
second). The intensity of second i is the source's value at the second's start (``t_s = i`` from the
run's start). The carbon is as measured or as estimated as the energy and the intensity it is made of:
a result prints both sources.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ipa_energy.errors import ConfigError

#: joules in one kilowatt-hour
J_PER_KWH = 3.6e6


def _aligned(energy_j_per_s: ArrayLike, intensity_g_per_kwh_per_s: ArrayLike) -> tuple[NDArray[np.float64], ...]:
    e = np.asarray(energy_j_per_s, dtype=np.float64)
    c = np.asarray(intensity_g_per_kwh_per_s, dtype=np.float64)
    if e.ndim != 1 or c.shape != e.shape:
        raise ConfigError(
            f"energy and intensity need one value per second each (got shapes {e.shape} and {c.shape})",
            field="carbon",
        )
    return e, c


def carbon_g_per_second(
    energy_j_per_s: ArrayLike, intensity_g_per_kwh_per_s: ArrayLike
) -> NDArray[np.float64]:
    """Grams of CO2-eq emitted in each second."""
    e, c = _aligned(energy_j_per_s, intensity_g_per_kwh_per_s)
    out: NDArray[np.float64] = e * c / J_PER_KWH
    return out


def carbon_g(energy_j_per_s: ArrayLike, intensity_g_per_kwh_per_s: ArrayLike) -> float:
    """Total grams of CO2-eq: sum(energy_j x intensity_g_per_kwh / 3.6e6) over the seconds."""
    return math.fsum(carbon_g_per_second(energy_j_per_s, intensity_g_per_kwh_per_s).tolist())


def carbon_g_by_stage(
    stage_energy_j_per_s: Mapping[str, ArrayLike], intensity_g_per_kwh_per_s: ArrayLike
) -> dict[str, float]:
    """:func:`carbon_g` of each stage's per-second energy (the stages add up to the total they add up to)."""
    return {name: carbon_g(e, intensity_g_per_kwh_per_s) for name, e in stage_energy_j_per_s.items()}


__all__ = ["J_PER_KWH", "carbon_g", "carbon_g_by_stage", "carbon_g_per_second"]
