"""``ipa-energy simulate``: one adaptive run on the embedded simulator."""

from __future__ import annotations

import json
import math
from pathlib import Path

import click

JSON_KEYS = (
    "requests", "completed", "dropped", "sla_violation_pct", "pas", "cost_cores", "energy_j",
    "mean_power_w", "latency_p50_s", "latency_p99_s", "simulated_s", "wall_s",
)
#: the simulator's energy is never a measurement: every output says so
ENERGY_SOURCE = "model (estimated from the profile's power model)"


@click.command()
@click.option("--pipeline", default="video", show_default=True, help="Shipped pipeline name or YAML path.")
@click.option("--workload", default="bursty", show_default=True, help="Workload name or CSV of rates.")
@click.option("--system", default="ipa", show_default=True, help="System preset.")
@click.option("--predictor", default="lstm", show_default=True, help="Load predictor.")
@click.option("--load-scale", type=float, default=1.0, show_default=True, help="Multiply the trace by K.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of arrivals and noise.")
@click.option("--interval-s", type=float, default=10.0, show_default=True, help="Adaptation interval.")
@click.option("--duration-s", type=float, help="Stop after this many seconds (default: whole trace).")
@click.option("--energy-weight", type=float, help="Override the system's energy weight.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False),
              help="Write the per-second timeline and decisions here.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def simulate(
    pipeline: str, workload: str, system: str, predictor: str, load_scale: float, seed: int,
    interval_s: float, duration_s: float | None, energy_weight: float | None, out_dir: str | None,
    as_json: bool,
) -> None:
    """Simulate one system adapting a pipeline under a workload."""
    from ipa_energy.bench.experiment import RunSpec
    from ipa_energy.bench.run import METRIC_COLUMNS, run_one
    from ipa_energy.bench.tables import run_slug, write_csv

    spec = RunSpec(
        pipeline=pipeline, workload=workload, system=system, predictor=predictor, seed=seed,
        load_scale=load_scale, interval_s=interval_s, duration_s=duration_s,
        weights=(("energy", energy_weight),) if energy_weight is not None else (),
    )
    result = run_one(spec)
    if out_dir:
        slug = run_slug(spec)
        write_csv(Path(out_dir) / f"{slug}_timeline.csv", result.timeline)
        write_csv(Path(out_dir) / f"{slug}_decisions.csv", result.steps)
    m = result.metrics
    if as_json:
        obj = {k: (None if isinstance(m[k], float) and math.isnan(m[k]) else m[k]) for k in JSON_KEYS}
        obj["energy_source"] = ENERGY_SOURCE
        click.echo(json.dumps(obj))
        return
    for k in METRIC_COLUMNS:
        v = m[k]
        click.echo(f"{k:>22}: {v:.6g}" if isinstance(v, float) else f"{k:>22}: {v}")
    click.echo(f"{'energy_source':>22}: {ENERGY_SOURCE}")
