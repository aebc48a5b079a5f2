"""The one run path: a run spec + a backend from the registry -> a finished, recorded run.

    workload -> arrivals -> backend (BACKENDS.create) <- adaptation loop (predictor + solver, verified)
                                 |
                                 v  per-second records, appended to CSV as the run goes
                          metrics (one function) -> RunResult

Rules that hold on every backend:

* **No oracle.** The first decision (at t = 0) sees only what a real system could: the workload's
  recorded history before the run (bundled workloads carry 120 s of the Twitter trace before their
  window), else the stated ``initial_rate_rps``, else the minimum rate (a cold start).
* The first configuration is serving at t = 0 (``Backend.start``: the simulator deploys it ready, the
  local executor loads its models before the clock starts), as IPA's runs began after a warm-up.
* After the last interval nothing more arrives; what is in the pipeline is served for up to two drop
  limits (``Backend.finish``), so ``sent = completed + dropped + failed`` (+ ``in_flight`` if a request
  outlived even that).
* With ``out_dir``, the timeline, the decisions and the energy log are appended and flushed row by row:
  a run killed at any moment leaves every finished second on disk.
* A stop request (Ctrl-C, SIGTERM) ends the run after the current event; the run still drains, writes
  and returns, with ``interrupted`` set.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ipa_energy.adapt import AdaptationStep, AdaptParams, Snapshot, run_adaptation
from ipa_energy.adapt.policy import GUARD_SOURCES
from ipa_energy.backends import BACKENDS, Backend, BackendContext, StopRequested
from ipa_energy.carbon.factory import TimedProblemFactory
from ipa_energy.errors import ConfigError
from ipa_energy.runs.grid import Grid, factory_counts, grid_of, timed_factory
from ipa_energy.runs.learning import RunLearning, no_learning_metrics
from ipa_energy.runs.metrics import run_metrics
from ipa_energy.runs.records import (
    RowWriter,
    cap_step_columns,
    config_str,
    energy_row,
    grid_columns,
    step_row,
    timeline_row,
)
from ipa_energy.runs.spec import RunSpec


@dataclass(frozen=True)
class RunHooks:
    """Optional callbacks: ``on_backend`` gets the backend once built (e.g. to wire signals to
    ``request_stop``); ``on_start`` a one-line description when serving starts; ``on_progress`` the
    pipeline time and the run's duration after each interval; ``on_second`` each closed second's record."""

    on_backend: Callable[[Backend], None] | None = None
    on_start: Callable[[str], None] | None = None
    on_progress: Callable[[float, float], None] | None = None
    #: each closed second's record, as it is written (live exporters, e.g. Prometheus in ``serve``)
    on_second: Callable[[Any], None] | None = None


@dataclass(frozen=True)
class RunResult:
    spec: RunSpec
    metrics: dict[str, Any]
    timeline: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    interrupted: bool = False
    files: tuple[str, ...] = field(default=())


def problem_factory(
    spec: RunSpec, pipeline: Any, grid: Grid = Grid(), *, duration_s: float = 86_400.0,
    current: Callable[[], Any] | None = None,
) -> TimedProblemFactory:
    """(rate_rps, t_s) -> the canonical problem of ``spec.system`` on ``pipeline``, with ``spec.weights``
    applied and ``spec.max_cores`` as the core budget; carbon-aware (``ipa-carbon`` with a source) and
    within the power cap as ``grid`` says (:func:`ipa_energy.runs.grid.timed_factory`). ``current`` (a profile provider:
    :meth:`RunLearning.pipeline`) gives the pipeline of each decision instead, i.e. the offline profile
    corrected by what the run has observed."""
    from ipa_energy.optimize.presets import build_problem

    override = dict(spec.weights)

    def make(rate_rps: float) -> Any:
        problem = build_problem(current() if current is not None else pipeline, spec.system, rate_rps,
                                max_cores=spec.max_cores)
        if override:
            problem = dataclasses.replace(problem, weights=dataclasses.replace(problem.weights, **override))
        return problem

    return timed_factory(spec, make, grid, duration_s=duration_s)


def backend_options(spec: RunSpec) -> dict[str, Any]:
    if spec.backend == "sim":
        return dict(spec.sim)
    opts: dict[str, Any] = {}
    if spec.cache_dir is not None:
        opts["cache_dir"] = spec.cache_dir
    if spec.image_size is not None:
        opts["image_size"] = spec.image_size
    if spec.ray_address is not None:
        opts["ray_address"] = spec.ray_address
    return opts


def execute(
    spec: RunSpec, *, out_dir: Path | None = None, prefix: str = "", hooks: RunHooks = RunHooks()
) -> RunResult:
    """Run ``spec`` end to end on its backend and return the recorded run (see the module doc)."""
    from ipa_energy.pipelines import load_pipeline
    from ipa_energy.runs.adaptation import build_adaptation
    from ipa_energy.workloads import arrival_times, load_workload

    t0 = time.perf_counter()
    grid = grid_of(spec)  # carbon source and power cap, validated before any work
    pipeline = load_pipeline(spec.pipeline, profile=spec.profile)
    workload = load_workload(spec.workload, load_scale=spec.load_scale)
    trace_s = len(workload.rates_rps) / spec.time_scale
    duration_s = trace_s if spec.duration_s is None else min(spec.duration_s, trace_s)
    arrivals = arrival_times(workload, seed=spec.seed) / spec.time_scale
    arrivals = arrivals[arrivals < duration_s]
    history = workload.history_rps * spec.time_scale
    world = _world_profile(spec)
    learning = _learning(spec, pipeline, world, out_dir, prefix)
    factory = problem_factory(spec, pipeline, grid, duration_s=duration_s,
                              current=learning.pipeline if learning is not None else None)
    ctx = BackendContext(pipeline, arrivals, spec.system, spec.seed, spec.max_batch_wait_s, spec.meter,
                         backend_options(spec), world_profile=world)
    backend: Backend = BACKENDS.create(spec.backend, field="backend", ctx=ctx)
    adaptation = build_adaptation(spec, pipeline, backend, factory)
    policy = adaptation.policy
    stage_names = [s.name for s in pipeline.stages]
    writers = _writers(out_dir, prefix)
    steps: list[AdaptationStep] = []
    timeline: list[dict[str, Any]] = []
    interrupted = False

    def flush_seconds() -> None:
        for rec in backend.seconds()[len(timeline):]:
            row = {**timeline_row(rec, stage_names), **grid_columns(rec, grid.source, grid.cap)}
            timeline.append(row)
            if hooks.on_second is not None:
                hooks.on_second(rec)
            if writers:
                writers["timeline"].write(row)
                writers["energy"].write(energy_row(rec, stage_names))
        if learning is not None:
            learning.feed(backend, float(len(timeline)))
        if hooks.on_progress is not None:
            hooks.on_progress(float(len(timeline)), duration_s)

    # what the offline profile alone would have decided (the learning's counterfactual)
    static = problem_factory(spec, pipeline, grid, duration_s=duration_s)

    def decision_row(st: AdaptationStep) -> dict[str, Any]:
        row = step_row(st)
        return row if grid.cap is None else {**row, **cap_step_columns(st, grid.cap, spec.interval_s)}

    def on_step(st: AdaptationStep) -> None:
        if learning is not None and st.source not in GUARD_SOURCES:  # a guard step fixes variants: no twin
            learning.compare(st, lambda s: static(s.predicted_rate_rps, s.t_s), policy.solver)
        steps.append(st)
        if writers:
            writers["decisions"].write(decision_row(st))

    try:
        if hooks.on_backend is not None:
            hooks.on_backend(backend)
        first = policy.decide(Snapshot(t_s=0.0, history_rps=history[-AdaptParams().monitoring_window_s:],
                                       current=None))
        on_step(first)
        backend.start(first.config)
        if hooks.on_start is not None:
            hooks.on_start(f"serving {pipeline.name} on {spec.backend} ({len(arrivals)} requests over "
                           f"{duration_s:g} s), first configuration {config_str(first.config)}")
        try:
            run_adaptation(
                backend, backend_clock(backend), policy, duration_s=duration_s,
                params=AdaptParams(interval_s=spec.interval_s), on_step=on_step, on_interval=flush_seconds,
                history_before_rps=history, current=first.config, skip_first=True, guard=adaptation.guard,
            )
        except StopRequested:
            interrupted = True
        backend.finish(drain_s=2.0 * pipeline.drop_limit_s)
        flush_seconds()
        metrics = run_metrics(
            backend.seconds(), backend.summary(), steps, stage_names=stage_names,
            energy_scope=backend.energy_scope, wall_s=time.perf_counter() - t0,
            extras={**backend.extras(), **factory_counts(factory), "predictor": adaptation.predictor,
                    "interrupted": interrupted,
                    **(learning.metrics() if learning is not None else no_learning_metrics())},
            carbon=grid.source, power_cap=grid.cap, interval_s=spec.interval_s,
        )
    finally:
        backend.close()
        for w in writers.values():
            w.close()
        if learning is not None:
            learning.close()
    files = tuple(str(w.path) for w in writers.values()) + (learning.files() if learning is not None else ())
    return RunResult(spec, metrics, timeline, [decision_row(s) for s in steps], interrupted, files)


def _learning(
    spec: RunSpec, pipeline: Any, world: Any, out_dir: Path | None, prefix: str
) -> RunLearning | None:
    """The run's online profile (None with ``learn`` off); its error is measured against the world the
    simulator serves (``world_profile``, else the planning profile); a real backend's world is unknown."""
    if not spec.learn:
        return None
    if world is None and spec.backend == "sim":
        world = pipeline.profile
    return RunLearning(pipeline, world=world, label=f"{spec.backend}:{spec.system}", out_dir=out_dir,
                       prefix=prefix)


def _world_profile(spec: RunSpec) -> Any:
    """The simulated world's profile (checked against the pipeline like a planning profile), or None."""
    if spec.world_profile is None:
        return None
    if spec.backend != "sim":
        raise ConfigError("only the simulator takes a world profile (real backends are the world)",
                          field="world_profile")
    from ipa_energy.pipelines import load_pipeline

    return load_pipeline(spec.pipeline, profile=spec.world_profile).profile


def backend_clock(backend: Backend) -> Any:
    clock = getattr(backend, "clock", None)
    if clock is None:
        raise TypeError(f"{type(backend).__name__} has no clock")
    return clock


def _writers(out_dir: Path | None, prefix: str) -> dict[str, RowWriter]:
    if out_dir is None:
        return {}
    name = f"{prefix}_" if prefix else ""
    return {k: RowWriter(Path(out_dir) / f"{name}{k}.csv") for k in ("timeline", "decisions", "energy")}


__all__ = ["RunHooks", "RunResult", "backend_options", "execute", "problem_factory"]

