"""Simulator fidelity: one live run on the local executor and the same run simulated, side by side.

Same pipeline, workload window, seed (so the same arrival instants), system, predictor and adaptation
interval; the simulator is given the profile measured on this machine (``--profile``, written by
``ipa-energy profile --pipeline digits --out ...``) and the executor's drop limit and batch-fill wait.
Energy: the live run's meter is ``auto`` in process mode (on a VM without counters: the CPU-time model,
active energy of the serving processes only, labelled estimated); the simulator charges the profile's
dynamic energy per batch, with idle power per core set to 0 so both count the same thing.

    .venv/bin/python benchmarks/serve_fidelity.py --profile /tmp/digits.profile.csv [--duration 60]
"""

from __future__ import annotations

import argparse
import math

import numpy as np


def simulate(args: argparse.Namespace, arrivals: np.ndarray) -> dict[str, float]:
    from ipa_energy.adapt import AdaptParams, Policy, run_adaptation
    from ipa_energy.backends.simulator.backend import SimParams, SimulatorBackend
    from ipa_energy.optimize.presets import build_problem, system_solver
    from ipa_energy.optimize.solvers import get_solver
    from ipa_energy.pipelines import load_pipeline
    from ipa_energy.predict import get_predictor

    pipeline = load_pipeline(args.pipeline, profile=args.profile)
    start = float(np.sum(arrivals < args.interval)) / args.interval
    first = build_problem(pipeline, args.system, max(1.0, start))
    params = SimParams(drop_limit_s=pipeline.drop_limit_s, max_batch_wait_s=args.max_batch_wait_s,
                       idle_power_w_per_core=0.0, seed=args.seed)
    b = SimulatorBackend(first.stages, arrivals, sla_s=pipeline.sla_s, accuracy_method=first.accuracy_method,
                         params=params)
    policy = Policy(lambda r: build_problem(pipeline, args.system, r), get_solver(system_solver(args.system)),
                    get_predictor(args.predictor), initial_rate_rps=max(1.0, start))
    run_adaptation(b, b.clock, policy, duration_s=args.duration, params=AdaptParams(interval_s=args.interval))
    b.run_until(args.duration + pipeline.drop_limit_s)  # let the last requests finish, as the live drain does
    s = b.summary()
    lat = s.latencies_s
    return {"sent": s.sent, "completed": s.completed, "dropped": s.dropped + s.failed,
            "latency_p50_s": float(np.percentile(lat, 50)), "latency_p99_s": float(np.percentile(lat, 99)),
            "energy_j": float(sum(r.energy_j for r in b.seconds()))}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pipeline", default="digits")
    ap.add_argument("--workload", default="steady_low")
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--system", default="ipa")
    ap.add_argument("--predictor", default="lstm")
    ap.add_argument("--interval", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-batch-wait-s", type=float, default=1.0)
    ap.add_argument("--profile", required=True, help="profile CSV measured on this machine")
    args = ap.parse_args()

    from ipa_energy.backends.local.live import LiveSpec, run_live
    from ipa_energy.loadgen import replay

    live = run_live(LiveSpec(pipeline=args.pipeline, workload=args.workload, duration_s=args.duration,
                             system=args.system, predictor=args.predictor, seed=args.seed,
                             interval_s=args.interval, profile=args.profile,
                             max_batch_wait_s=args.max_batch_wait_s))
    m = live.metrics
    real = {"sent": m["sent"], "completed": m["completed"], "dropped": m["dropped"] + m["failed"],
            "latency_p50_s": m["latency_p50_s"], "latency_p99_s": m["latency_p99_s"], "energy_j": m["energy_j"]}
    arrivals = replay(args.workload, duration_s=args.duration, seed=args.seed).arrival_times_s
    sim = simulate(args, arrivals)
    print(f"{args.pipeline} / {args.workload} / {args.system} / {args.predictor}, {args.duration:g} s, "
          f"seed {args.seed}; live energy source: {m['energy_source']}; live accuracy (measured): {m['accuracy']}")
    print("| metric | live (local executor) | simulated (measured profile) | sim / live |")
    print("|---|---|---|---|")
    for k in ("sent", "completed", "dropped", "latency_p50_s", "latency_p99_s", "energy_j"):
        a, b = real[k], sim[k]
        ratio = b / a if a and not math.isnan(a) else float("nan")
        print(f"| {k} | {a:.4g} | {b:.4g} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
