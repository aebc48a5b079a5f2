"""``ipa-energy bench``: the main job (video x four workloads x seven systems, with the weight sensitivity sweep)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ipa_energy.cli.grid_options import grid_options, grid_spec_fields
from ipa_energy.cli.params import OUT_DIR, WORKERS


@click.command()
@click.option("--out", "out_dir", default="results/bench", show_default=True,
              type=OUT_DIR, help="Output folder (created).")
@click.option("--overwrite", is_flag=True,
              help="Replace an earlier bench run's outputs in --out (default: refuse to mix with them).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Experiment YAML (see docs/bench.md); default: the paper's video experiment.")
@click.option("--workers", type=WORKERS, help="Parallel runs (default: the available cores).")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@grid_options
def bench(
    out_dir: str, overwrite: bool, config_path: str | None, workers: int | None, no_progress: bool, **grid: Any
) -> None:
    """Run an experiment sweep on the simulator; write summary.csv, timelines, plots and report.md.

    Ctrl-C or SIGTERM: runs already started finish, their results and the report are written, exit
    130 / 143. A folder holding an earlier run's outputs is refused unless --overwrite. The carbon and
    power-cap options replace the experiment's ``carbon`` / ``power_caps`` / ``carbon_options``
    (docs/carbon.md)."""
    from ipa_energy.bench.driver import BENCH_OUTPUTS, run_bench
    from ipa_energy.bench.experiment import check_names, load_experiment, with_grid
    from ipa_energy.config.validation import claim_outputs

    spec = with_grid(load_experiment(config_path), **grid_spec_fields(**grid))
    check_names(spec)
    claim_outputs(out_dir, BENCH_OUTPUTS, "--out", overwrite=overwrite)
    outcome = run_bench(spec, Path(out_dir), workers=workers, show_progress=not no_progress)
    interrupted = f", {outcome.n_interrupted} not run (interrupted)" if outcome.n_interrupted else ""
    click.echo(
        f"{outcome.n_runs} runs ({outcome.n_failed} failed{interrupted}) in {outcome.wall_s:.1f} s -> "
        f"{outcome.out / 'summary.csv'}, {outcome.report}"
    )
    if outcome.n_interrupted or outcome.signal is not None:
        raise SystemExit(128 + (outcome.signal or 2))
    if outcome.n_failed:
        raise SystemExit(1)
