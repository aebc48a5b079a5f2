"""report.md: the summary table, the claims of the paper and the energy extension checked against the
simulation (with evidence, nothing tuned), the energy-weight sweep, and the plots."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

#: selection rule for ipa-energy's weight (applied to the sweep and shown in the report)
SWEEP_MAX_PAS_LOSS = 0.01  # relative, vs energy weight 0, on every workload
SWEEP_MAX_EXTRA_VIOLATIONS_PP = 0.5  # percentage points, vs energy weight 0, on every workload


def reference_values() -> dict[tuple[str, str, str], float]:
    text = resources.files("ipa_energy.bench").joinpath("reference_results.csv").read_text()
    rows = csv.DictReader(line for line in text.splitlines() if line and not line.startswith("#"))
    return {(r["kind"], r["workload"], r["system"]): float(r["value"]) for r in rows}


def _table(rows: Sequence[dict[str, Any]], cols: Sequence[str]) -> str:
    def f(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4g}"
        return str(v)

    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(f(r.get(c, "")) for c in cols) + " |" for r in rows]
    return "\n".join(out)


def _get(rows: Sequence[dict[str, Any]], workload: str, label: str) -> dict[str, Any] | None:
    return next((r for r in rows if r["workload"] == workload and r["label"] == label), None)


def claims(rows: Sequence[dict[str, Any]], workloads: Sequence[str]) -> list[dict[str, Any]]:
    """The four claims of issue 3, per workload: holds / disagrees / not run, with the numbers."""
    out = []
    specs = [
        ("FA2-high draws more power than IPA", "fa2-high", "ipa", "mean_power_w", ">"),
        ("FA2-high costs more cores than FA2-low", "fa2-high", "fa2-low", "cost_cores", ">"),
        ("ipa-energy uses no more energy than ipa", "ipa-energy", "ipa", "energy_j", "<="),
    ]
    for wl in workloads:
        for text, a, b, col, op in specs:
            ra, rb = _get(rows, wl, a), _get(rows, wl, b)
            if ra is None or rb is None:
                continue  # the experiment does not run both systems
            va, vb = ra[col], rb[col]
            ok = va > vb if op == ">" else va <= vb * (1 + 1e-9)
            out.append({"workload": wl, "claim": text, "verdict": "holds" if ok else "DISAGREES",
                        "evidence": f"{col}: {a} {va:.4g} vs {b} {vb:.4g}"})
        ext = [r for r in (_get(rows, wl, x) for x in ("ipa", "fa2-low", "fa2-high", "rim-high")) if r is not None]
        if len(ext) > 1 and ext[0]["label"] == "ipa":
            lowest = min(ext, key=lambda r: r["energy_j"])
            out.append({
                "workload": wl, "claim": "IPA has the lowest energy of IPA, FA2-low, FA2-high, RIM-high (extension)",
                "verdict": "holds" if lowest["label"] == "ipa" else "DISAGREES",
                "evidence": ", ".join(f"{r['label']} {r['energy_j']:.4g} J" for r in ext),
            })
        ri = _get(rows, wl, "ipa")
        if ri is not None:
            ok = ri["sla_violation_pct"] <= 2.0
            out.append({
                "workload": wl, "claim": "IPA's SLA violations <= 2 %",
                "verdict": "holds" if ok else "DISAGREES",
                "evidence": f"violations {ri['sla_violation_pct']:.3g} % (dropped/unanswered only: "
                            f"{ri['drop_pct']:.3g} %)",
            })
    return out


def decision_summary(results: Sequence[Any]) -> list[dict[str, Any]]:
    """Per run: decision time per interval and, for heuristic solvers, the objective gap to the exact one."""
    import numpy as np

    from ipa_energy.bench.plots import gap_pct

    out = []
    for r in results:
        times = np.array([row["decision_time_s"] for row in r.steps], dtype=float) * 1e3
        gaps = [g for g in (gap_pct(row) for row in r.steps) if g is not None]
        row: dict[str, Any] = {
            "workload": r.spec.workload, "label": r.spec.label, "seed": r.spec.seed, "intervals": len(times),
            "decision_ms_p50": float(np.median(times)) if len(times) else float("nan"),
            "decision_ms_p95": float(np.percentile(times, 95)) if len(times) else float("nan"),
            "decision_ms_max": float(times.max()) if len(times) else float("nan"),
        }
        if gaps:
            g = np.array(gaps)
            finite = g[np.isfinite(g)]
            row.update({
                "gap_pct_median": float(np.median(finite)) if len(finite) else float("nan"),
                "gap_pct_max": float(finite.max()) if len(finite) else float("nan"),
                "intervals_with_gap": int((g > 1e-9).sum()),
                "intervals_infeasible_for_heuristic": int(np.isinf(g).sum()),
            })
        out.append(row)
    return out


def choose_energy_weight(sweep: Sequence[dict[str, Any]]) -> tuple[float | None, str]:
    """The weight with the lowest total energy whose PAS and violations stay close to weight 0's."""
    weights = sorted({r["energy_weight"] for r in sweep})
    workloads = sorted({r["workload"] for r in sweep})
    base = {wl: next((r for r in sweep if r["workload"] == wl and r["energy_weight"] == 0.0), None)
            for wl in workloads}
    if not weights or any(b is None for b in base.values()):
        return None, "the sweep has no energy weight 0 to compare against"
    best: tuple[float, float] | None = None
    for w in weights:
        sel = [r for r in sweep if r["energy_weight"] == w]
        ok = all(
            r["pas"] >= base[r["workload"]]["pas"] * (1 - SWEEP_MAX_PAS_LOSS)  # type: ignore[index]
            and r["sla_violation_pct"] <= base[r["workload"]]["sla_violation_pct"]  # type: ignore[index]
            + SWEEP_MAX_EXTRA_VIOLATIONS_PP
            for r in sel
        )
        total = sum(r["energy_j"] for r in sel)
        if ok and (best is None or total < best[1] - 1e-9):
            best = (w, total)
    if best is None:
        return None, "no weight keeps PAS and violations within the bounds"
    return best[0], (
        f"lowest total energy over the workloads among weights keeping PAS within "
        f"{SWEEP_MAX_PAS_LOSS:.0%} and SLA violations within {SWEEP_MAX_EXTRA_VIOLATIONS_PP} pp of weight 0"
    )


def write_report(
    out: Path,
    rows: Sequence[dict[str, Any]],
    *,
    decision_rows: Sequence[dict[str, Any]] = (),
    experiment_name: str,
    plots: dict[str, list[str]],
    sweep_plot: str | None,
    default_energy_weight: float | None,
    failures: Sequence[str],
    wall_s: float,
) -> Path:
    main = [r for r in rows if r["group"] == "main"]
    sweep = [dict(r, energy_weight=float(r["label"].split("energy=")[1])) for r in rows
             if r["group"] == "energy-sweep"]
    workloads = list(dict.fromkeys(r["workload"] for r in main))
    from ipa_energy.bench.adaptation_report import default_vs_paper_section, fig16_section

    ref = reference_values()
    lines = [
        f"# ipa-energy bench: {experiment_name}",
        "",
        f"Generated {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')} in {wall_s:.1f} s wall. "
        "All runs are on the embedded discrete-event simulator; **energy is an estimate from the profiles' "
        "power model** (idle W per allocated core + profiled dynamic energy per batch), not a measurement. "
        "SLA violations count requests dropped, failed, unanswered at the end, or answered later than the "
        "SLA; `drop_pct` is the paper's narrower definition (dropped or unanswered only).",
        "",
        "**Energy scope:** the allocated cores of the pipeline (`energy_scope` in summary.csv); "
        "`idle_energy_j` + `dynamic_energy_j` = `energy_j`, and each stage's `<stage>_energy_j` + "
        "`unattributed_energy_j` = `energy_j`. **What an energy-aware decision can gain here:** the shipped "
        "reference profiles' energy per batch is 5 W per busy core x cores x latency / 1.37, i.e. "
        "proportional to busy core-seconds, plus 1.5 W idle per allocated core. So on these profiles energy "
        "follows cores and busy time: an energy term can only prefer, among options of equal accuracy, the "
        "one with fewer busy core-seconds or fewer idle cores; it cannot find a variant that is "
        "efficient in a way the core count does not already show. Measured profiles (`digits`, `video-tv`) "
        "do not have this property.",
        "",
        "## Results",
        "",
        _table(main, ["pipeline", "workload", "label", "predictor", "seed", "sent", "completed", "dropped",
                      "sla_violation_pct", "drop_pct", "pas", "cost_cores", "energy_j", "mean_power_w",
                      "latency_p50_s", "latency_p99_s", "fallback_intervals"]),
        "",
        "## The originals' claims, checked",
        "",
        _table(claims(main, workloads), ["workload", "claim", "verdict", "evidence"])
        if claims(main, workloads) else "This experiment runs none of the systems the claims compare.",
        "",
        "Where a claim DISAGREES, the simulation is reported as it came out; nothing was tuned to match.",
        "",
        "## Beside the energy extension's measurements",
        "",
        "The extension measured whole-node CPU package power (idle about 73 W) while the system ran on "
        "that node; the simulator's power counts only the pipeline's allocated cores. Absolute watts "
        "therefore differ; compare the ratios to IPA.",
        "",
    ]
    cmp_rows = []
    for wl in workloads:
        ipa = _get(main, wl, "ipa")
        ext_ipa = ref.get(("ext_pkg_mean_power_w", wl, "ipa"))
        for system in ("ipa", "fa2-low", "fa2-high", "rim-high", "rim-low", "ipa-energy"):
            r = _get(main, wl, system)
            ext = ref.get(("ext_pkg_mean_power_w", wl, system))
            if r is None:
                continue
            cmp_rows.append({
                "workload": wl, "system": system, "sim_mean_power_w": r["mean_power_w"],
                "sim_ratio_to_ipa": r["mean_power_w"] / ipa["mean_power_w"] if ipa else "",
                "ext_pkg_mean_power_w": ext if ext is not None else "not measured",
                "ext_ratio_to_ipa": ext / ext_ipa if ext is not None and ext_ipa else "",
            })
    lines += [_table(cmp_rows, ["workload", "system", "sim_mean_power_w", "sim_ratio_to_ipa",
                                "ext_pkg_mean_power_w", "ext_ratio_to_ipa"]), ""]
    pv = ref.get(("paper_sla_violation_pct", "bursty", "ipa"))
    paper_label = "ipa-paper" if _get(main, "bursty", "ipa-paper") is not None else "ipa"
    ipa_b = _get(main, "bursty", paper_label)
    if pv is not None and ipa_b is not None:
        lines += [
            f"IPA on bursty (`{paper_label}`, predictor {ipa_b['predictor']}): the paper counts {pv} % SLA "
            "violations (LSTM predictor; "
            f"{ref.get(('paper_sla_violation_pct', 'bursty', 'ipa-reactive'))} % reactive); here "
            f"{ipa_b['drop_pct']:.3g} % by the paper's definition and {ipa_b['sla_violation_pct']:.3g} % "
            "counting late answers.",
            "",
        ]
    lines += default_vs_paper_section(main) + fig16_section(main)
    if sweep:
        chosen, why = choose_energy_weight(sweep)
        lines += [
            "## Choosing ipa-energy's energy weight",
            "",
            _table(sorted(sweep, key=lambda r: (r["workload"], r["energy_weight"])),
                   ["workload", "energy_weight", "energy_j", "mean_power_w", "pas", "cost_cores",
                    "sla_violation_pct"]),
            "",
            f"Rule: {why}. The sweep picks **{chosen}**; the shipped default of the `ipa-energy` preset is "
            f"**{default_energy_weight}**"
            + ("." if chosen == default_energy_weight else " (they differ: see the table)."),
            "",
        ]
        if sweep_plot:
            lines += [f"![energy weight sweep]({sweep_plot})", ""]
    if decision_rows:
        cols = ["workload", "label", "seed", "intervals", "decision_ms_p50", "decision_ms_p95", "decision_ms_max"]
        if any("gap_pct_median" in r for r in decision_rows):
            cols += ["gap_pct_median", "gap_pct_max", "intervals_with_gap", "intervals_infeasible_for_heuristic"]
        lines += [
            "## Decisions per interval",
            "",
            "Wall time of each adaptation decision (prediction + problem + solve). For a heuristic solver "
            "(q-learning), the exact optimum of the same problem is solved beside it and the objective gap "
            "is (exact - heuristic) / |exact|; per interval in `decisions/*.csv` and the decisions plots.",
            "",
            _table(decision_rows, cols),
            "",
        ]
    lines += ["## Plots", ""]
    for wl, files in plots.items():
        lines += [f"### {wl}", ""] + [f"![{wl}]({p})" for p in files] + [""]
    if failures:
        lines += ["## Failed or interrupted runs", "", *[f"- {f}" for f in failures], ""]
    lines += ["Per-second timelines are in `timelines/`, each interval's decision in `decisions/`, the "
              "resolved configuration in `config.resolved.yaml`.", ""]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path
