"""The metrics of a run, computed once for every backend.

* Accounting: ``sent = completed + dropped + failed + in_flight`` (in_flight is what the run's drain could
  not finish; it is 0 after a normal end). ``late`` = completed after the SLA.
* SLA violations by both definitions: ``sla_violation_pct`` counts dropped, failed, unfinished and late
  requests; ``drop_pct`` is the paper's definition (dropped, failed or unanswered only).
* Energy with its scope: ``energy_j = idle_energy_j + dynamic_energy_j``; ``stages`` (each stage's
  ``energy_j``) + ``unattributed_energy_j`` = ``energy_j``; ``energy_scope`` and ``energy_source`` say
  what the joules cover and whether they are measured or estimated.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ipa_energy.adapt import AdaptationStep
from ipa_energy.backends.base import RunSummary, SecondRecord

#: metric columns of summary.csv and ``simulate --json``, in order (``stages`` is a list in JSON, and
#: one ``<stage>_energy_j`` column per stage in tables)
METRIC_COLUMNS = (
    "sent", "completed", "dropped", "failed", "in_flight", "late", "sla_violation_pct", "drop_pct", "pas",
    "cost_cores", "energy_j", "idle_energy_j", "dynamic_energy_j", "unattributed_energy_j", "energy_scope",
    "energy_source", "mean_power_w", "latency_p50_s", "latency_p99_s", "decision_time_p50_s",
    "fallback_intervals", "rejected_decisions", "guard_actions", "served_s", "wall_s",
)


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


def run_metrics(
    seconds: Sequence[SecondRecord],
    summary: RunSummary,
    steps: Sequence[AdaptationStep],
    *,
    stage_names: Sequence[str],
    energy_scope: str,
    wall_s: float,
    extras: Mapping[str, Any] | None = None,
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
    out.update(extras or {})
    return out


__all__ = ["METRIC_COLUMNS", "energy_fields", "run_metrics"]
