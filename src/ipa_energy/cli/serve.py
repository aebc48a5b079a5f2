"""``ipa-energy serve``: the adaptive system live, on real models, under a replayed workload."""

from __future__ import annotations

import contextlib
import json
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from ipa_energy.cli.grid_options import grid_options, grid_spec_fields
from ipa_energy.cli.output import clean, print_metrics
from ipa_energy.cli.params import (
    DURATION_S,
    INTERVAL_S,
    LOAD_SCALE,
    MAX_CORES,
    OUT_DIR,
    PORT,
    RATE_RPS,
    SEED,
    TIME_SCALE,
    WAIT_S,
)
from ipa_energy.errors import ConfigError


def machine_cores(ray_address: str | None) -> int | None:
    """``--max-cores auto``: the CPUs of this machine when the replicas run on it, None on a Ray cluster
    (its size is the cluster's, not this machine's)."""
    import os

    return None if ray_address is not None else (os.cpu_count() or 1)


def core_budget(max_cores: int | str | None, ray_address: str | None) -> int | None:
    """The run's ``max_cores`` from ``--max-cores`` (a number, None for ``none``, or ``auto``)."""
    if max_cores == "auto":
        return machine_cores(ray_address)
    return None if max_cores is None else int(max_cores)


#: the exit status of a run ended by a signal: 128 + the signal number
_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}


@click.command()
@click.option("--pipeline", default="digits", show_default=True, help="Shipped pipeline name or YAML path.")
@click.option("--workload", default="steady_low", show_default=True, help="Workload name or CSV of rates.")
@click.option("--duration-s", "--duration", "duration_s", type=DURATION_S, required=True,
              help="Real seconds to serve.")
@click.option("--backend", default="local", show_default=True,
              help="Serving backend: local (worker processes here) or ray (Ray Serve; the ray extra).")
@click.option("--ray-address", help="ray backend: join the Ray cluster at ADDR (auto, HOST:PORT) and leave it "
                                     "running; default: start a local Ray instance and shut it down afterwards.")
@click.option("--system", default="ipa", show_default=True, help="System preset (ipa, fa2-low, ...).")
@click.option("--predictor", default=None,
              help="Load predictor (default: the system's own, gbm-q90 for ipa, lstm for ipa-paper).")
@click.option("--time-scale", type=TIME_SCALE, default=1.0, show_default=True,
              help="Replay the trace X times faster (rates X times higher).")
@click.option("--load-scale", type=LOAD_SCALE, default=1.0, show_default=True, help="Multiply the trace by K.")
@click.option("--interval-s", type=INTERVAL_S, default=10.0, show_default=True, help="Adaptation interval.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of arrivals and inputs.")
@click.option("--initial-rate", "initial_rate_rps", type=RATE_RPS,
              help="Requests/s the first decision plans for when the workload has no recorded history.")
@click.option("--profile", type=click.Path(dir_okay=False), help="Profile CSV replacing the pipeline's.")
@click.option("--no-learn", is_flag=True,
              help="Static planning: decide from the offline profile only (default: learn latency and "
                   "energy from the served batches and write the learned profile beside the results).")
@click.option("--meter", default="auto", show_default=True, help="Energy meter (auto, model, rapl, perf, none).")
@click.option("--max-batch-wait-s", type=WAIT_S, default=1.0, show_default=True,
              help="Adaptive batching: longest wait for a batch to fill.")
@click.option("--cache-dir", type=click.Path(file_okay=False), help="Model cache (default: user cache).")
@click.option("--max-cores", type=MAX_CORES, default="auto", show_default=True,
              help="Core budget of every decision (replicas x cores summed over the stages): a number, none, "
                   "or auto = this machine's CPUs when the replicas run here (local; ray without "
                   "--ray-address), none on a Ray cluster.")
@click.option("--out", "out_dir", default="results/serve", show_default=True, type=OUT_DIR,
              help="Where the timeline, decisions and energy log are appended as the run goes, and the "
                   "summary written at the end.")
@grid_options
@click.option("--overwrite", is_flag=True, help="Replace an earlier run's files in --out (default: refuse).")
@click.option("--prometheus-port", type=PORT,
              help="Export live metrics (requests, latency histogram, drops, energy by part and source, the "
                   "configuration) on 127.0.0.1:PORT; 0 picks a free port and prints it.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def serve(
    pipeline: str, workload: str, duration_s: float, backend: str, ray_address: str | None, system: str,
    predictor: str | None,
    time_scale: float, load_scale: float, interval_s: float, seed: int, initial_rate_rps: float | None,
    profile: str | None, no_learn: bool, meter: str, max_batch_wait_s: float, cache_dir: str | None,
    max_cores: int | str | None, out_dir: str, overwrite: bool, prometheus_port: int | None, as_json: bool, **grid: Any,
) -> None:
    """Serve PIPELINE live for DURATION seconds, adapting every interval. Ctrl-C or SIGTERM stops
    gracefully (in-flight requests finish, logs and the summary are still written; exit 130 / 143)."""
    from ipa_energy.backends import BACKENDS
    from ipa_energy.runs import RunHooks, RunSpec, execute
    from ipa_energy.runs.grid import grid_of

    BACKENDS.get(backend, field="--backend")
    if backend == "sim":
        raise ConfigError("serve runs real backends; use `ipa-energy simulate` for the simulator",
                          field="--backend")
    if ray_address is not None and backend != "ray":
        raise ConfigError("is only read by --backend ray", field="--ray-address")
    spec = RunSpec(
        pipeline=pipeline, workload=workload, duration_s=duration_s, system=system, predictor=predictor,
        time_scale=time_scale, load_scale=load_scale, seed=seed, interval_s=interval_s, profile=profile,
        meter=meter, cache_dir=cache_dir, max_batch_wait_s=max_batch_wait_s, backend=backend,
        initial_rate_rps=initial_rate_rps, learn=not no_learn, ray_address=ray_address,
        max_cores=core_budget(max_cores, ray_address),
        **grid_spec_fields(**grid),
    )
    grid_of(spec)  # a bad carbon source or cap fails here, before any work
    from ipa_energy.config.validation import claim_outputs, safe_filename

    out = Path(out_dir)
    slug = safe_filename(f"{pipeline}_{workload}_{system}_s{seed}")  # a path keeps a distinct name
    claim_outputs(out, [f"{slug}_*"], "--out", overwrite=overwrite)
    live = _live_exporter(prometheus_port, pipeline, profile)
    received: list[int] = []
    previous = {s: signal.getsignal(s) for s in _EXIT}

    def wire(b: Any) -> None:
        # written once the pipeline, workload and backend are built: bad input leaves no file behind
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{slug}_spec.json").write_text(json.dumps(spec.to_dict(), indent=1))

        def stop(signum: int, _frame: Any) -> None:
            received.append(signum)
            b.request_stop()

        for s in _EXIT:
            signal.signal(s, stop)
        if hasattr(b, "on_worker_replaced"):  # reported when it happens, not only in the summary
            b.on_worker_replaced = lambda line: click.echo(f"warning: {line}", err=True)
        if live is not None:
            live.attach(b)

    try:
        with _progress(duration_s) as on_progress:
            result = execute(spec, out_dir=out, prefix=slug, hooks=RunHooks(
                on_backend=wire, on_start=lambda line: click.echo(line, err=True), on_progress=on_progress,
                on_second=live.on_second if live is not None else None,
            ))
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
    (out / f"{slug}_summary.json").write_text(
        json.dumps({"spec": spec.to_dict(), "metrics": clean(result.metrics)}, indent=1)
    )
    if as_json:
        click.echo(json.dumps(clean(result.metrics)))
    else:
        print_metrics(result.metrics)
        click.echo(f"written: {out}/{slug}_{{timeline,decisions,energy}}.csv, _summary.json"
                   + (", _learned.csv, _learned_profile.csv" if spec.learn else ""))
    if result.interrupted:
        raise SystemExit(_EXIT.get(signal.Signals(received[0]), 130) if received else 130)


class _LiveMetrics:
    """``--prometheus-port``: the run's seconds, latencies and configuration into a RunExporter."""

    def __init__(self, port: int, stage_names: list[str]) -> None:
        from ipa_energy.energy.prometheus import RunExporter

        self.exporter = RunExporter()
        self.names = stage_names
        self.port = self.exporter.serve(port)
        click.echo(f"prometheus metrics on http://127.0.0.1:{self.port}/metrics", err=True)
        self._backend: Any = None

    def attach(self, backend: Any) -> None:
        self._backend = backend

    def on_second(self, rec: Any) -> None:
        counts = {"arrived": rec.arrivals, "completed": rec.completed, "dropped": rec.dropped,
                  "failed": rec.failed, "late": rec.late}
        names = self.names
        parts = {"total": rec.energy_j, "idle": rec.idle_energy_j, "dynamic": rec.dynamic_energy_j,
                 "unattributed": rec.unattributed_energy_j,
                 **{f"stage:{n}": e for n, e in zip(names, rec.stage_energy_j, strict=False)}}
        self.exporter.observe_second(counts, parts, rec.energy_source, rec.power_w)
        self.exporter.set_configuration([(n, c.variant, c.batch, c.replicas)
                                         for n, c in zip(names, rec.config.stages, strict=False)])
        if self._backend is not None:
            self.exporter.observe_latencies(self._backend.summary().latencies_s)


def _live_exporter(port: int | None, pipeline: str, profile: str | None) -> _LiveMetrics | None:
    if port is None:
        return None
    from ipa_energy.pipelines import load_pipeline

    return _LiveMetrics(port, [s.name for s in load_pipeline(pipeline, profile=profile).stages])


@contextlib.contextmanager
def _progress(duration_s: float) -> Iterator[Callable[[float, float], None] | None]:
    """A progress bar on stderr, only when stderr is a terminal (logs and pipes stay clean)."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("serving {task.completed:.0f}/{task.total:.0f} s"), BarColumn(),
                  TimeElapsedColumn(), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("serve", total=duration_s)
        yield lambda t_s, total_s: bar.update(task, completed=t_s, total=total_s)
