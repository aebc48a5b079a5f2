"""``ipa-energy simulate``: one adaptive run on the embedded simulator (the shared run path)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ipa_energy.cli.output import clean, print_metrics
from ipa_energy.cli.params import DURATION_S, INTERVAL_S, LOAD_SCALE, OUT_DIR, RATE_RPS, SEED, WEIGHT


@click.command()
@click.option("--pipeline", default="video", show_default=True, help="Shipped pipeline name or YAML path.")
@click.option("--workload", default="bursty", show_default=True, help="Workload name or CSV of rates.")
@click.option("--system", default="ipa", show_default=True, help="System preset.")
@click.option("--predictor", default="lstm", show_default=True, help="Load predictor.")
@click.option("--load-scale", type=LOAD_SCALE, default=1.0, show_default=True, help="Multiply the trace by K.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of arrivals and noise.")
@click.option("--interval-s", type=INTERVAL_S, default=10.0, show_default=True, help="Adaptation interval.")
@click.option("--duration-s", "--duration", type=DURATION_S,
              help="Stop after this many seconds (default: whole trace).")
@click.option("--initial-rate", "initial_rate_rps", type=RATE_RPS,
              help="Requests/s the first decision plans for when the workload has no recorded history "
                   "(user traces); bundled workloads start from the 120 s of trace before their window.")
@click.option("--energy-weight", type=WEIGHT, help="Override the system's energy weight.")
@click.option("--out", "out_dir", type=OUT_DIR,
              help="Append the per-second timeline and the decisions here as the run goes.")
@click.option("--overwrite", is_flag=True, help="Replace an earlier run's files in --out (default: refuse).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (every figure of the text output).")
def simulate(
    pipeline: str, workload: str, system: str, predictor: str, load_scale: float, seed: int,
    interval_s: float, duration_s: float | None, initial_rate_rps: float | None, energy_weight: float | None,
    out_dir: str | None, overwrite: bool, as_json: bool,
) -> None:
    """Simulate one system adapting a pipeline under a workload."""
    from ipa_energy.bench.tables import run_slug
    from ipa_energy.runs import RunSpec, execute

    spec = RunSpec(
        pipeline=pipeline, workload=workload, system=system, predictor=predictor, seed=seed,
        load_scale=load_scale, interval_s=interval_s, duration_s=duration_s, initial_rate_rps=initial_rate_rps,
        weights=(("energy", energy_weight),) if energy_weight is not None else (),
    )
    if out_dir:
        from ipa_energy.config.validation import claim_outputs

        claim_outputs(out_dir, [f"{run_slug(spec)}_*.csv"], "--out", overwrite=overwrite)
    result = execute(spec, out_dir=Path(out_dir) if out_dir else None, prefix=run_slug(spec))
    if as_json:
        click.echo(json.dumps(clean(result.metrics)))
        return
    print_metrics(result.metrics)
