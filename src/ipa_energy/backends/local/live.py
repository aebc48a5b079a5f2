"""One live adaptive run on the local executor: the unit of work of ``ipa-energy serve``.

trace replay (loadgen) -> LocalBackend <- adaptation loop (predictor + solver), wall clock, real meter.
The run starts warm (IPA's runs began after a warm-up): the first decision's replicas load their models
before the clock starts. A stop request (Ctrl-C) ends the run after the current event; what is in the
pipeline is then served for up to the drop limit, and everything is still written.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ipa_energy.adapt import AdaptationStep, AdaptParams, Policy, Snapshot, run_adaptation
from ipa_energy.backends.local.backend import LocalBackend, StopRequested
from ipa_energy.backends.local.clock import WallClock


@dataclass(frozen=True)
class LiveSpec:
    pipeline: str
    workload: str
    duration_s: float
    system: str = "ipa"
    predictor: str = "lstm"
    time_scale: float = 1.0
    load_scale: float = 1.0
    seed: int = 0
    interval_s: float = 10.0
    profile: str | None = None
    meter: str = "auto"
    cache_dir: str | None = None
    image_size: int | None = None
    max_batch_wait_s: float = 1.0


@dataclass(frozen=True)
class LiveResult:
    spec: LiveSpec
    metrics: dict[str, Any]
    timeline: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    energy_log: list[dict[str, Any]]
    interrupted: bool


def run_live(
    spec: LiveSpec,
    *,
    on_backend: Callable[[LocalBackend], None] | None = None,
    on_start: Callable[[str], None] | None = None,
) -> LiveResult:
    """Serve ``spec`` for real. ``on_backend`` receives the backend once built (e.g. to wire Ctrl-C);
    ``on_start`` gets a one-line description when the warm replicas start serving."""
    from ipa_energy.backends.local.build import local_stages
    from ipa_energy.bench.run import step_rows, timeline_rows
    from ipa_energy.loadgen import inputs_for, replay
    from ipa_energy.optimize.presets import build_problem, system_solver
    from ipa_energy.optimize.solvers import get_solver
    from ipa_energy.pipelines import load_pipeline
    from ipa_energy.predict import get_predictor

    pipeline = load_pipeline(spec.pipeline, profile=spec.profile)
    rep = replay(spec.workload, duration_s=spec.duration_s, time_scale=spec.time_scale, seed=spec.seed,
                 load_scale=spec.load_scale)
    stages = local_stages(pipeline.stages, cache_dir=spec.cache_dir, image_size=spec.image_size)
    first_family = next(iter(stages[0][1].values())).spec.family
    meter = _meter(spec.meter)
    clock = WallClock()
    backend = LocalBackend(
        stages, rep.arrival_times_s, inputs_for(first_family, spec.seed, spec.image_size),
        clock=clock, meter=meter, sla_s=pipeline.sla_s, drop_limit_s=pipeline.drop_limit_s,
        accuracy_method=pipeline.accuracy_method, max_batch_wait_s=spec.max_batch_wait_s,
    )
    if on_backend is not None:
        on_backend(backend)

    def make_problem(rate_rps: float) -> Any:
        return build_problem(pipeline, spec.system, rate_rps)

    start_rate = float(np.sum(rep.arrival_times_s < min(spec.interval_s, spec.duration_s))) / min(
        spec.interval_s, spec.duration_s
    )
    policy = Policy(make_problem, get_solver(system_solver(spec.system)), get_predictor(spec.predictor),
                    initial_rate_rps=max(1.0, start_rate))
    steps: list[AdaptationStep] = []  # filled as the loop goes, so an interrupted run keeps its decisions
    interrupted = False
    t0 = time.perf_counter()
    try:
        first = policy.decide(Snapshot(t_s=0.0, history_rps=np.zeros(0), current=None))
        backend.warm_up(first.config)
        clock.restart()
        if on_start is not None:
            on_start(f"serving {pipeline.name} ({len(rep.arrival_times_s)} requests over {spec.duration_s:g} s, "
                     f"first config {first.config}, weights {sorted(set(backend.weights().values()))})")
        try:
            run_adaptation(
                backend, clock, policy, duration_s=spec.duration_s,
                params=AdaptParams(interval_s=spec.interval_s), on_step=steps.append,
            )
        except StopRequested:
            interrupted = True
        backend.drain(timeout_s=pipeline.drop_limit_s)
        backend.finish_second()
        seconds = backend.seconds()
        summary = backend.summary()
        wall_s = time.perf_counter() - t0
        lat = summary.latencies_s
        metrics: dict[str, Any] = {
            "sent": summary.sent, "completed": summary.completed, "dropped": summary.dropped,
            "failed": summary.failed, "in_flight": summary.in_flight, "late": summary.late,
            "accuracy": backend.accuracy(),
            "energy_j": summary.energy_j,
            "energy_source": seconds[-1].energy_source if seconds else "none",
            "latency_p50_s": float(np.percentile(lat, 50)) if len(lat) else None,
            "latency_p99_s": float(np.percentile(lat, 99)) if len(lat) else None,
            "pas": float(np.mean([r.pas for r in seconds])) if seconds else None,
            "cost_cores": float(np.mean([r.cost_cores for r in seconds])) if seconds else None,
            "retried": backend.retried, "replaced_workers": backend.replaced_workers(),
            "served_s": float(len(seconds)), "wall_s": wall_s, "interrupted": interrupted,
            "weights": sorted(set(backend.weights().values())),
            "energy_meter": getattr(getattr(meter, "selection", None), "summary", lambda: None)(),
        }
        return LiveResult(spec, metrics, timeline_rows(seconds), step_rows(steps), backend.energy_log(),
                          interrupted)
    finally:
        backend.close()
        if meter is not None and hasattr(meter, "close"):
            meter.close()


def _meter(name: str) -> Any:
    if name == "none":
        return None
    from ipa_energy.energy import get_meter

    if name in ("auto", "model"):
        return get_meter(name, pids=[os.getpid()])
    return get_meter(name)


def spec_dict(spec: LiveSpec) -> dict[str, Any]:
    return dataclasses.asdict(spec)
