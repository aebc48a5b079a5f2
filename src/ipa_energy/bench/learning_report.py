"""The bench report's closed-loop section, "Closed loop: what was learned": per (pipeline, workload), a
figure of what one representative run's online profile learned against the offline profile over time, per
stage, and a table of every run: batches observed, decisions changed by what was learned out of the
interval decisions, and the final learned / offline latency and energy per stage.

Everything is read from the run's outputs: ``<run>_learned.csv`` (``runs/learning.py``: per interval and
observed option, offline and learned latency and energy, ``n`` observations), the run's metrics
(``learned_observations``, ``learned_decision_changes``) and its decision rows. A stage's ratio at an
interval is the median over its observed options of learned / offline, each option weighted by its ``n``.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ipa_energy.runs import RunResult

#: the system whose run is drawn per (pipeline, workload): the default adaptive system
REPRESENTATIVE_SYSTEM = "ipa"
LEARNED_SUFFIX = "_learned.csv"


@dataclass(frozen=True)
class StageRatio:
    """One stage at one interval: learned / offline, the n-weighted median over its observed options."""

    t_s: float
    stage: str
    latency_ratio: float
    energy_ratio: float  # nan where no option had a finite, positive energy on both sides
    n: int  # observations behind it (the options' n summed)


def weighted_median(values: Sequence[float], weights: Sequence[float]) -> float:
    """The smallest value at which the cumulative weight reaches half the total; nan when nothing weighs."""
    pairs = sorted((v, w) for v, w in zip(values, weights, strict=True) if w > 0 and math.isfinite(v))
    total = sum(w for _, w in pairs)
    if total <= 0:
        return math.nan
    acc = 0.0
    for v, w in pairs:
        acc += w
        if acc >= total / 2:
            return v
    return pairs[-1][0]


def _num(text: str | None) -> float:
    try:
        return float(text) if text not in (None, "") else math.nan
    except ValueError:
        return math.nan


def _ratio(learned: float, offline: float) -> float:
    return learned / offline if offline > 0 and math.isfinite(learned) and math.isfinite(offline) else math.nan


def read_learned(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def stage_ratios(rows: Sequence[dict[str, str]]) -> list[StageRatio]:
    """Per interval (``t_s``) and stage of ``<run>_learned.csv`` rows, in time order, stages as first seen."""
    groups: dict[tuple[float, str], list[dict[str, str]]] = {}
    for row in rows:
        groups.setdefault((_num(row["t_s"]), row["stage"]), []).append(row)
    out = []
    for (t_s, stage), opts in sorted(groups.items(), key=lambda kv: kv[0][0]):  # stable: stage order kept
        n = [_num(o["n"]) for o in opts]
        lat = [_ratio(_num(o["learned_latency_s"]), _num(o["offline_latency_s"])) for o in opts]
        energy = [_ratio(_num(o["learned_energy_j"]), _num(o["offline_energy_j"])) for o in opts]
        out.append(StageRatio(t_s, stage, weighted_median(lat, n), weighted_median(energy, n),
                              int(sum(x for x in n if math.isfinite(x)))))
    return out


def learned_csv(result: RunResult) -> Path | None:
    """The run's ``<run>_learned.csv`` (None with learning off or before the first observed batch)."""
    return next((Path(f) for f in result.files if f.endswith(LEARNED_SUFFIX) and Path(f).exists()), None)


def interval_decisions(steps: Sequence[dict[str, Any]]) -> int:
    """The decisions learning is compared on: every interval's after t = 0 (the first is planned before any
    batch is served), guard actions excluded (they fix variants: no static twin, ``runs/run.py``)."""
    from ipa_energy.adapt.policy import GUARD_SOURCES

    return sum(1 for s in steps if s["source"] not in GUARD_SOURCES and float(s["t_s"]) > 0)


def final_ratios(ratios: Sequence[StageRatio]) -> dict[str, StageRatio]:
    """Each stage's ratio at its last interval."""
    return {r.stage: r for r in ratios}


def _predictor(result: RunResult) -> str:
    """The predictor the run used (a spec without one ran its system's own, named in the metrics)."""
    return str(result.spec.predictor or result.metrics.get("predictor") or "")


def closed_loop_row(result: RunResult, ratios: Sequence[StageRatio]) -> dict[str, Any]:
    """The table row of one run: what it observed, what it changed, where each stage's estimate ended."""
    m = result.metrics
    row: dict[str, Any] = {
        "label": result.spec.label, "predictor": _predictor(result), "seed": result.spec.seed,
        "learning": "on" if m.get("learning") else "off",
        "learned_observations": m.get("learned_observations", 0), "learned_options": m.get("learned_options", 0),
        "decisions_changed": m.get("learned_decision_changes", 0),
        "interval_decisions": interval_decisions(result.steps),
    }
    for stage, r in final_ratios(ratios).items():
        row[f"{stage}_latency_ratio"] = r.latency_ratio
        row[f"{stage}_energy_ratio"] = r.energy_ratio
    return row


def _stage_points(ratios: Sequence[StageRatio]) -> dict[str, list[tuple[float, float, float]]]:
    out: dict[str, list[tuple[float, float, float]]] = {}
    for r in ratios:
        out.setdefault(r.stage, []).append((r.t_s, r.latency_ratio, r.energy_ratio))
    return out


def _representative(runs: Sequence[RunResult], ratios: dict[int, list[StageRatio]]) -> RunResult | None:
    """``ipa``'s first run with learned rows; else the first run with any."""
    learned = [r for r in runs if ratios[id(r)]]
    return next((r for r in learned if r.spec.system == REPRESENTATIVE_SYSTEM), learned[0] if learned else None)


def _world_note(runs: Sequence[RunResult], out: Path) -> list[str]:
    worlds = list(dict.fromkeys(r.spec.world_profile for r in runs if r.spec.world_profile is not None))
    if worlds:
        names = ", ".join(f"`{_relative(Path(w), out)}`" for w in worlds)
        static = [r.spec.label for r in runs if not r.spec.learn]
        return [f"The simulated machines serve a world profile that differs from the plan ({names}; the "
                "optimizer plans with the pipeline's profile). Ratios away from 1 are what learning found; "
                + ("static runs (" + ", ".join(dict.fromkeys(static)) + ") plan with the offline profile "
                   "throughout." if static else "every run here learns."), ""]
    if any(r.spec.backend != "sim" for r in runs):
        return []
    return ["The simulated world of these runs is the planning profile itself (no `world_profile`), so what "
            "is learned can only confirm the offline profile: ratios at 1 and no decision changed are the "
            "expected result here. A world that differs from the plan (an experiment's `world`, "
            "`experiments/closed_loop.yaml`, docs/bench.md) is where learning shows.", ""]


def _relative(path: Path, out: Path) -> str:
    try:
        return str(path.resolve().relative_to(out.resolve()))
    except ValueError:
        return str(path)


def learning_section(results: Sequence[RunResult], out: Path) -> list[str]:
    """Markdown lines of the section; its figures are written under ``out / "plots"``. Empty without main runs."""
    from ipa_energy.bench import learning_plots
    from ipa_energy.bench.report import _table
    from ipa_energy.config.validation import safe_filename

    main = [r for r in results if r.spec.group == "main"]
    if not main:
        return []
    lines = ["## Closed loop: what was learned", "",
             "Per run, the online profile learns each observed option's latency and energy from the served "
             "batches (docs/learning.md). Ratios are learned / offline, per stage the median over its "
             "observed options weighted by their observations, at the last interval (`<run>_learned.csv` in "
             "`runs/` has every interval and option). `decisions_changed`: interval decisions that differ "
             "from what the offline profile alone gives at the same predicted rate, out of "
             "`interval_decisions` (after t = 0, guard actions excluded).", "", *_world_note(main, out)]
    if not any(r.metrics.get("learning") for r in main):
        return [*lines, "Learning was off in every run (`--no-learn` / `learn: false`): nothing was learned "
                "and no decision changed.", ""]
    plot_dir = out / "plots"
    ratios = {id(r): stage_ratios(read_learned(p)) if (p := learned_csv(r)) is not None else [] for r in main}
    for pipe, wl in dict.fromkeys((r.spec.pipeline, r.spec.workload) for r in main):
        runs = [r for r in main if (r.spec.pipeline, r.spec.workload) == (pipe, wl)]
        lines += [f"### {pipe} / {wl}", ""]
        rows = [closed_loop_row(r, ratios[id(r)]) for r in runs]
        cols = list(dict.fromkeys(k for row in rows for k in row))
        lines += [_table(rows, cols), ""]
        off = [r.spec.label for r in runs if not r.metrics.get("learning")]
        unobserved = [r.spec.label for r in runs if r.metrics.get("learning") and not ratios[id(r)]]
        if off:
            lines += [f"Learning off (`--no-learn`): {', '.join(off)}.", ""]
        if unobserved:
            lines += [f"Learning on but no batch observed (nothing learned): {', '.join(unobserved)}.", ""]
        rep = _representative(runs, ratios)
        if rep is None:
            lines += ["No run here has learned rows, so there is no figure.", ""]
            continue
        why = ("the default adaptive system" if rep.spec.system == REPRESENTATIVE_SYSTEM
               else f"`{REPRESENTATIVE_SYSTEM}` has no learned rows here: the first run that has")
        m = rep.metrics
        caption = (f"system {rep.spec.label} ({why}), predictor {_predictor(rep)}, seed {rep.spec.seed}; "
                   f"decisions changed by learning: {m.get('learned_decision_changes', 0)} of "
                   f"{interval_decisions(rep.steps)}; per stage: n-weighted median over observed options")
        plot_dir.mkdir(parents=True, exist_ok=True)
        path = plot_dir / f"learned_{safe_filename(f'{pipe}_{wl}')}.png"
        learning_plots.learned_ratio_over_time(_stage_points(ratios[id(rep)]), path,
                                               f"{pipe} / {wl}: learned vs offline profile", caption)
        lines += [f"![learned vs offline, {pipe} / {wl}]({path.relative_to(out)})", "",
                  f"Figure: {caption}.", ""]
    return lines


__all__ = ["LEARNED_SUFFIX", "REPRESENTATIVE_SYSTEM", "StageRatio", "closed_loop_row", "final_ratios",
           "interval_decisions", "learned_csv", "learning_section", "read_learned", "stage_ratios",
           "weighted_median"]
