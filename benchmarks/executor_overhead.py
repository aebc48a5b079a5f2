"""Per-request overhead of the local executor per stage hop, versus calling the models directly.

Both measured side by side in one run, alternating rounds: the digits pipeline's two smallest models
(locate -> classify), batch 1, no batch-fill wait, one replica per stage, requests spaced so that no
queue builds. "direct" calls the two models one after the other in this process; "executor" serves the
same inputs through LocalBackend (admission at the arrival instant, queue, pipe to the worker process,
router, pipe to the next worker, completion). Overhead per hop = (executor - direct) / 2 stages.

    .venv/bin/python benchmarks/executor_overhead.py [--requests 200] [--rate 40] [--rounds 3]

Goal: <= 1 ms per hop at the median (Ray Serve was measured at about 3 ms per hop on such a machine).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from types import SimpleNamespace as NS

import numpy as np


def direct_latencies_s(loc, cls, inputs, n: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    out = np.empty(n)
    for i in range(n):
        x, _ = inputs.get(i)
        t0 = time.perf_counter()
        cls.run(np.asarray(loc.run(x[None]), dtype=np.float32))
        out[i] = time.perf_counter() - t0
    return out


def executor_latencies_s(stages, inputs, n: int, rate_rps: float) -> np.ndarray:  # type: ignore[no-untyped-def]
    from ipa_energy.backends.base import PipelineConfig, StageConfig
    from ipa_energy.backends.local.backend import LocalBackend
    from ipa_energy.backends.local.clock import WallClock

    clock = WallClock()
    arrivals = 0.5 + np.arange(n) / rate_rps
    b = LocalBackend(stages, arrivals, inputs, clock=clock, meter=None, sla_s=10.0, drop_limit_s=10.0,
                     max_batch_wait_s=0.0)
    try:
        b.warm_up(PipelineConfig((StageConfig("digits-loc-s", 1, 1), StageConfig("digits-cls-s", 1, 1))))
        clock.restart()
        b.run_until(float(arrivals[-1]) + 1.0)
        b.drain(5.0)
        s = b.summary()
        assert s.completed == n, s
        return s.latencies_s
    finally:
        b.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--rate", type=float, default=40.0, help="requests/s (spaced, no queueing)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cache-dir", default=None, help="digits model cache (default: a fresh temp dir)")
    args = ap.parse_args()

    import torch

    from ipa_energy.backends.local.build import local_stages
    from ipa_energy.loadgen import DigitsInputs
    from ipa_energy.models import load_runner, spec_for

    torch.set_num_threads(1)  # as the workers (1 core per replica)
    cache = args.cache_dir or tempfile.mkdtemp(prefix="ipa-digits-")
    pipeline = [
        NS(name="locate", variants=[NS(name="digits-loc-s", cores=1, accuracy=1.0)]),
        NS(name="classify", variants=[NS(name="digits-cls-s", cores=1, accuracy=1.0)]),
    ]
    stages = local_stages(pipeline, cache_dir=cache)
    loc = load_runner(spec_for("digits-loc-s", cache_dir=cache))
    cls = load_runner(spec_for("digits-cls-s", cache_dir=cache))
    inputs = DigitsInputs(0)
    direct_meds, exec_meds, direct_all, exec_all = [], [], [], []
    for r in range(args.rounds):
        d = direct_latencies_s(loc, cls, inputs, args.requests)
        e = executor_latencies_s(stages, inputs, args.requests, args.rate)
        direct_all.append(d)
        exec_all.append(e)
        direct_meds.append(np.median(d))
        exec_meds.append(np.median(e))
        print(f"round {r + 1}: direct p50 {np.median(d) * 1e3:.3f} ms   executor p50 {np.median(e) * 1e3:.3f} ms")
    d, e = np.concatenate(direct_all), np.concatenate(exec_all)
    hop_p50 = (np.median(e) - np.median(d)) / 2
    hop_p90 = (np.percentile(e, 90) - np.percentile(d, 90)) / 2
    print(f"\n{args.requests} requests x {args.rounds} rounds, 2 stages, batch 1, {args.rate:g} req/s")
    print(f"direct (two models in-process)  p50 {np.median(d) * 1e3:.3f} ms  p90 {np.percentile(d, 90) * 1e3:.3f} ms")
    print(f"executor (end to end)           p50 {np.median(e) * 1e3:.3f} ms  p90 {np.percentile(e, 90) * 1e3:.3f} ms")
    print(f"overhead per stage hop          p50 {hop_p50 * 1e3:.3f} ms  p90 {hop_p90 * 1e3:.3f} ms"
          f"  (goal <= 1 ms at p50: {'met' if hop_p50 <= 1e-3 else 'NOT met'})")
    print(f"ratio executor/direct at p50    {np.median(e) / np.median(d):.1f}x")


if __name__ == "__main__":
    main()
