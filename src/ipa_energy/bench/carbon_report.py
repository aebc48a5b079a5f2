"""The bench report's carbon section: carbon beside energy per run, ipa-carbon against ipa, what a power
cap cost, and the carbon figures (PAS over time against intensity over time; carbon vs accuracy across
Clover's lambda). Only runs with a carbon source or a power cap appear; without any the section is empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ipa_energy.bench import carbon_plots
from ipa_energy.runs import RunResult

#: ipa-carbon's target of issue 13, checked per (pipeline, workload, carbon source): carbon at most this
#: share of ipa's, SLA violations at most this many percent
CARBON_SHARE_TARGET = 0.93
CARBON_MAX_SLA_PCT = 2.0


def _key(r: RunResult) -> tuple[str, str, str, str, int]:
    s = r.spec
    return (s.pipeline, s.workload, s.grid_label, s.predictor or "", s.seed)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "" if v is None else str(v)


def _table(rows: Sequence[dict[str, Any]], cols: Sequence[str]) -> list[str]:
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    return out + ["| " + " | ".join(_fmt(r.get(c)) for c in cols) + " |" for r in rows]


def carbon_section(results: Sequence[RunResult], out: Path) -> list[str]:
    """Markdown lines of the carbon section; its plots are written under ``out / "plots"``."""
    main = [r for r in results if r.spec.group == "main" and (r.spec.carbon or r.spec.power_cap)]
    sweep = [r for r in results if r.spec.group == "carbon-sweep"]
    if not main and not sweep:
        return []
    plot_dir = out / "plots"
    plot_dir.mkdir(parents=True, exist_ok=True)
    lines = ["## Carbon and power caps", "",
             "Carbon = sum over seconds of energy x intensity / 3.6e6 (g CO2-eq). It is as estimated as its "
             "inputs: the simulator's energy is a model estimate; each intensity source is named below "
             "(synthetic, an annual estimate, or a user trace).", ""]
    groups: dict[tuple[str, str, str, str, int], list[RunResult]] = {}
    for r in main:
        groups.setdefault(_key(r), []).append(r)

    def twin(r: RunResult) -> tuple[object, ...]:
        s = r.spec
        return (s.pipeline, s.workload, s.carbon, s.predictor, s.seed, s.label.split(" @")[0])

    uncapped = {twin(r): r for r in main if r.spec.power_cap is None}
    for key, runs in groups.items():
        pipe, wl, grid, pred, seed = key
        ipa = next((r for r in runs if r.spec.system == "ipa"), None)
        rows = []
        for r in runs:
            m = r.metrics
            row: dict[str, Any] = {"label": r.spec.label, **m}
            if ipa is not None and "carbon_g" in m and ipa.metrics.get("carbon_g"):
                row["carbon_vs_ipa"] = f"{100 * m['carbon_g'] / ipa.metrics['carbon_g']:.1f} %"
            free = uncapped.get(twin(r)) if r.spec.power_cap is not None else None
            if free is not None:  # what the cap cost against the same system uncapped
                row["pas_vs_uncapped"] = m["pas"] - free.metrics["pas"]
                row["sla_pp_vs_uncapped"] = m["sla_violation_pct"] - free.metrics["sla_violation_pct"]
            rows.append(row)
        src = next((r.metrics.get("carbon_source") for r in runs if r.metrics.get("carbon_source")), None)
        cap = next((r.metrics.get("power_cap_source") for r in runs if r.metrics.get("power_cap_source")), None)
        lines += [f"### {pipe} / {wl} @{grid} (predictor {pred}, seed {seed})", ""]
        if src:
            lines += [f"Intensity: {src}.", ""]
        if cap:
            lines += [f"Power cap: {cap} (planned power; fallback when no configuration fits: the least-power "
                      "plan that meets the SLA, counted in `over_cap_intervals`).", ""]
        cols = ["label", "carbon_g", "carbon_vs_ipa", "energy_j", "pas", "cost_cores", "sla_violation_pct",
                "mean_intensity_g_per_kwh", "carbon_intensity_updates"]
        if cap:
            cols += ["time_above_cap_s", "energy_above_cap_j", "planned_power_max_w", "planned_above_cap_intervals",
                     "over_cap_intervals", "fallback_intervals", "pas_vs_uncapped", "sla_pp_vs_uncapped"]
        lines += [*_table(rows, [c for c in cols if any(c in r for r in rows)]), ""]
        aware = next((r for r in runs if r.spec.system == "ipa-carbon"), None)
        if ipa is not None and aware is not None and "carbon_g" in aware.metrics and ipa.metrics.get("carbon_g"):
            share = aware.metrics["carbon_g"] / ipa.metrics["carbon_g"]
            sla = aware.metrics["sla_violation_pct"]
            ok = share <= CARBON_SHARE_TARGET and sla <= CARBON_MAX_SLA_PCT
            lines += [f"ipa-carbon emits **{100 * share:.1f} %** of ipa's carbon with SLA violations "
                      f"**{sla:.3g} %** (target: <= {100 * CARBON_SHARE_TARGET:.0f} % and <= "
                      f"{CARBON_MAX_SLA_PCT:g} %): **{'holds' if ok else 'DISAGREES'}**.", ""]
        timed = [(r.spec.label, r.timeline) for r in runs if r.timeline and "intensity_g_per_kwh" in r.timeline[0]]
        if timed and src:
            name = "_".join(str(k) for k in key).replace("/", "-")
            path = plot_dir / f"carbon_{name}.png"
            carbon_plots.carbon_over_time(timed, path, f"{pipe} / {wl} @{grid}", src)
            lines += [f"![carbon over time]({path.relative_to(out)})", ""]
    if sweep:
        s0 = sweep[0].spec
        same = [r for r in main if (r.spec.pipeline, r.spec.workload, r.spec.carbon) ==
                (s0.pipeline, s0.workload, s0.carbon) and not r.spec.power_cap]
        def short(label: str) -> str:
            return label.replace(f" @{s0.grid_label}", "").replace(" mode=lambda", "")

        points = [{"label": short(r.spec.label), "carbon_g": r.metrics["carbon_g"], "pas": r.metrics["pas"],
                   "sla_violation_pct": r.metrics["sla_violation_pct"], "energy_j": r.metrics["energy_j"]}
                  for r in [*sweep, *same] if "carbon_g" in r.metrics]
        path = plot_dir / "carbon_pareto.png"
        carbon_plots.carbon_pareto(points, path, f"carbon vs accuracy: {s0.pipeline} / {s0.workload} @{s0.grid_label}\n"
                                                 "ipa-carbon across lambda (lam=...) and the main runs")
        lines += ["### Carbon vs accuracy across Clover's lambda", "",
                  f"ipa-carbon in lambda mode on {s0.pipeline} / {s0.workload} @{s0.grid_label}, beside the main runs "
                  "of the same source.", "",
                  *_table(points, ["label", "carbon_g", "pas", "energy_j", "sla_violation_pct"]), "",
                  f"![carbon pareto]({path.relative_to(out)})", ""]
    return lines


__all__ = ["CARBON_MAX_SLA_PCT", "CARBON_SHARE_TARGET", "carbon_section"]
