"""The metrics of a run, computed once for every backend.

* Accounting: ``sent = completed + dropped + failed + in_flight`` (in_flight is what the run's drain could
  not finish; it is 0 after a normal end). ``late`` = completed after the SLA.
* SLA violations by both definitions: ``sla_violation_pct`` counts dropped, failed, unfinished and late
  requests; ``drop_pct`` is the paper's definition (dropped, failed or unanswered only).
* Energy with its scope: ``energy_j = idle_energy_j + dynamic_energy_j``; ``stages`` (each stage's
  ``energy_j``) + ``unattributed_energy_j`` = ``energy_j``; ``energy_scope`` and ``energy_source`` say
  what the joules cover and whether they are measured or estimated.
* Carbon (with a source): ``carbon_g`` = sum over seconds of energy_j x intensity / 3.6e6, split like the
  energy (each stage's ``carbon_g`` + ``unattributed_carbon_g`` = ``carbon_g``), with ``carbon_source``.
* Power cap (with a schedule): ``time_above_cap_s`` / ``energy_above_cap_j`` from the per-second power;
  ``planned_above_cap_intervals``: decisions whose planned power exceeded the cap in force during their
  interval (only the stated fallbacks can: ``over_cap_intervals``, the policy's ``fallback_intervals``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ipa_energy.adapt import AdaptationStep
from ipa_energy.backends.base import RunSummary, SecondRecord
from ipa_energy.carbon.accounting import carbon_g
from ipa_energy.carbon.base import CarbonIntensitySource
from ipa_energy.carbon.outputs import account_cap, account_carbon
from ipa_energy.carbon.power_cap import PowerCapSchedule
from ipa_energy.optimize.problem import BUDGET_RTOL

#: metric columns of summary.csv and ``simulate --json``, in order (``stages`` is a list in JSON, and
#: one ``<stage>_energy_j`` column per stage in tables)
METRIC_COLUMNS = (
    "sent", "completed", "dropped", "failed", "in_flight", "late", "sla_violation_pct", "drop_pct", "pas",
    "cost_cores", "energy_j", "idle_energy_j", "dynamic_energy_j", "unattributed_energy_j", "energy_scope",
    "energy_source", "mean_power_w", "latency_p50_s", "latency_p99_s", "decision_time_p50_s",
    "fallback_intervals", "rejected_decisions", "guard_actions", "served_s", "wall_s",
    # the online profile (runs/learning.py, docs/learning.md)
    "learning", "learned_observations", "learned_unmatched_observations", "learned_options",
    "learned_profile_error", "learned_latency_error", "learned_energy_error", "learned_decision_changes",
)
#: columns added with a carbon source / a power cap (summary.csv; ``<stage>_carbon_g`` per stage too)
CARBON_COLUMNS = ("carbon_g", "unattributed_carbon_g", "mean_intensity_g_per_kwh", "carbon_source",
                  "carbon_intensity_updates")
CAP_COLUMNS = ("time_above_cap_s", "energy_above_cap_j", "planned_power_max_w", "planned_above_cap_intervals",
               "over_cap_intervals", "power_cap_source")


def energy_fields(seconds: Sequence[SecondRecord], stage_names: Sequence[str], scope: str) -> dict[str, Any]:
    """Totals of the per-second energy split, with scope and source (the same fields on every backend)."""
    total = math.fsum(r.energy_j for r in seconds)
    per_stage = [math.fsum(r.stage_energy_j[i] for r in seconds if i < len(r.stage_energy_j))
                 for i in range(len(stage_names))]
    sources = sorted({r.energy_source for r in seconds})
    return {
        "energy_j": total,
        "idle_energy_j": math.fsum(r.idle_energy_j for r in seconds),
        "dynamic_energy_j": math.fsum(r.dynamic_energy_j for r in seconds),
        "unattributed_energy_j": math.fsum(r.unattributed_energy_j for r in seconds),
        "stages": [{"stage": n, "energy_j": e} for n, e in zip(stage_names, per_stage, strict=True)],
        "energy_scope": scope,
        "energy_source": " + ".join(sources) if sources else "none",
    }


def carbon_fields(
    seconds: Sequence[SecondRecord], stage_names: Sequence[str], source: CarbonIntensitySource
) -> dict[str, Any]:
    """``carbon_g`` of the run (second i at the intensity of t_s = i), per stage (``stage_carbon_g``) and
    unattributed, with the mean intensity and the source's label."""
    per_stage = {n: [r.stage_energy_j[i] if i < len(r.stage_energy_j) else 0.0 for r in seconds]
                 for i, n in enumerate(stage_names)}
    acc = account_carbon(source, [float(r.t_s) for r in seconds], [r.energy_j for r in seconds], per_stage)
    out = acc.metrics()
    out["stage_carbon_g"] = dict(out.pop("carbon_g_by_stage", {}))
    out["unattributed_carbon_g"] = carbon_g([r.unattributed_energy_j for r in seconds],
                                            acc.intensity_g_per_kwh_per_s)
    return out


def cap_fields(
    seconds: Sequence[SecondRecord], steps: Sequence[AdaptationStep], schedule: PowerCapSchedule, interval_s: float
) -> dict[str, Any]:
    """Time and energy above the cap (per-second power), and the decisions planned above it."""
    acc = account_cap(schedule, [float(r.t_s) for r in seconds], [r.power_w for r in seconds])
    planned = [st.planned_power_w for st in steps if st.planned_power_w is not None]
    return {
        **acc.metrics(),
        "planned_power_max_w": max(planned) if planned else None,
        "planned_above_cap_intervals": sum(planned_above_cap(st, schedule, interval_s) for st in steps),
    }


def planned_above_cap(st: AdaptationStep, schedule: PowerCapSchedule, interval_s: float) -> bool:
    """Whether a decision planned more than the tightest cap in force during its interval."""
    cap = schedule.min_over(st.t_s, st.t_s + interval_s)
    return st.planned_power_w is not None and st.planned_power_w > cap * (1 + BUDGET_RTOL) + 1e-12


def run_metrics(
    seconds: Sequence[SecondRecord],
    summary: RunSummary,
    steps: Sequence[AdaptationStep],
    *,
    stage_names: Sequence[str],
    energy_scope: str,
    wall_s: float,
    extras: Mapping[str, Any] | None = None,
    carbon: CarbonIntensitySource | None = None,
    power_cap: PowerCapSchedule | None = None,
    interval_s: float = 10.0,
) -> dict[str, Any]:
    s = summary
    sent = max(1, s.sent)
    lat = s.latencies_s
    served_s = float(len(seconds))
    energy = energy_fields(seconds, stage_names, energy_scope)
    out: dict[str, Any] = {
        "sent": s.sent,
        "completed": s.completed,
        "dropped": s.dropped,
        "failed": s.failed,
        "in_flight": s.in_flight,
        "late": s.late,
        "sla_violation_pct": 100.0 * (s.dropped + s.failed + s.in_flight + s.late) / sent,
        "drop_pct": 100.0 * (s.dropped + s.failed + s.in_flight) / sent,
        "pas": float(np.mean([r.pas for r in seconds])) if seconds else None,
        "cost_cores": float(np.mean([r.cost_cores for r in seconds])) if seconds else None,
        **energy,
        "mean_power_w": energy["energy_j"] / served_s if served_s else None,
        "latency_p50_s": float(np.percentile(lat, 50)) if len(lat) else None,
        "latency_p99_s": float(np.percentile(lat, 99)) if len(lat) else None,
        "decision_time_p50_s": float(np.median([st.decision_time_s for st in steps])) if steps else None,
        "fallback_intervals": sum(st.source in ("fallback", "rejected") for st in steps),
        "rejected_decisions": sum(bool(st.rejected) for st in steps),
        "reconfigurations": sum(bool(st.changed_stages) for st in steps[1:]),
        #: scale-ups the reactive guard applied between decisions (steps with source guard*)
        "guard_actions": sum(st.source.startswith("guard") for st in steps),
        "served_s": served_s,
        "wall_s": wall_s,
    }
    if carbon is not None:
        c = carbon_fields(seconds, stage_names, carbon)
        by_stage = c.pop("stage_carbon_g")
        out["stages"] = [{**x, "carbon_g": by_stage[x["stage"]]} for x in out["stages"]]
        out.update(c)
    if power_cap is not None:
        out.update(cap_fields(seconds, steps, power_cap, interval_s))
    out.update(extras or {})
    return out


__all__ = ["CAP_COLUMNS", "CARBON_COLUMNS", "METRIC_COLUMNS", "cap_fields", "carbon_fields", "energy_fields",
           "planned_above_cap", "run_metrics"]
