"""``ipa-energy bench``: expand the experiment, run it in parallel, write tables, plots and the report."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from ipa_energy.bench import plots
from ipa_energy.bench.carbon_report import carbon_section
from ipa_energy.bench.experiment import ExperimentSpec, check_names, expand
from ipa_energy.bench.learning_report import learning_section
from ipa_energy.bench.report import decision_summary, write_report
from ipa_energy.bench.runner import INTERRUPTED, RunFailure, run_all
from ipa_energy.bench.tables import write_outputs
from ipa_energy.bench.world import WORLDS_DIR, write_worlds
from ipa_energy.config.validation import safe_filename
from ipa_energy.runs import RunResult


@dataclass(frozen=True)
class BenchOutcome:
    out: Path
    report: Path
    n_runs: int
    n_failed: int
    n_interrupted: int
    wall_s: float
    #: the signal that interrupted the sweep (SIGINT 2, SIGTERM 15), None if it ran to the end
    signal: int | None = None


#: what a bench run writes into its folder: a re-run refuses to mix with these unless told to overwrite
BENCH_OUTPUTS = ("summary.csv", "report.md", "config.resolved.yaml", "failures.json", "timelines", "decisions",
                 "energy", "plots", "runs", WORLDS_DIR)


def run_bench(
    spec: ExperimentSpec, out: Path, *, workers: int | None = None, show_progress: bool = True
) -> BenchOutcome:
    from ipa_energy.optimize.presets import DEFAULT_ENERGY_WEIGHT

    t0 = time.perf_counter()
    check_names(spec)
    runs = expand(spec, write_worlds(spec.world, spec.pipelines, out))
    signals: list[int] = []
    outcomes = run_all(runs, workers=workers or spec.workers, show_progress=show_progress, out=out,
                       signals=signals)
    results = [r for r in outcomes if isinstance(r, RunResult)]
    failures = [r for r in outcomes if isinstance(r, RunFailure)]
    rows = write_outputs(out, spec, results, failures)
    plot_dir = out / "plots"
    plot_dir.mkdir(parents=True, exist_ok=True)
    plot_files: dict[str, list[str]] = {}
    main = [r for r in results if r.spec.group == "main"]
    def plot_key(r: RunResult) -> tuple[str, ...]:
        return (r.spec.pipeline, r.spec.workload, r.spec.predictor or "", str(r.spec.seed), r.spec.grid_label)

    for key in dict.fromkeys(plot_key(r) for r in main):
        sel = [r for r in main if plot_key(r) == key]
        name = safe_filename("_".join(k for k in key if k))
        grid = f" @{key[4]}" if key[4] else ""
        title = f"{key[0]} / {key[1]}{grid} (predictor {key[2]}, seed {key[3]})"
        e_path, p_path = plot_dir / f"energy_{name}.png", plot_dir / f"pas_cost_{name}.png"
        d_path = plot_dir / f"decisions_{name}.png"
        plots.energy_per_minute(sel, e_path, title)
        plots.pas_cost_over_time(sel, p_path, title)
        plots.decisions_over_time(sel, d_path, title)
        plot_files[title] = [str(p.relative_to(out)) for p in (e_path, p_path, d_path)]
    sweep_rows = [dict(r, energy_weight=float(r["label"].split("energy=")[1]))
                  for r in rows if r["group"] == "energy-sweep"]
    sweep_plot = None
    if sweep_rows:
        plots.energy_sweep(sweep_rows, plot_dir / "energy_weight_sweep.png")
        sweep_plot = "plots/energy_weight_sweep.png"
    learning_lines = learning_section(results, out)
    carbon_lines = carbon_section(results, out)
    wall_s = time.perf_counter() - t0
    report = write_report(
        out, rows, decision_rows=decision_summary(main), experiment_name=spec.name, plots=plot_files,
        sweep_plot=sweep_plot, sections=[*learning_lines, *carbon_lines],
        default_energy_weight=DEFAULT_ENERGY_WEIGHT,
        failures=[f"{f.spec.label} on {f.spec.workload}: {f.error.splitlines()[0]}" for f in failures],
        wall_s=wall_s,
    )
    n_interrupted = sum(f.error == INTERRUPTED for f in failures)
    return BenchOutcome(out, report, len(runs), len(failures) - n_interrupted, n_interrupted, wall_s,
                        signals[0] if signals else None)
