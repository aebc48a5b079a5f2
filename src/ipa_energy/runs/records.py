"""Rows of a run's tidy tables (per-second timeline, per-interval decisions), and a writer that appends
and flushes them as the run goes, so a run killed at any moment keeps what it measured."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from ipa_energy.adapt import AdaptationStep
from ipa_energy.backends.base import PipelineConfig, SecondRecord
from ipa_energy.carbon.accounting import carbon_g_per_second
from ipa_energy.carbon.base import CarbonIntensitySource
from ipa_energy.carbon.power_cap import PowerCapSchedule
from ipa_energy.runs.metrics import planned_above_cap


def config_str(config: PipelineConfig) -> str:
    return " | ".join(f"{s.variant} b{s.batch} x{s.replicas}" for s in config.stages)


def timeline_row(r: SecondRecord, stage_names: Sequence[str]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "t_s": r.t_s, "arrivals": r.arrivals, "completed": r.completed, "dropped": r.dropped,
        "failed": r.failed, "late": r.late, "latency_p50_s": r.latency_p50_s, "latency_p99_s": r.latency_p99_s,
        "cost_cores": r.cost_cores, "pas": r.pas, "power_w": r.power_w, "energy_j": r.energy_j,
        "idle_energy_j": r.idle_energy_j, "dynamic_energy_j": r.dynamic_energy_j,
        "unattributed_energy_j": r.unattributed_energy_j,
    }
    for name, e in zip(stage_names, r.stage_energy_j, strict=False):
        row[f"{name}_energy_j"] = e
    row.update({
        "energy_source": r.energy_source, "queue_lengths": " ".join(map(str, r.queue_lengths)),
        "config": config_str(r.config),
    })
    return row


def energy_row(r: SecondRecord, stage_names: Sequence[str]) -> dict[str, Any]:
    """The per-second energy log (``energy parse`` reads it): the split, per stage, and its source."""
    row: dict[str, Any] = {
        "t_s": r.t_s, "energy_j": r.energy_j, "power_w": r.power_w, "idle_energy_j": r.idle_energy_j,
        "dynamic_energy_j": r.dynamic_energy_j, "unattributed_energy_j": r.unattributed_energy_j,
    }
    for name, e in zip(stage_names, r.stage_energy_j, strict=False):
        row[f"{name}_energy_j"] = e
    row["energy_source"] = r.energy_source
    return row


def step_row(st: AdaptationStep) -> dict[str, Any]:
    return {
        "t_s": st.t_s, "predicted_rate_rps": st.predicted_rate_rps, "source": st.source,
        "objective": st.decision.objective, "reference_objective": st.reference_objective,
        "decision_time_s": st.decision_time_s, "solve_time_s": st.decision.solve_time_s,
        "config": config_str(st.config), "changed_stages": " ".join(map(str, st.changed_stages)),
        "rejected": "; ".join(st.rejected), "planned_power_w": st.planned_power_w,
    }


def grid_columns(
    r: SecondRecord, source: CarbonIntensitySource | None, cap: PowerCapSchedule | None
) -> dict[str, Any]:
    """A timeline row's carbon columns (intensity of the second, its grams) and power-cap column."""
    row: dict[str, Any] = {}
    if source is not None:
        intensity = source.intensity_g_per_kwh(float(r.t_s))
        row["intensity_g_per_kwh"] = intensity
        row["carbon_g"] = float(carbon_g_per_second([r.energy_j], [intensity])[0])
    if cap is not None:
        row["max_power_w"] = cap.max_power_w(float(r.t_s))
    return row


def cap_step_columns(st: AdaptationStep, cap: PowerCapSchedule, interval_s: float) -> dict[str, Any]:
    """A decision row's cap in force during its interval and whether the plan exceeded it."""
    return {"power_cap_w": cap.min_over(st.t_s, st.t_s + interval_s),
            "planned_above_cap": int(planned_above_cap(st, cap, interval_s))}


def fmt(v: Any) -> Any:
    if isinstance(v, float):
        return "" if not math.isfinite(v) else f"{v:.6g}"
    return "" if v is None else v


class RowWriter:
    """A CSV file written row by row: the header comes from the first row, every row is flushed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._f: IO[str] | None = None
        self._w: csv.DictWriter[str] | None = None

    def write(self, row: dict[str, Any]) -> None:
        if self._w is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._f = self.path.open("w", newline="")
            self._w = csv.DictWriter(self._f, fieldnames=list(row), extrasaction="ignore")
            self._w.writeheader()
        self._w.writerow({k: fmt(v) for k, v in row.items()})
        assert self._f is not None
        self._f.flush()

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None


__all__ = ["RowWriter", "cap_step_columns", "config_str", "energy_row", "fmt", "grid_columns", "step_row",
           "timeline_row"]
