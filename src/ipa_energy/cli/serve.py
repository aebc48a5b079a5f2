"""``ipa-energy serve``: the adaptive system live, on real models, under a replayed workload."""

from __future__ import annotations

import json
import math
import signal
from pathlib import Path
from typing import Any

import click

from ipa_energy.errors import ConfigError

JSON_KEYS = (
    "sent", "completed", "dropped", "failed", "accuracy", "energy_j", "energy_source", "latency_p50_s",
    "latency_p99_s", "pas", "cost_cores", "in_flight", "late", "retried", "replaced_workers", "served_s",
    "wall_s", "interrupted", "weights",
)


def _clean(v: Any) -> Any:
    return None if isinstance(v, float) and not math.isfinite(v) else v


@click.command()
@click.option("--pipeline", default="digits", show_default=True, help="Shipped pipeline name or YAML path.")
@click.option("--workload", default="steady_low", show_default=True, help="Workload name or CSV of rates.")
@click.option("--duration", "duration_s", type=float, required=True, help="Real seconds to serve.")
@click.option("--backend", default="local", show_default=True, help="Serving backend (local).")
@click.option("--system", default="ipa", show_default=True, help="System preset (ipa, fa2-low, ...).")
@click.option("--predictor", default="lstm", show_default=True, help="Load predictor.")
@click.option("--time-scale", type=float, default=1.0, show_default=True,
              help="Replay the trace X times faster (rates X times higher).")
@click.option("--load-scale", type=float, default=1.0, show_default=True, help="Multiply the trace by K.")
@click.option("--interval-s", type=float, default=10.0, show_default=True, help="Adaptation interval.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of arrivals and inputs.")
@click.option("--profile", type=click.Path(dir_okay=False), help="Profile CSV replacing the pipeline's.")
@click.option("--meter", default="auto", show_default=True, help="Energy meter (auto, model, rapl, perf, none).")
@click.option("--max-batch-wait-s", type=float, default=1.0, show_default=True,
              help="Adaptive batching: longest wait for a batch to fill.")
@click.option("--cache-dir", type=click.Path(file_okay=False), help="Model cache (default: user cache).")
@click.option("--out", "out_dir", default="results/serve", show_default=True, type=click.Path(file_okay=False),
              help="Where the timeline, decisions, energy log and summary are written.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def serve(
    pipeline: str, workload: str, duration_s: float, backend: str, system: str, predictor: str,
    time_scale: float, load_scale: float, interval_s: float, seed: int, profile: str | None, meter: str,
    max_batch_wait_s: float, cache_dir: str | None, out_dir: str, as_json: bool,
) -> None:
    """Serve PIPELINE live for DURATION seconds, adapting every interval; Ctrl-C stops gracefully
    (in-flight requests finish, logs and the summary are still written; exit status 130)."""
    from ipa_energy.backends import BACKENDS

    BACKENDS.get(backend, field="--backend")
    if backend != "local":
        raise ConfigError(f"serve runs real backends only; use `ipa-energy simulate` for {backend!r}",
                          field="--backend")
    from ipa_energy.backends.local.live import LiveSpec, run_live, spec_dict
    from ipa_energy.bench.tables import write_csv

    spec = LiveSpec(
        pipeline=pipeline, workload=workload, duration_s=duration_s, system=system, predictor=predictor,
        time_scale=time_scale, load_scale=load_scale, seed=seed, interval_s=interval_s, profile=profile,
        meter=meter, cache_dir=cache_dir, max_batch_wait_s=max_batch_wait_s,
    )
    previous = signal.getsignal(signal.SIGINT)

    def wire(b: Any) -> None:
        signal.signal(signal.SIGINT, lambda *_: b.request_stop())

    try:
        result = run_live(spec, on_backend=wire, on_start=lambda line: click.echo(line, err=True))
    finally:
        signal.signal(signal.SIGINT, previous)
    out = Path(out_dir)
    slug = f"{Path(pipeline).stem}_{Path(workload).stem}_{system}_s{seed}"
    write_csv(out / f"{slug}_timeline.csv", result.timeline)
    write_csv(out / f"{slug}_decisions.csv", result.steps)
    write_csv(out / f"{slug}_energy.csv", result.energy_log)
    (out / f"{slug}_summary.json").write_text(
        json.dumps({"spec": spec_dict(spec), "metrics": {k: _clean(v) for k, v in result.metrics.items()}},
                   indent=1)
    )
    m = result.metrics
    if as_json:
        click.echo(json.dumps({k: _clean(m[k]) for k in JSON_KEYS}))
    else:
        for k in JSON_KEYS:
            v = m[k]
            click.echo(f"{k:>18}: {v:.6g}" if isinstance(v, float) else f"{k:>18}: {v}")
        click.echo(f"{'written':>18}: {out}/{slug}_{{timeline,decisions,energy}}.csv, _summary.json")
    if result.interrupted:
        raise SystemExit(130)
