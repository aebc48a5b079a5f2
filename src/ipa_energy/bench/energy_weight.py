"""Choosing ``ipa-energy``'s energy weight on load the evaluation workloads do not use.

The weight (:data:`ipa_energy.optimize.presets.DEFAULT_ENERGY_WEIGHT`) is a hyper-parameter, so it is
chosen the way the predictors' settings are (``ipa_energy.predict.split``): never on the load it is then
judged on. ``scripts/choose_energy_weight.py`` runs this module end to end.

* **Windows.** Candidates are 1200 s windows of the full Twitter trace (with the 120 s before each as
  its history, all gap-free), starting every :data:`WINDOW_STRIDE_S` s, on the days no predictor was
  fitted on (the validation day and the test days) that hold none of the four evaluation workloads'
  trace seconds. For each evaluation workload the :data:`WINDOWS_PER_WORKLOAD` candidates nearest to it
  in (mean, sd, max) of the rate (Euclidean distance over its mean rate) are taken, none overlapping
  another (ties: the earlier window): the
  selection load looks like the evaluation load without being it. Only the load's shape is matched,
  never a run's outcome.
* **Seeds.** :data:`SELECTION_SEEDS` (arrivals and simulator noise); the bench's figures use seed 0.
* **Runs.** ``ipa-energy`` at each of :data:`SELECTION_WEIGHTS` on every window and seed, with the default
  experiment's pipeline, predictor, interval and simulator (``ExperimentSpec()``), through the one run
  path.
* **Rule** (:func:`choose_energy_weight`): per window, average over the seeds; a weight is admissible
  when on every window its mean PAS is within :data:`MAX_PAS_LOSS` (relative) of weight 0's and its mean
  SLA violations within :data:`MAX_EXTRA_VIOLATIONS_PP` percentage points; the admissible weight with
  the lowest total mean energy over the windows is chosen. Weights tied on energy (within
  :data:`TIE_REL`: on the reference profiles a whole range of weights gives the same decisions) give the
  middle weight of the tie (the lower middle for an even count), so the choice sits away from both ends
  of the range that behaves alike.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ipa_energy.bench.experiment import ExperimentSpec
from ipa_energy.predict.split import DEFAULT_SPLIT, EVALUATION_WINDOWS, TraceSplit
from ipa_energy.runs.spec import RunSpec
from ipa_energy.workloads.twitter import SECONDS_PER_DAY, TwitterTrace

#: relative PAS loss allowed against weight 0, on every window (mean over seeds)
MAX_PAS_LOSS = 0.01
#: extra SLA violations allowed against weight 0, percentage points, on every window (mean over seeds)
MAX_EXTRA_VIOLATIONS_PP = 0.5
#: the weights tried (objective units per W): 0 and half-decades from 1e-4 to 1
SELECTION_WEIGHTS = (0.0, 0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
#: seeds of the selection runs (the evaluation bench uses seed 0)
SELECTION_SEEDS = (10, 11, 12)
WINDOW_S = 1200
HISTORY_S = 120
WINDOW_STRIDE_S = 300
WINDOWS_PER_WORKLOAD = 2
GROUP = "energy-weight-selection"


@dataclass(frozen=True)
class SelectionWindow:
    """One window of the trace: run seconds ``[start_s, start_s + 1200)``, history the 120 s before."""

    name: str
    start_s: int
    like: str  # the evaluation workload it was matched to
    mean_rps: float
    sd_rps: float
    max_rps: float
    distance: float

    @property
    def day(self) -> float:
        return self.start_s / SECONDS_PER_DAY


def _stats(rates: np.ndarray) -> np.ndarray:
    return np.array([rates.mean(), rates.std(), rates.max()], dtype=float)


def selection_days(trace: TwitterTrace, split: TraceSplit = DEFAULT_SPLIT) -> list[int]:
    """Whole days no predictor was fitted on and no evaluation workload's trace seconds fall in."""
    first = math.ceil(split.validation_day)
    last = math.ceil(trace.duration_s / SECONDS_PER_DAY)
    used = {s // SECONDS_PER_DAY for wins in EVALUATION_WINDOWS.values() for a, b in wins for s in (a, b - 1)}
    return [d for d in range(first, last) if d not in used]


def selection_windows(
    trace: TwitterTrace,
    *,
    per_workload: int = WINDOWS_PER_WORKLOAD,
    split: TraceSplit = DEFAULT_SPLIT,
) -> list[SelectionWindow]:
    """The matched windows (module doc), in the order of the evaluation workloads, nearest first."""
    rates, gaps = trace.rates_rps, trace.gaps
    candidates: list[tuple[int, np.ndarray]] = []
    for day in selection_days(trace, split):
        lo = day * SECONDS_PER_DAY
        for start in range(lo + HISTORY_S, min(lo + SECONDS_PER_DAY, trace.duration_s) - WINDOW_S + 1,
                           WINDOW_STRIDE_S):
            if not gaps[start - HISTORY_S:start + WINDOW_S].any():
                candidates.append((start, _stats(rates[start:start + WINDOW_S])))
    chosen: list[SelectionWindow] = []
    for name, wins in EVALUATION_WINDOWS.items():
        target = _stats(np.concatenate([rates[a:b] for a, b in wins]))
        scored = sorted(
            (float(np.linalg.norm(s - target) / target[0]), start, s) for start, s in candidates
        )
        picked = 0
        for dist, start, s in scored:
            if picked == per_workload:
                break
            if any(abs(start - w.start_s) < WINDOW_S + HISTORY_S for w in chosen):
                continue  # windows (with their history) never overlap
            picked += 1
            chosen.append(SelectionWindow(f"sel_{name}_{picked}", start, name, float(s[0]), float(s[1]),
                                          float(s[2]), dist))
    return chosen


def write_window_csv(trace: TwitterTrace, window: SelectionWindow, path: Path) -> Path:
    """The window as a trace CSV (``t_s,rps``; ``t_s`` < 0 is its history), as ``load_workload`` reads it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    seconds = range(window.start_s - HISTORY_S, window.start_s + WINDOW_S)
    with path.open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["t_s", "rps"])
        w.writerows((s - window.start_s, int(trace.rates_rps[s])) for s in seconds)
    return path


def selection_specs(
    window_paths: Mapping[str, Path],
    *,
    weights: Iterable[float] = SELECTION_WEIGHTS,
    seeds: Iterable[int] = SELECTION_SEEDS,
    base: ExperimentSpec | None = None,
) -> list[RunSpec]:
    """``ipa-energy`` at every weight, window and seed, with the default experiment's other settings."""
    base = base or ExperimentSpec()
    sim = tuple(sorted((k, v) for k, v in base.sim.model_dump().items() if v is not None))
    return [
        RunSpec(base.pipelines[0], str(path), "ipa-energy", base.predictors[0], seed, base.load_scale,
                base.interval_s, base.duration_s, (("energy", float(w)),), sim, group=GROUP)
        for path in window_paths.values() for w in weights for seed in seeds
    ]


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    a = np.asarray(values, dtype=float)
    return float(a.mean()), float(a.std(ddof=1)) if a.size > 1 else 0.0


METRICS = ("energy_j", "pas", "sla_violation_pct", "cost_cores", "mean_power_w")


def aggregate(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per (window, energy weight): mean and sd over seeds of :data:`METRICS`, and the seeds counted.

    ``rows`` carry ``window``, ``energy_weight``, ``seed`` and the metrics.
    """
    keys = list(dict.fromkeys((r["window"], float(r["energy_weight"])) for r in rows))
    out = []
    for window, weight in keys:
        sel = [r for r in rows if r["window"] == window and float(r["energy_weight"]) == weight]
        row: dict[str, Any] = {"window": window, "energy_weight": weight, "seeds": len(sel)}
        for m in METRICS:
            row[m], row[f"{m}_sd"] = mean_sd([float(r[m]) for r in sel])
        out.append(row)
    return out


@dataclass(frozen=True)
class WeightSummary:
    """One weight against weight 0 over all windows (means over seeds per window)."""

    energy_weight: float
    total_energy_j: float
    energy_change_pct: float  # total vs weight 0
    worst_pas_change_pct: float  # the window where PAS fell most, relative
    worst_violation_change_pp: float  # the window where violations rose most
    admissible: bool


def summarize(agg: Sequence[Mapping[str, Any]]) -> list[WeightSummary] | None:
    """Every weight against weight 0 (None when a window lacks weight 0)."""
    windows = list(dict.fromkeys(r["window"] for r in agg))
    base = {w: next((r for r in agg if r["window"] == w and r["energy_weight"] == 0.0), None) for w in windows}
    if not windows or any(b is None for b in base.values()):
        return None
    base_total = sum(b["energy_j"] for b in base.values() if b is not None)
    out = []
    for weight in sorted({r["energy_weight"] for r in agg}):
        sel = [r for r in agg if r["energy_weight"] == weight]
        if {r["window"] for r in sel} != set(windows):
            continue  # not run on every window: not comparable
        pas = [100.0 * (r["pas"] / base[r["window"]]["pas"] - 1.0) for r in sel]  # type: ignore[index]
        viol = [r["sla_violation_pct"] - base[r["window"]]["sla_violation_pct"] for r in sel]  # type: ignore[index]
        total = sum(r["energy_j"] for r in sel)
        ok = min(pas) >= -100.0 * MAX_PAS_LOSS - 1e-9 and max(viol) <= MAX_EXTRA_VIOLATIONS_PP + 1e-9
        out.append(WeightSummary(weight, total, 100.0 * (total / base_total - 1.0), min(pas), max(viol), ok))
    return out


#: totals within this relative distance of the lowest are a tie
TIE_REL = 1e-3
RULE = (f"the lowest total energy over the selection windows among weights whose PAS stays within "
        f"{MAX_PAS_LOSS:.0%} and SLA violations within {MAX_EXTRA_VIOLATIONS_PP} pp of weight 0 on every "
        f"window (means over the seeds); weights tied on energy (within {TIE_REL:.1%}) give the middle "
        "one of the tie, so the weight has margin on both sides")


def choose_energy_weight(agg: Sequence[Mapping[str, Any]]) -> tuple[float | None, str]:
    """The rule of the module doc on :func:`aggregate`'s rows: (weight or None, why)."""
    summary = summarize(agg)
    if summary is None:
        return None, "no energy weight 0 on every window to compare against"
    admissible = [s for s in summary if s.admissible]
    if not admissible:
        return None, "no weight keeps PAS and violations within the bounds"
    lowest = min(s.total_energy_j for s in admissible)
    tied = sorted((s for s in admissible if s.total_energy_j <= lowest * (1 + TIE_REL)),
                  key=lambda s: s.energy_weight)
    return tied[(len(tied) - 1) // 2].energy_weight, RULE


def summary_table(summary: Sequence[WeightSummary], chosen: float | None) -> str:
    """The per-weight table as markdown (what docs/energy.md quotes)."""
    lines = ["| energy weight | total energy vs weight 0 | worst PAS change | worst violations change | "
             "admissible |", "|---|---|---|---|---|"]
    for s in summary:
        mark = "**" if s.energy_weight == chosen else ""
        lines.append(f"| {mark}{s.energy_weight:g}{mark} | {s.energy_change_pct:+.2f} % | "
                     f"{s.worst_pas_change_pct:+.2f} % | {s.worst_violation_change_pp:+.2f} pp | "
                     f"{'yes' if s.admissible else 'no'} |")
    return "\n".join(lines)


def windows_table(windows: Sequence[SelectionWindow]) -> str:
    lines = ["| window | trace seconds | day | like | rps mean / sd / max |", "|---|---|---|---|---|"]
    lines += [f"| {w.name} | {w.start_s}-{w.start_s + WINDOW_S} | {w.day:.2f} | {w.like} | "
              f"{w.mean_rps:.1f} / {w.sd_rps:.1f} / {w.max_rps:.0f} |" for w in windows]
    return "\n".join(lines)


__all__ = [
    "MAX_EXTRA_VIOLATIONS_PP", "MAX_PAS_LOSS", "RULE", "SELECTION_SEEDS", "SELECTION_WEIGHTS", "TIE_REL",
    "SelectionWindow",
    "WeightSummary", "aggregate", "choose_energy_weight", "mean_sd", "selection_days", "selection_specs",
    "selection_windows", "summarize", "summary_table", "windows_table", "write_window_csv",
]
