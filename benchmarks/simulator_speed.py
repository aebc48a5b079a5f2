"""Simulator speed: requests simulated per wall second, video pipeline on a bundled workload x load scale.

    .venv/bin/python benchmarks/simulator_speed.py                      # bursty x100, 3 repeats
    .venv/bin/python benchmarks/simulator_speed.py --load-scale 10 --repeats 1 --batch 1

Two scenarios, measured side by side in one run (median over repeats):

* ``fixed``: one configuration sized for the trace's peak (replicas = ceil(1.1 x peak / throughput at
  batch 8)), applied before the run, then ``run_until`` in 10 s steps as the adapter would;
* ``reconfig``: every 10 s an ``apply()`` sized for the next 10 s's peak (replicas up and down, start-up
  delays), and every 100 s a variant switch of the classification stage (resnet18 <-> resnet34).

Arrivals are the workloads module's seeded Poisson arrivals. Timed: construction, the run, ``seconds()``
and ``summary()``; ``cpu_s`` (process time) beside ``wall_s`` shows what the machine's other load cost.
``--batch`` (default 8, the video pipeline's batching cap) sets both stages' batch size. The goal of issue
3: >= 100,000 requests per wall second on bursty x100 (about 1.44 M requests over 1200 s).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np
from numpy.typing import NDArray

from ipa_energy.backends.base import PipelineConfig, StageConfig
from ipa_energy.backends.simulator.backend import SimParams, SimulatorBackend
from ipa_energy.optimize.problem import Stage

BATCH = 8  # overridden by --batch
STEP_S = 10


def _throughput_rps(stage: Stage, variant: str, batch: int) -> float:
    v = next(v for v in stage.variants if v.name == variant)
    p = next(p for p in v.profile if p.batch == batch)
    return batch / p.latency_s


def _config(stages: tuple[Stage, ...], variants: tuple[str, str], rate_rps: float) -> PipelineConfig:
    return PipelineConfig(
        tuple(
            StageConfig(v, BATCH, max(1, math.ceil(1.1 * rate_rps / _throughput_rps(s, v, BATCH))))
            for s, v in zip(stages, variants, strict=True)
        )
    )


def run_fixed(
    stages: tuple[Stage, ...], arrivals: NDArray[np.float64], rates: NDArray[np.float64], params: SimParams
) -> SimulatorBackend:
    cfg = _config(stages, ("yolov5n", "resnet18"), float(rates.max()))
    sim = SimulatorBackend(stages, arrivals, sla_s=6.89, accuracy_method="product", params=params, initial=cfg)
    for t in range(STEP_S, len(rates) + 1, STEP_S):
        sim.run_until(float(t))
    sim.seconds()
    sim.summary()
    return sim


def run_reconfig(
    stages: tuple[Stage, ...], arrivals: NDArray[np.float64], rates: NDArray[np.float64], params: SimParams
) -> SimulatorBackend:
    sim = SimulatorBackend(stages, arrivals, sla_s=6.89, accuracy_method="product", params=params)
    for t in range(0, len(rates), STEP_S):
        second = "resnet18" if (t // 100) % 2 == 0 else "resnet34"
        peak = float(rates[t : t + STEP_S].max())
        sim.apply(_config(stages, ("yolov5n", second), max(peak, 1.0)))
        sim.run_until(float(min(t + STEP_S, len(rates))))
    sim.seconds()
    sim.summary()
    return sim


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workload", default="bursty")
    ap.add_argument("--load-scale", type=float, default=100.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=8, help="batch size of both stages (a profiled one)")
    args = ap.parse_args()
    global BATCH
    BATCH = args.batch

    from ipa_energy.pipelines import load_pipeline
    from ipa_energy.workloads import arrival_times, load_workload

    pipeline = load_pipeline("video")
    stages = pipeline.problem_stages()
    workload = load_workload(args.workload, load_scale=args.load_scale)
    arrivals = arrival_times(workload, seed=args.seed)
    rates = workload.rates_rps
    params = SimParams(drop_limit_s=pipeline.drop_limit_s)
    n = int(arrivals.size)
    print(f"video pipeline, {args.workload} x{args.load_scale:g}: {n:,} requests over {len(rates)} s "
          f"(Poisson arrivals, seed {args.seed}); batch {BATCH}; {args.repeats} repeats, median")
    print(f"{'scenario':<10} {'requests':>10} {'wall_s':>8} {'cpu_s':>7} {'req/wall_s':>11} "
          f"{'completed':>10} {'dropped':>8} {'in_flight':>9} {'applies':>7}")
    medians = {}
    scenarios = (("fixed", run_fixed), ("reconfig", run_reconfig))
    walls: dict[str, list[float]] = {name: [] for name, _ in scenarios}
    cpus: dict[str, list[float]] = {name: [] for name, _ in scenarios}
    last: dict[str, SimulatorBackend] = {}
    for _ in range(args.repeats):  # interleaved, so both scenarios see the same machine load
        for name, fn in scenarios:
            w0, c0 = time.perf_counter(), time.process_time()
            last[name] = fn(stages, arrivals, rates, params)
            walls[name].append(time.perf_counter() - w0)
            cpus[name].append(time.process_time() - c0)
    for name, _ in scenarios:
        s = last[name].summary()
        assert s.sent == s.completed + s.dropped + s.failed + s.in_flight
        wall = statistics.median(walls[name])
        medians[name] = wall
        applies = 1 if name == "fixed" else len(range(0, len(rates), STEP_S))
        print(f"{name:<10} {s.sent:>10,} {wall:>8.2f} {statistics.median(cpus[name]):>7.2f} "
              f"{s.sent / wall:>11,.0f} {s.completed:>10,} {s.dropped:>8,} {s.in_flight:>9,} {applies:>7}")
    print(f"ratio reconfig/fixed wall time: {medians['reconfig'] / medians['fixed']:.2f}")


if __name__ == "__main__":
    main()
