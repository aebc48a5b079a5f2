"""Simulator fidelity: one live run on the local executor and the same run simulated, side by side.

Both runs go through the one run path (:func:`ipa_energy.runs.execute`) with the same spec: pipeline,
workload window, seed (so the same arrival instants), system, predictor, adaptation interval, batch-fill
wait and the profile measured on this machine (``--profile``, written by ``ipa-energy profile --pipeline
digits --out ...``); only the backend differs. Energy: the live run's meter is ``auto`` in process mode
(on a VM without counters: the CPU-time model, active energy of the serving processes only, labelled
estimated); the simulator models the allocated cores (idle power per core set to 0 here, so both count
only the energy of serving). Each side's ``energy_scope`` is printed.

    .venv/bin/python benchmarks/serve_fidelity.py --profile /tmp/digits.profile.csv [--duration 60]
"""

from __future__ import annotations

import argparse
import dataclasses
import math


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

    from ipa_energy.runs import RunSpec, execute

    spec = RunSpec(pipeline=args.pipeline, workload=args.workload, duration_s=args.duration, system=args.system,
                   predictor=args.predictor, seed=args.seed, interval_s=args.interval, profile=args.profile,
                   max_batch_wait_s=args.max_batch_wait_s, backend="local")
    live = execute(spec).metrics
    sim = execute(dataclasses.replace(spec, backend="sim", sim=(("idle_power_w_per_core", 0.0),))).metrics
    print(f"{args.pipeline} / {args.workload} / {args.system} / {args.predictor}, {args.duration:g} s, "
          f"seed {args.seed}; live accuracy (measured): {live.get('accuracy')}")
    print(f"live energy: {live['energy_source']}, scope {live['energy_scope']}")
    print(f"simulated energy: {sim['energy_source']}, scope {sim['energy_scope']}")
    print("| metric | live (local executor) | simulated (measured profile) | sim / live |")
    print("|---|---|---|---|")
    for k in ("sent", "completed", "dropped", "failed", "latency_p50_s", "latency_p99_s", "energy_j"):
        a, b = live[k], sim[k]
        ratio = b / a if a and not (isinstance(a, float) and math.isnan(a)) else float("nan")
        print(f"| {k} | {a:.4g} | {b:.4g} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
