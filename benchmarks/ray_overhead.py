"""Per-hop overhead and start-up time of the Ray backend, against bare Ray Serve and the local executor.

All three measured in one run on one local Ray instance (rounds alternate between them):

* **bare Ray Serve**: the two-deployment hello world (an ingress that calls a second deployment through a
  DeploymentHandle, both returning at once), deployed with ``serve.run``; the driver calls the ingress.
  Per hop = end-to-end / 2 (nothing is computed).
* **ray backend**: :class:`RayBackend` serving digits' two smallest models (locate -> classify, batch 1,
  one replica each, no batch-fill wait) under requests spaced so that no queue builds.
  Per hop = (end-to-end - the model time its replicas measured around each batch) / 2: what remains is
  Ray's transport, ``@serve.batch`` and the router in the driver.
* **local executor**: the same through :class:`LocalBackend` (worker processes and pipes); per hop =
  (end-to-end - the two models called directly in this process) / 2, as ``executor_overhead.py``.

Start-up: from the deploy call to serving (bare: ``serve.run`` returns; ray backend: ``start()`` returns,
i.e. every replica has loaded its model; local: ``warm_up``). Ray's own start (``ray.init`` + Serve)
is printed apart; it is paid once per run by both Ray variants.

    .venv/bin/python benchmarks/ray_overhead.py [--requests 150] [--rate 20] [--rounds 2]

Goal: the ray backend within 1.2x of bare Ray Serve per hop.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from types import SimpleNamespace as NS

import numpy as np


def bare_app():  # type: ignore[no-untyped-def]
    from ray import serve

    @serve.deployment
    class Second:
        def __call__(self, x):  # type: ignore[no-untyped-def]
            return 1

    @serve.deployment
    class Ingress:
        def __init__(self, second):  # type: ignore[no-untyped-def]
            self.second = second

        async def __call__(self, x):  # type: ignore[no-untyped-def]
            return await self.second.remote(x)

    return Ingress.bind(Second.bind())


def bare_round(inputs, n: int, rate_rps: float) -> tuple[np.ndarray, float]:  # type: ignore[no-untyped-def]
    from ray import serve

    t0 = time.perf_counter()
    handle = serve.run(bare_app(), name="bare-hello", route_prefix=None)
    startup_s = time.perf_counter() - t0

    async def go() -> np.ndarray:
        out = np.empty(n)
        await handle.remote(inputs.get(0)[0])  # the handle's first call resolves the replicas
        for i in range(n):
            x, _ = inputs.get(i)
            t = time.perf_counter()
            await handle.remote(x)
            out[i] = time.perf_counter() - t
            await asyncio.sleep(max(0.0, 1.0 / rate_rps - out[i]))
        return out

    try:
        return asyncio.run(go()), startup_s
    finally:
        serve.delete("bare-hello")


def backend_round(kind: str, stages, inputs, n: int, rate_rps: float, runtime) -> tuple[np.ndarray, float]:  # type: ignore[no-untyped-def]
    from ipa_energy.backends.base import PipelineConfig, StageConfig
    from ipa_energy.backends.local.backend import LocalBackend
    from ipa_energy.backends.local.clock import WallClock
    from ipa_energy.backends.ray.backend import RayBackend

    arrivals = 0.5 + np.arange(n) / rate_rps
    cfg = PipelineConfig((StageConfig("digits-loc-s", 1, 1), StageConfig("digits-cls-s", 1, 1)))
    b: LocalBackend | RayBackend
    if kind == "ray":
        b = RayBackend(stages, arrivals, inputs, runtime=runtime, own_runtime=False, meter="none", sla_s=10.0,
                       drop_limit_s=10.0, max_batch_wait_s=0.0, max_ongoing=8, prefix="bench")
    else:
        b = LocalBackend(stages, arrivals, inputs, clock=WallClock(), meter=None, sla_s=10.0, drop_limit_s=10.0,
                         max_batch_wait_s=0.0)
    try:
        t0 = time.perf_counter()
        b.start(cfg)
        startup_s = time.perf_counter() - t0
        b.run_until(float(arrivals[-1]) + 1.0)
        b.finish(5.0)
        s = b.summary()
        assert s.completed == n and s.failed == 0, s
        if isinstance(b, RayBackend):  # model time measured in the replicas, request by request
            return s.latencies_s - np.asarray(b.request_compute_s), startup_s
        return s.latencies_s, startup_s
    finally:
        b.close()


def direct_s(cache: str, inputs, n: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    from ipa_energy.models import load_runner, spec_for

    loc = load_runner(spec_for("digits-loc-s", cache_dir=cache))
    cls = load_runner(spec_for("digits-cls-s", cache_dir=cache))
    out = np.empty(n)
    for i in range(n):
        x, _ = inputs.get(i)
        t0 = time.perf_counter()
        cls.run(np.asarray(loc.run(x[None]), dtype=np.float32))
        out[i] = time.perf_counter() - t0
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=150)
    ap.add_argument("--rate", type=float, default=20.0, help="requests/s (spaced, no queueing)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--cache-dir", default=None, help="digits model cache (default: a fresh temp dir)")
    args = ap.parse_args()

    import torch

    from ipa_energy.backends.local.build import local_stages
    from ipa_energy.backends.ray.cluster import RayRuntime
    from ipa_energy.loadgen import DigitsInputs

    torch.set_num_threads(1)
    cache = args.cache_dir or tempfile.mkdtemp(prefix="ipa-digits-")
    pipeline = [NS(name="locate", variants=[NS(name="digits-loc-s", cores=1, accuracy=1.0)]),
                NS(name="classify", variants=[NS(name="digits-cls-s", cores=1, accuracy=1.0)])]
    stages = local_stages(pipeline, cache_dir=cache)
    inputs = DigitsInputs(0)
    runtime = RayRuntime()
    t0 = time.perf_counter()
    runtime.start()
    ray_start_s = time.perf_counter() - t0
    lat: dict[str, list[np.ndarray]] = {"bare": [], "ray": [], "local": [], "direct": []}
    start: dict[str, list[float]] = {"bare": [], "ray": [], "local": []}
    try:
        for r in range(args.rounds):
            for kind in ("bare", "ray", "local"):
                if kind == "bare":
                    x, s = bare_round(inputs, args.requests, args.rate)
                else:
                    x, s = backend_round(kind, stages, inputs, args.requests, args.rate, runtime)
                lat[kind].append(x)
                start[kind].append(s)
                print(f"round {r + 1} {kind:<6} p50 {np.median(x) * 1e3:7.3f} ms  start-up {s:6.2f} s", flush=True)
            lat["direct"].append(direct_s(cache, inputs, args.requests))
    finally:
        runtime.stop()
    med = {k: float(np.median(np.concatenate(v))) for k, v in lat.items()}
    hop = {"bare": med["bare"] / 2, "ray": med["ray"] / 2,
           "local": (med["local"] - med["direct"]) / 2}
    print(f"\n{args.requests} requests x {args.rounds} rounds, 2 hops, batch 1, {args.rate:g} req/s; "
          f"Ray start (ray.init + Serve) {ray_start_s:.2f} s")
    print("(ray backend: end-to-end minus the model time measured in its replicas)")
    print(f"{'':<26}{'end-to-end p50':>16}{'per hop p50':>14}{'start-up p50':>14}")
    names = {"bare": "bare Ray Serve (hello)", "ray": "ray backend (digits)", "local": "local executor (digits)"}
    for k in ("bare", "ray", "local"):
        print(f"{names[k]:<26}{med[k] * 1e3:>13.3f} ms{hop[k] * 1e3:>11.3f} ms{np.median(start[k]):>12.2f} s")
    print(f"{'models called directly':<26}{med['direct'] * 1e3:>13.3f} ms")
    ratio = hop["ray"] / hop["bare"]
    print(f"ray backend / bare Ray Serve per hop: {ratio:.2f}x (goal <= 1.2x: {'met' if ratio <= 1.2 else 'NOT met'})")
    print(f"ray backend / local executor per hop: {hop['ray'] / hop['local']:.2f}x")


if __name__ == "__main__":
    main()
