"""What a run reports about carbon and its power cap, from its per-second records.

A run with a carbon source gets ``carbon_g`` (total and per stage), the source's label, and per-second
``intensity_g_per_kwh`` / ``carbon_g`` columns for its timeline; a run with a power cap gets the time and
energy above the cap and a per-second ``max_power_w`` column. The figures are only as measured as their
inputs: simulator energy is a model estimate, a synthetic intensity is synthetic, and the labels say so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ipa_energy.carbon.accounting import carbon_g, carbon_g_by_stage, carbon_g_per_second
from ipa_energy.carbon.base import CarbonIntensitySource
from ipa_energy.carbon.power_cap import PowerCapSchedule, energy_above_cap_j, time_above_cap_s


@dataclass(frozen=True, eq=False)
class CarbonAccount:
    source: str
    carbon_g: float
    intensity_g_per_kwh_per_s: NDArray[np.float64]
    carbon_g_per_s: NDArray[np.float64]
    by_stage: Mapping[str, float] = field(default_factory=dict)

    def metrics(self) -> dict[str, Any]:
        i = self.intensity_g_per_kwh_per_s
        out: dict[str, Any] = {
            "carbon_g": self.carbon_g,
            "mean_intensity_g_per_kwh": float(i.mean()) if len(i) else float("nan"),
            "carbon_source": self.source,
        }
        if self.by_stage:
            out["carbon_g_by_stage"] = dict(self.by_stage)
        return out

    def timeline_columns(self) -> dict[str, NDArray[np.float64]]:
        return {"intensity_g_per_kwh": self.intensity_g_per_kwh_per_s, "carbon_g": self.carbon_g_per_s}


def account_carbon(
    source: CarbonIntensitySource,
    t_s: ArrayLike,
    energy_j_per_s: ArrayLike,
    stage_energy_j_per_s: Mapping[str, Sequence[float]] | None = None,
) -> CarbonAccount:
    """Carbon of the seconds starting at ``t_s`` (run time) that used ``energy_j_per_s`` each."""
    intensity = source.intensity_per_second(np.asarray(t_s, dtype=np.float64))
    return CarbonAccount(
        source=source.source,
        carbon_g=carbon_g(energy_j_per_s, intensity),
        intensity_g_per_kwh_per_s=intensity,
        carbon_g_per_s=carbon_g_per_second(energy_j_per_s, intensity),
        by_stage=carbon_g_by_stage(stage_energy_j_per_s, intensity) if stage_energy_j_per_s else {},
    )


@dataclass(frozen=True, eq=False)
class CapAccount:
    source: str
    time_above_cap_s: float
    energy_above_cap_j: float
    max_power_w_per_s: NDArray[np.float64]

    def metrics(self) -> dict[str, Any]:
        return {
            "time_above_cap_s": self.time_above_cap_s,
            "energy_above_cap_j": self.energy_above_cap_j,
            "power_cap_source": self.source,
        }

    def timeline_columns(self) -> dict[str, NDArray[np.float64]]:
        return {"max_power_w": self.max_power_w_per_s}


def account_cap(schedule: PowerCapSchedule, t_s: ArrayLike, power_w_per_s: ArrayLike) -> CapAccount:
    """How the per-second power of a run (mean W of each second starting at ``t_s``) met its cap."""
    cap = schedule.max_power_w_per_second(np.asarray(t_s, dtype=np.float64))
    return CapAccount(
        source=schedule.source,
        time_above_cap_s=time_above_cap_s(power_w_per_s, cap),
        energy_above_cap_j=energy_above_cap_j(power_w_per_s, cap),
        max_power_w_per_s=cap,
    )


__all__ = ["CapAccount", "CarbonAccount", "account_cap", "account_carbon"]
