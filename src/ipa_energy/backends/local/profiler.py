"""Measure every variant of a pipeline the way the local executor runs it, into a profile table.

For each stage, variant, core count and batch: one replica (a worker process with ``cores`` threads)
gets ``warmup`` batches, then ``repeats`` timed ones of real inputs. Per batch we record the wall
latency seen by the router (send -> answer, pipe transfer included), the worker's CPU time, and energy
from a meter over the worker's process; the meter's idle baseline (measured with the worker loaded but
idle) is subtracted, so ``energy_j`` is the dynamic energy of one batch as the profile format asks.
Inputs of stage k+1 are the outputs of stage k's first variant on stage k's inputs (real crops).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any

import numpy as np

from ipa_energy.backends.local.stage import READY, LocalVariant, WorkerHandle, default_context
from ipa_energy.energy.scope import energy_source_label
from ipa_energy.errors import BackendError


@dataclass(frozen=True)
class ProfileMeasurement:
    """One (stage, variant, cores, batch) point. Times in seconds, energy in joules per batch."""

    stage: str
    variant: str
    cores: int
    batch: int
    repeats: int
    latency_p50_s: float
    latency_p99_s: float
    latency_mean_s: float
    compute_p50_s: float
    throughput_rps: float
    cpu_s_per_batch: float
    energy_j_per_batch: float
    energy_source: str
    weights: str


def _start(variant: LocalVariant, cores: int, timeout_s: float) -> WorkerHandle:
    v = LocalVariant(variant.name, variant.spec, cores, variant.accuracy)
    w = WorkerHandle(0, v, default_context(), 0.0)
    if not w.conn.poll(timeout_s):
        w.kill()
        raise BackendError(f"{variant.name}: replica did not load within {timeout_s:g} s")
    msg = w.conn.recv()
    if msg[0] != "ready":
        w.join(1.0)
        raise BackendError(f"{variant.name}: replica could not load its model: {msg[1]}")
    w.state, w.weights = READY, msg[1]
    return w


def _call(w: WorkerHandle, inputs: Any) -> tuple[Any, float, float, float]:
    """One batch; returns outputs, wall latency, worker CPU s, worker compute s."""
    t0 = time.perf_counter()
    w.conn.send((0, inputs))
    ready = wait([w.conn, w.proc.sentinel])
    if w.conn not in ready and not w.conn.poll():
        raise BackendError(f"{w.variant.name}: replica exited (code {w.proc.exitcode}) during a batch")
    msg = w.conn.recv()
    wall = time.perf_counter() - t0
    if msg[0] != "done":
        raise BackendError(f"{w.variant.name}: batch failed: {msg[2]}")
    return msg[2], wall, float(msg[3]), float(msg[4])


def profile_variant(
    stage: str,
    variant: LocalVariant,
    inputs: np.ndarray,
    *,
    cores: int,
    batches: Sequence[int],
    repeats: int,
    warmup: int,
    meter_factory: Callable[[int], Any] | None,
    idle_probe_s: float = 0.5,
    load_timeout_s: float = 300.0,
    on_point: Callable[[], None] | None = None,
    collect_outputs: bool = True,
) -> tuple[list[ProfileMeasurement], Any]:
    """Profile one variant at one core count; also returns its outputs on ``inputs`` (next stage's), or
    None without ``collect_outputs`` (the last stage: no next stage needs them, and for a model taking
    a minute per image they would cost half an hour)."""
    w = _start(variant, cores, load_timeout_s)
    try:
        meter = meter_factory(w.pid) if (meter_factory is not None and w.pid is not None) else None
        idle_w = 0.0
        source = "none"
        if meter is not None:
            r0 = meter.read()
            time.sleep(idle_probe_s)
            m = meter.difference(r0, meter.read())
            idle_w = m.energy_j / m.duration_s if m.duration_s > 0 else 0.0
            source = energy_source_label(m.source, m.quality)
        out: list[ProfileMeasurement] = []
        n = len(inputs)
        for b in batches:
            idx = np.arange(b) % n
            x = inputs[idx]
            for _ in range(warmup):
                _call(w, x)
            walls, cpus, computes = [], [], []
            r0 = meter.read() if meter is not None else None
            for k in range(repeats):
                x = inputs[(np.arange(b) + k * b) % n]
                _, wall, cpu, comp = _call(w, x)
                walls.append(wall)
                cpus.append(cpu)
                computes.append(comp)
            energy = math.nan  # no meter: a gap, never 0 J
            if meter is not None:
                m = meter.difference(r0, meter.read())
                energy = max(0.0, m.energy_j - idle_w * m.duration_s) / repeats
            arr = np.asarray(walls)
            out.append(ProfileMeasurement(
                stage=stage, variant=variant.name, cores=cores, batch=b, repeats=repeats,
                latency_p50_s=float(np.percentile(arr, 50)), latency_p99_s=float(np.percentile(arr, 99)),
                latency_mean_s=float(arr.mean()), compute_p50_s=float(np.median(computes)),
                throughput_rps=b / float(arr.mean()), cpu_s_per_batch=float(np.mean(cpus)),
                energy_j_per_batch=energy, energy_source=source, weights=w.weights,
            ))
            if on_point is not None:
                on_point()
        if meter is not None and hasattr(meter, "close"):
            meter.close()
        if not collect_outputs:
            return out, None
        outputs = []
        for i in range(0, n, max(batches)):
            o, *_ = _call(w, inputs[i : i + max(batches)])
            outputs.append(np.asarray(o))
        return out, np.concatenate(outputs)
    finally:
        w.stop()
        w.join(5.0)


def to_profile_rows(points: Sequence[ProfileMeasurement], label: str) -> list[Any]:
    """Profile-table rows (``latency_s`` = p99 of the batch latency, as IPA planned with)."""
    from ipa_energy.profiles import ProfileRow

    return [
        ProfileRow(
            stage=p.stage, variant=p.variant, batch=p.batch, latency_s=p.latency_p99_s,
            energy_j=p.energy_j_per_batch,  # NaN (not measured) is written as a gap
            latency_p50_s=p.latency_p50_s, latency_p99_s=p.latency_p99_s, cores=p.cores,
            source=f"measured:{label} repeats={p.repeats} energy={p.energy_source} weights={p.weights.split(':')[0]}",
        )
        for p in points
    ]
