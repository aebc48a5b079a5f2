"""``ipa-energy bench``: the main job (video x four workloads x six systems, with the weight sweep)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ipa_energy.cli.grid_options import grid_options, grid_spec_fields


@click.command()
@click.option("--out", "out_dir", default="results/bench", show_default=True,
              type=click.Path(file_okay=False), help="Output folder (created).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Experiment YAML (see docs/bench.md); default: the paper's video experiment.")
@click.option("--workers", type=int, help="Parallel runs (default: the available cores).")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@grid_options
def bench(out_dir: str, config_path: str | None, workers: int | None, no_progress: bool, **grid: Any) -> None:
    """Run an experiment sweep on the simulator; write summary.csv, timelines, plots and report.md.
    The carbon and power-cap options replace the experiment's ``carbon`` / ``power_caps`` /
    ``carbon_options`` (docs/carbon.md)."""
    from ipa_energy.bench.driver import run_bench
    from ipa_energy.bench.experiment import load_experiment, with_grid

    spec = with_grid(load_experiment(config_path), **grid_spec_fields(**grid))
    outcome = run_bench(spec, Path(out_dir), workers=workers, show_progress=not no_progress)
    interrupted = f", {outcome.n_interrupted} not run (interrupted)" if outcome.n_interrupted else ""
    click.echo(
        f"{outcome.n_runs} runs ({outcome.n_failed} failed{interrupted}) in {outcome.wall_s:.1f} s -> "
        f"{outcome.out / 'summary.csv'}, {outcome.report}"
    )
    if outcome.n_interrupted:
        raise SystemExit(130)
    if outcome.n_failed:
        raise SystemExit(1)
