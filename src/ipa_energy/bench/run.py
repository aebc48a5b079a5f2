"""One simulated run of the adaptive system: the unit of work of ``simulate`` and ``bench``."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ipa_energy.adapt import AdaptationStep, AdaptParams, Policy, run_adaptation
from ipa_energy.backends.base import Backend, PipelineConfig, SecondRecord
from ipa_energy.bench.experiment import RunSpec
from ipa_energy.optimize.problem import Problem, Weights

#: metric columns of summary.csv / ``simulate --json``, in order
METRIC_COLUMNS = (
    "requests", "completed", "dropped", "late", "unfinished", "sla_violation_pct", "drop_pct", "pas",
    "cost_cores", "energy_j", "mean_power_w", "latency_p50_s", "latency_p99_s", "decision_time_p50_s",
    "fallback_intervals", "simulated_s", "wall_s",
)


@dataclass(frozen=True)
class RunResult:
    spec: RunSpec
    metrics: dict[str, Any]
    timeline: list[dict[str, Any]]
    steps: list[dict[str, Any]]


def config_str(config: PipelineConfig) -> str:
    return " | ".join(f"{s.variant} b{s.batch} x{s.replicas}" for s in config.stages)


def _problem_factory(spec: RunSpec, pipeline: Any) -> Any:
    from ipa_energy.optimize.presets import build_problem

    override = dict(spec.weights)

    def make(rate_rps: float) -> Problem:
        problem: Problem = build_problem(pipeline, spec.system, rate_rps)
        if override:
            problem = dataclasses.replace(
                problem, weights=dataclasses.replace(problem.weights, **override)
            )
        return problem

    return make


def metrics_of(
    sla_s: float, seconds: list[SecondRecord], backend: Backend, steps: list[AdaptationStep], wall_s: float
) -> dict[str, Any]:
    s = backend.summary()
    sent = max(1, s.sent)
    lat = s.latencies_s
    energy_j = float(sum(r.energy_j for r in seconds))
    duration = max(1e-9, float(len(seconds)))
    return {
        "requests": s.sent,
        "completed": s.completed,
        "dropped": s.dropped + s.failed,
        "late": s.late,
        "unfinished": s.in_flight,
        # dropped, failed, unanswered at the end, or answered after the SLA
        "sla_violation_pct": 100.0 * (s.dropped + s.failed + s.in_flight + s.late) / sent,
        # the paper's definition: dropped or unanswered only
        "drop_pct": 100.0 * (s.dropped + s.failed + s.in_flight) / sent,
        "pas": float(np.mean([r.pas for r in seconds])) if seconds else float("nan"),
        "cost_cores": float(np.mean([r.cost_cores for r in seconds])) if seconds else float("nan"),
        "energy_j": energy_j,
        "mean_power_w": energy_j / duration,
        "latency_p50_s": float(np.percentile(lat, 50)) if len(lat) else float("nan"),
        "latency_p99_s": float(np.percentile(lat, 99)) if len(lat) else float("nan"),
        "decision_time_p50_s": float(np.median([st.decision_time_s for st in steps])) if steps else 0.0,
        "fallback_intervals": sum(st.source == "fallback" for st in steps),
        "simulated_s": duration,
        "wall_s": wall_s,
    }


def timeline_rows(seconds: list[SecondRecord]) -> list[dict[str, Any]]:
    return [
        {
            "t_s": r.t_s, "arrivals": r.arrivals, "completed": r.completed, "dropped": r.dropped,
            "late": r.late, "latency_p50_s": r.latency_p50_s, "latency_p99_s": r.latency_p99_s,
            "cost_cores": r.cost_cores, "pas": r.pas, "power_w": r.power_w, "energy_j": r.energy_j,
            "energy_source": r.energy_source, "queue_lengths": " ".join(map(str, r.queue_lengths)),
            "config": config_str(r.config),
        }
        for r in seconds
    ]


def step_rows(steps: list[AdaptationStep]) -> list[dict[str, Any]]:
    return [
        {
            "t_s": st.t_s, "predicted_rate_rps": st.predicted_rate_rps, "source": st.source,
            "objective": st.decision.objective, "reference_objective": st.reference_objective,
            "decision_time_s": st.decision_time_s, "solve_time_s": st.decision.solve_time_s,
            "config": config_str(st.config), "changed_stages": " ".join(map(str, st.changed_stages)),
        }
        for st in steps
    ]


def run_one(spec: RunSpec) -> RunResult:
    """Simulate ``spec`` end to end: workload -> simulator <- adaptation loop (predictor + solver)."""
    from ipa_energy.backends.simulator.backend import SimParams, SimulatorBackend
    from ipa_energy.optimize.presets import build_problem, system_solver
    from ipa_energy.optimize.solvers import get_solver
    from ipa_energy.pipelines import load_pipeline
    from ipa_energy.predict import get_predictor
    from ipa_energy.workloads import arrival_times, load_workload

    t0 = time.perf_counter()
    pipeline = load_pipeline(spec.pipeline)
    workload = load_workload(spec.workload, load_scale=spec.load_scale)
    rates = workload.rates_rps
    duration_s = float(len(rates)) if spec.duration_s is None else min(spec.duration_s, float(len(rates)))
    arrivals = arrival_times(workload, seed=spec.seed)
    arrivals = arrivals[arrivals < duration_s]
    make_problem = _problem_factory(spec, pipeline)
    solver_name = system_solver(spec.system)
    first = make_problem(max(1.0, float(rates[: int(spec.interval_s)].max())))
    params = SimParams(
        **{
            "drop_limit_s": pipeline.drop_limit_s,
            "idle_power_w_per_core": first.idle_power_w_per_core,
            "seed": spec.seed,
            **dict(spec.sim),
        }
    )
    # the simulator serves with the profile as measured (no planning margin)
    sim_stages = build_problem(pipeline, spec.system, first.arrival_rate, latency_factor=1.0).stages
    backend = SimulatorBackend(
        sim_stages, arrivals, sla_s=pipeline.sla_s, accuracy_method=first.accuracy_method, params=params
    )
    policy = Policy(
        make_problem,
        get_solver(solver_name),
        get_predictor(spec.predictor),
        # the run is assumed to start warm, on the load at its start (IPA's runs began after a warm-up)
        initial_rate_rps=float(rates[: int(spec.interval_s)].max()),
        # a heuristic's objective gap per interval is measured against the exact optimum
        reference_solver=None if solver_name == "dp" else get_solver("dp"),
    )
    try:
        steps = run_adaptation(
            backend, backend.clock, policy, duration_s=duration_s, params=AdaptParams(interval_s=spec.interval_s)
        )
        seconds = backend.seconds()
        wall_s = time.perf_counter() - t0
        metrics = metrics_of(pipeline.sla_s, seconds, backend, steps, wall_s)
    finally:
        backend.close()
    return RunResult(spec, metrics, timeline_rows(seconds), step_rows(steps))


__all__ = ["METRIC_COLUMNS", "RunResult", "Weights", "run_one"]
