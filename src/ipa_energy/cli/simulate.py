"""``ipa-energy simulate``: one adaptive run on the embedded simulator (the shared run path)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ipa_energy.cli.grid_options import grid_options, grid_spec_fields
from ipa_energy.cli.output import clean, print_metrics
from ipa_energy.cli.params import DURATION_S, INTERVAL_S, LOAD_SCALE, MAX_CORES, OUT_DIR, RATE_RPS, SEED, WEIGHT
from ipa_energy.errors import ConfigError


@click.command()
@click.option("--pipeline", default="video", show_default=True, help="Shipped pipeline name or YAML path.")
@click.option("--workload", default="bursty", show_default=True, help="Workload name or CSV of rates.")
@click.option("--system", default="ipa", show_default=True, help="System preset.")
@click.option("--predictor", default=None,
              help="Load predictor (default: the system's own, gbm-q90 for ipa, lstm for ipa-paper).")
@click.option("--load-scale", type=LOAD_SCALE, default=1.0, show_default=True, help="Multiply the trace by K.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of arrivals and noise.")
@click.option("--interval-s", type=INTERVAL_S, default=10.0, show_default=True, help="Adaptation interval.")
@click.option("--duration-s", "--duration", type=DURATION_S,
              help="Stop after this many seconds (default: whole trace).")
@click.option("--initial-rate", "initial_rate_rps", type=RATE_RPS,
              help="Requests/s the first decision plans for when the workload has no recorded history "
                   "(user traces); bundled workloads start from the 120 s of trace before their window.")
@click.option("--energy-weight", type=WEIGHT, help="Override the system's energy weight.")
@click.option("--world-profile", type=click.Path(dir_okay=False),
              help="Profile CSV of what the simulated machines really do (default: the planning profile); "
                   "the optimizer still plans with the pipeline's profile and learns the difference.")
@click.option("--no-learn", is_flag=True,
              help="Static planning: decide from the offline profile only, ignore what the run observes.")
@click.option("--max-cores", type=MAX_CORES, default=None,
              help="Core budget of every decision (replicas x cores summed over the stages); default: none.")
@click.option("--out", "out_dir", type=OUT_DIR,
              help="Append the per-second timeline and the decisions here as the run goes.")
@click.option("--overwrite", is_flag=True, help="Replace an earlier run's files in --out (default: refuse).")
@grid_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (every figure of the text output).")
def simulate(
    pipeline: str, workload: str, system: str, predictor: str | None, load_scale: float, seed: int,
    interval_s: float, duration_s: float | None, initial_rate_rps: float | None, energy_weight: float | None,
    world_profile: str | None, no_learn: bool, max_cores: int | str | None, out_dir: str | None, overwrite: bool,
    as_json: bool, **grid: Any,
) -> None:
    """Simulate one system adapting a pipeline under a workload."""
    if max_cores == "auto":
        raise ConfigError("'auto' means this machine's cores, which simulated machines are not: give a number "
                          "or none", field="--max-cores")
    from ipa_energy.bench.tables import run_slug
    from ipa_energy.runs import RunSpec, execute
    from ipa_energy.runs.grid import grid_of

    spec = RunSpec(
        pipeline=pipeline, workload=workload, system=system, predictor=predictor, seed=seed,
        load_scale=load_scale, interval_s=interval_s, duration_s=duration_s, initial_rate_rps=initial_rate_rps,
        weights=(("energy", energy_weight),) if energy_weight is not None else (),
        learn=not no_learn, world_profile=world_profile, max_cores=None if max_cores is None else int(max_cores),
        **grid_spec_fields(**grid),
    )
    grid_of(spec)  # a bad carbon source or cap fails here, before any work
    if out_dir:
        from ipa_energy.config.validation import claim_outputs

        claim_outputs(out_dir, [f"{run_slug(spec)}_*.csv"], "--out", overwrite=overwrite)
    result = execute(spec, out_dir=Path(out_dir) if out_dir else None, prefix=run_slug(spec))
    if as_json:
        click.echo(json.dumps(clean(result.metrics)))
        return
    print_metrics(result.metrics)
