"""The local executor: real models in worker processes on this machine, behind the Backend interface.

One event loop in the parent process admits arrivals at their (wall-clock) times, keeps a central FIFO
queue per stage with adaptive batching (a batch leaves when it is full or its oldest request has waited
``max_batch_wait_s``), sends batches to idle replicas over pipes, routes each output to the next stage
and files every event in a :class:`~.ledger.Ledger`. Requests older than the drop limit are dropped
before they are served. A replica that dies is replaced; the batch it held is retried once (then the
requests count as failed): nothing is silently lost, ``sent == completed + dropped + failed + in_flight``.

Energy comes from the meter passed in (``get_meter("auto", pids=[os.getpid()])`` in ``serve``): one
reading per closed second, split by :func:`ipa_energy.energy.attribution.attribute` into idle and active
energy, the active part shared among stages by the CPU time their workers reported against the CPU time
of the meter's scope (the serving processes for a process-mode estimate, the machine otherwise); the rest
(idle, the router, other processes) stays unattributed. ``energy_scope`` names what the meter covers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from multiprocessing.connection import Connection, wait
from multiprocessing.context import BaseContext
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from ipa_energy.backends.base import (
    Backend,
    BatchRecord,
    Clock,
    PipelineConfig,
    RunSummary,
    SecondRecord,
    StageConfig,
    StopRequested,
)
from ipa_energy.backends.local.ledger import EnergySplit, Ledger, ServedBatch, batch_observations, scope_cpu_time
from ipa_energy.backends.local.stage import (
    READY,
    STARTING,
    LocalVariant,
    Request,
    StageRuntime,
    WorkerHandle,
    default_context,
)
from ipa_energy.energy.base import EnergyMeter
from ipa_energy.energy.cputime import CpuTimeSource
from ipa_energy.energy.nvml import GpuSamples
from ipa_energy.energy.scope import energy_scope
from ipa_energy.errors import BackendError, ConfigError
from ipa_energy.profiles.online import Observation
from ipa_energy.rules import batch_to_take, batch_wake_s, drop_before_s, pas

#: replicas that may die before loading their model (killed, crashed) before the run is aborted
MAX_START_FAILURES = 3


class InputSource(Protocol):
    """Inputs for requests: ``get(i)`` is the payload and the label (None when unlabelled) of request i.
    A source may also define ``score(output, label) -> float`` in [0, 1] (e.g. IoU for segmentation);
    without one, :func:`exact_match` scores a request."""

    def get(self, i: int) -> tuple[Any, Any]: ...


def exact_match(output: Any, label: Any) -> float:
    """1.0 when a classifier's output is its label, else 0.0."""
    return float(int(output) == int(label))


class LocalBackend(Backend):
    def __init__(
        self,
        stages: Sequence[tuple[str, Mapping[str, LocalVariant]]],
        arrival_times_s: NDArray[np.float64],
        inputs: InputSource,
        *,
        clock: Clock,
        meter: EnergyMeter | None,
        sla_s: float,
        drop_limit_s: float,
        accuracy_method: str = "product",
        max_batch_wait_s: float = 1.0,
        max_attempts: int = 2,
        ctx: BaseContext | None = None,
        record_batches: bool = False,
    ) -> None:
        if not stages:
            raise ConfigError("a pipeline needs at least one stage", field="stages")
        if max_attempts < 1:
            raise ConfigError(f"must be >= 1 (got {max_attempts})", field="max_attempts")
        arr = np.asarray(arrival_times_s, dtype=np.float64)
        if arr.ndim != 1 or (len(arr) > 1 and np.any(np.diff(arr) < 0)):
            raise ConfigError("must be a sorted 1-D array of seconds", field="arrival_times_s")
        self.clock = clock
        self.meter = meter
        self.sla_s = sla_s
        self.drop_limit_s = drop_limit_s
        self.accuracy_method = accuracy_method
        self.max_batch_wait_s = max_batch_wait_s
        self.max_attempts = max_attempts
        self._ctx = ctx or default_context()
        self._stages = [StageRuntime(i, name, dict(vs), self._ctx) for i, (name, vs) in enumerate(stages)]
        self._stage_names = tuple(s.name for s in self._stages)
        self._arrivals = arr
        self._next_arrival = 0
        self._inputs = inputs
        self._score = getattr(inputs, "score", exact_match)
        self._ledger = Ledger(sla_s, len(self._stages))
        self._config: PipelineConfig | None = None
        self._batch_ids = 0
        self._inflight: dict[int, WorkerHandle] = {}
        self._closed_seconds = 0
        self._last_reading: Any = meter.read() if meter is not None else None
        self._last_reading_s = clock.now_s()
        self.energy_scope = energy_scope(meter)
        # the CPU time of the meter's scope: the denominator of each stage's share of active energy
        self._scope_cpu: CpuTimeSource | None = None
        if meter is not None:
            self._scope_cpu = scope_cpu_time(meter, [os.getpid()])
        self._last_scope_cpu_s = self._scope_cpu.busy_core_s() if self._scope_cpu is not None else 0.0
        #: NVML's per-process samples since the last closed second (GPU attribution)
        self._gpu_samples = GpuSamples(meter) if meter is not None else None
        self._batches: list[BatchRecord] | None = [] if record_batches else None
        self._stop = False
        self._admitting = True
        self._replaced = 0
        #: called with one line when a replica dies and is replaced (``serve`` prints it as it happens)
        self.on_worker_replaced: Callable[[str], None] | None = None
        self._start_failures = 0
        self._started = False
        self._closed = False
        # batches answered in the second being accumulated, per stage: (t, variant, k, cores, latency, cpu)
        self._served: list[list[ServedBatch]] = [[] for _ in self._stages]
        self._observed: list[Observation] = []

    # ---- Backend interface -------------------------------------------------------------------
    def apply(self, config: PipelineConfig) -> None:
        if len(config.stages) != len(self._stages):
            raise ConfigError(
                f"config has {len(config.stages)} stages, the pipeline {len(self._stages)}", field="config"
            )
        if config == self._config or self._stop:
            return
        for st, sc in zip(self._stages, config.stages, strict=True):
            if sc.batch < 1 or sc.replicas < 1:
                raise ConfigError(f"batch and replicas must be >= 1 (got {sc})", field=f"config.{st.name}")
            st.configure(sc.variant, sc.batch, sc.replicas)
        self._config = config
        now = self.clock.now_s()
        for st in self._stages:
            st.reconcile(now)

    def run_until(self, t_s: float) -> None:
        if self._config is None:
            raise BackendError("apply a configuration before run_until")
        if not self._started:  # the run starts now (after any warm-up): energy is counted from here
            self._started = True
            self._last_reading = self.meter.read() if self.meter is not None else None
            self._last_reading_s = self.clock.now_s()
            if self._scope_cpu is not None:
                self._last_scope_cpu_s = self._scope_cpu.busy_core_s()
            if self._gpu_samples is not None:
                self._gpu_samples.restart()
        while True:
            if self._stop:
                raise StopRequested
            now = self.clock.now_s()
            self._close_seconds(now)
            self._admit(now)
            self._service(now)
            if now >= t_s:
                return
            self._wait(min(t_s, self._next_deadline(now)) - now)

    def arrivals_per_second(self) -> NDArray[np.float64]:
        return self._ledger.arrivals_per_second(self._closed_seconds)

    def seconds(self) -> list[SecondRecord]:
        return list(self._ledger.records)

    def batch_log(self) -> list[BatchRecord]:
        return list(self._batches or ())

    def summary(self) -> RunSummary:
        return self._ledger.summary(self.in_flight(), float(self._closed_seconds))

    def observations(self) -> list[Observation]:
        """Batches answered in the seconds closed since the last call. Latency: the router's wall time
        from sending the batch to its answer (as ``ipa-energy profile`` measures), one sample of the
        distribution whose median a profile row's ``latency_p50_s`` holds; energy: the stage's attributed
        energy of the second shared by the batches' CPU time (None without a meter)."""
        out, self._observed = self._observed, []
        return out

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        workers = [w for st in self._stages for w in st.workers + st.retired]
        for w in workers:
            w.stop()
        for w in workers:
            w.join(5.0)
        for st in self._stages:
            st.workers.clear()
            st.retired.clear()

    # ---- extras ------------------------------------------------------------------------------
    def warm_up(self, config: PipelineConfig, timeout_s: float = 300.0) -> None:
        """Apply ``config`` and wait (serving nothing) until every replica has loaded its model."""
        self.apply(config)
        end = self.clock.now_s() + timeout_s
        while any(w.state == STARTING for st in self._stages for w in st.workers):
            if self.clock.now_s() > end:
                raise BackendError(f"replicas did not load their models within {timeout_s:g} s")
            self._wait(0.2)
            for st in self._stages:
                st.reconcile(self.clock.now_s())

    def request_stop(self) -> None:
        """Make the next :meth:`run_until` raise :class:`StopRequested` (safe from a signal handler)."""
        self._stop = True

    def start(self, config: PipelineConfig) -> None:
        """Load the first configuration's models, then start the clock: the run starts warm."""
        self.warm_up(config)
        restart = getattr(self.clock, "restart", None)
        if callable(restart):
            restart()

    def change_delays_s(self) -> tuple[float, float]:
        """Measured: the longest model load (start to ready) of any replica so far, for both a new replica
        and a variant switch (each is a new worker process loading its model)."""
        loads = [w.ready_s - w.started_s for st in self._stages for w in st.workers + st.retired
                 if w.ready_s is not None]
        worst = max(loads, default=0.0)
        return worst, worst

    def finish(self, drain_s: float) -> None:
        self.drain(timeout_s=drain_s)
        self.finish_second()

    def extras(self) -> dict[str, Any]:
        meter = self.meter
        selection = getattr(meter, "selection", None)
        return {
            "accuracy": self.accuracy(), "retried": self.retried, "replaced_workers": self.replaced_workers(),
            "weights": sorted(set(self.weights().values())),
            "energy_meter": selection.summary() if selection is not None else None,
        }

    def drain(self, timeout_s: float = 30.0) -> None:
        """Stop admitting arrivals; serve what is in the pipeline (no batch-fill wait) until empty."""
        self._admitting = False
        self.max_batch_wait_s = 0.0
        end = self.clock.now_s() + timeout_s
        while self.in_flight() > 0 and self.clock.now_s() < end:
            now = self.clock.now_s()
            self._service(now)
            self._wait(min(0.1, max(0.0, end - now)))
        self._close_seconds(self.clock.now_s())

    def finish_second(self) -> None:
        """Close the second in progress (after draining), so its events appear in :meth:`seconds`."""
        now = self.clock.now_s()
        self._close_seconds(now, force=True)

    def in_flight(self) -> int:
        return sum(st.in_flight() for st in self._stages)

    def accuracy(self) -> float | None:
        """End-to-end accuracy (mean score: exact match, or IoU for segmentation) measured on completed
        labelled requests (None if no labels)."""
        return self._ledger.accuracy()

    def energy_log(self) -> list[dict[str, Any]]:
        """One row per closed second: energy, power, source, and per-stage CPU time and energy."""
        return list(self._ledger.energy_rows)

    def replaced_workers(self) -> int:
        return self._replaced

    def worker_pids(self) -> dict[str, list[int]]:
        """Live replica process ids per stage (for tests and fault injection)."""
        return {st.name: [w.pid for w in st.workers if w.pid is not None] for st in self._stages}

    def weights(self) -> dict[str, str]:
        """Where each loaded variant's weights came from ("trained:...", "random-init", ...)."""
        return {w.variant.name: w.weights for st in self._stages for w in st.workers if w.weights}

    @property
    def retried(self) -> int:
        return self._ledger.retried

    # ---- the event loop ----------------------------------------------------------------------
    def _admit(self, now: float) -> None:
        arr = self._arrivals
        while self._admitting and self._next_arrival < len(arr) and arr[self._next_arrival] <= now:
            i = self._next_arrival
            self._next_arrival += 1
            payload, label = self._inputs.get(i)
            t_a = float(arr[i])
            self._ledger.arrival(t_a)
            self._stages[0].queue.append(Request(i, t_a, payload, label, 0, t_a))

    def _service(self, now: float) -> None:
        for st in self._stages:
            st.reconcile(now)
            self._expire(st, now)
            self._dispatch(st, now)

    def _expire(self, st: StageRuntime, now: float) -> None:
        q = st.queue
        if not q:
            return
        limit = drop_before_s(now, self.drop_limit_s)
        if any(r.arrival_s < limit for r in q):
            keep = [r for r in q if r.arrival_s >= limit]
            for _ in range(len(q) - len(keep)):
                self._ledger.drop(now)
            q.clear()
            q.extend(keep)

    def _dispatch(self, st: StageRuntime, now: float) -> None:
        q = st.queue
        for w in st.idle_ready():
            k = batch_to_take(len(q), st.batch, now, q[0].ready_s, self.max_batch_wait_s) if q else 0
            if not k:
                return
            batch = [q.popleft() for _ in range(k)]
            if self._batches is not None:
                self._batches.append(BatchRecord(st.index, w.variant.name, now, tuple(r.rid for r in batch)))
            self._batch_ids += 1
            inputs = np.stack([np.asarray(r.payload) for r in batch])
            w.send_batch(self._batch_ids, batch, inputs, now)
            self._inflight[self._batch_ids] = w

    def _next_deadline(self, now: float) -> float:
        t = float(self._closed_seconds + 1)
        if self._admitting and self._next_arrival < len(self._arrivals):
            t = min(t, float(self._arrivals[self._next_arrival]))
        for st in self._stages:
            if st.queue:
                # the drop rule acts when the oldest request expires, so its drop is booked in that second
                t = min(t, min(r.arrival_s for r in st.queue) + self.drop_limit_s)
                if st.idle_ready():
                    t = min(t, batch_wake_s(st.queue[0].ready_s, self.max_batch_wait_s))
        return max(t, now)

    def _wait(self, timeout_s: float) -> None:
        objs: dict[Any, WorkerHandle] = {}
        for st in self._stages:
            for w in st.workers:
                objs[w.conn] = w
                objs[w.proc.sentinel] = w
        if not objs:
            if timeout_s > 0:
                import time

                time.sleep(timeout_s)
            return
        for obj in wait(list(objs), timeout=max(0.0, timeout_s)):
            w = objs[obj]
            if isinstance(obj, Connection):
                self._drain_conn(w)
            elif w.batch is not None or w in self._stages[w.stage].workers:
                self._drain_conn(w)  # messages sent just before exiting come first
                if w in self._stages[w.stage].workers:
                    self._worker_died(w)

    def _drain_conn(self, w: WorkerHandle) -> None:
        try:
            while w.conn.poll():
                self._on_message(w, w.conn.recv())
        except (EOFError, OSError):
            if w in self._stages[w.stage].workers:
                self._worker_died(w)

    def _on_message(self, w: WorkerHandle, msg: tuple[Any, ...]) -> None:
        kind = msg[0]
        now = self.clock.now_s()
        if kind == "ready":
            w.state, w.weights, w.ready_s = READY, msg[1], now
            self._stages[w.stage].reconcile(now)
        elif kind == "error":
            self.close()
            raise BackendError(f"replica of {w.variant.name} could not load its model: {msg[1]}")
        elif kind in ("done", "fail"):
            batch = w.batch or []
            w.batch = None
            self._inflight.pop(msg[1], None)
            if kind == "fail":
                for _ in batch:
                    self._ledger.fail(now)
                return
            outputs, cpu_s = msg[2], float(msg[3])
            self._served[w.stage].append(ServedBatch(now, w.variant.name, len(batch), w.variant.cores, now - w.sent_s,
                                                     cpu_s))
            w.cpu_s += cpu_s
            self._ledger.cpu(w.stage, cpu_s)
            # a random-init model's outputs are not scored: no accuracy is ever reported for them
            self._route(w.stage, batch, outputs, now, scored=w.weights != "random-init")

    def _route(self, stage: int, batch: list[Request], outputs: Any, now: float, *, scored: bool = True) -> None:
        last = stage == len(self._stages) - 1
        for r, out in zip(batch, outputs, strict=True):
            if not scored:
                r.label = None  # later stages cannot make a random-init stage's output meaningful
            if last:
                score = None if r.label is None else float(self._score(out, r.label))
                self._ledger.complete(now, now - r.arrival_s, score)
            else:
                r.payload, r.stage, r.ready_s = out, stage + 1, now
                self._stages[stage + 1].queue.append(r)

    def _worker_died(self, w: WorkerHandle) -> None:
        st = self._stages[w.stage]
        st.workers.remove(w)
        w.join(1.0)
        now = self.clock.now_s()
        self._replaced += 1
        if w.state == STARTING:
            self._start_failures += 1
            if self._start_failures > MAX_START_FAILURES:
                self.close()
                raise BackendError(
                    f"{self._start_failures} replicas of stage {st.name!r} exited before loading their model "
                    f"(last: {w.variant.name}, exit code {w.proc.exitcode}); not starting more"
                )
        batch = w.batch or []
        w.batch = None
        self._inflight.pop(w.batch_id, None)
        if self.on_worker_replaced is not None:
            self.on_worker_replaced(
                f"replica {w.variant.name} of stage {st.name!r} (pid {w.pid}) exited with code {w.proc.exitcode} "
                f"at t={now:.1f} s; replacing it ({len(batch)} request(s) of its batch retried or failed)"
            )
        for r in reversed(batch):
            r.attempts += 1
            if r.attempts < self.max_attempts:
                self._ledger.retried += 1
                r.ready_s = now
                st.queue.appendleft(r)
            else:
                self._ledger.fail(now)
        st.reconcile(now)  # starts a replacement

    def _close_seconds(self, now: float, force: bool = False) -> None:
        # every whole second up to ``now``, then (``force``) the partial one holding ``now``
        while now >= self._closed_seconds + 1 or (force and now >= self._closed_seconds):
            if now < self._closed_seconds + 1:
                force = False
            k = self._closed_seconds
            window_s = max(1e-9, now - self._last_reading_s)
            stage_cpu_s = self._ledger.take_stage_cpu_s()
            split = EnergySplit.none(len(self._stages))
            if self.meter is not None and self._scope_cpu is not None:
                reading = self.meter.read()
                m = self.meter.difference(self._last_reading, reading)
                scope_cpu_s = self._scope_cpu.busy_core_s()
                gpu_util = self._gpu_samples.take() if self._gpu_samples is not None else None
                pids = self.worker_pids()
                split = EnergySplit.of(m, self._stage_names, stage_cpu_s, scope_cpu_s - self._last_scope_cpu_s,
                                       gpu_util=gpu_util, stage_pids=[pids[n] for n in self._stage_names])
                self._last_reading, self._last_scope_cpu_s = reading, scope_cpu_s
            self._last_reading_s = now
            self._observe(split, metered=self.meter is not None and self._scope_cpu is not None)
            self._ledger.close_second(
                k, energy=split, window_s=window_s, stage_cpu_s=stage_cpu_s,
                cost_cores=sum(st.cost_cores() for st in self._stages), pas=self._pas(),
                queue_lengths=tuple(len(st.queue) for st in self._stages),
                config=self._serving_config(), stage_names=self._stage_names,
            )
            self._closed_seconds += 1

    def _observe(self, split: EnergySplit, *, metered: bool) -> None:
        """The batches answered in the closing second become observations (:func:`batch_observations`:
        a batch's energy is its stage's attributed energy of the second x its share of the CPU time)."""
        self._observed += batch_observations(split, self._stage_names, self._served, metered=metered)
        self._served = [[] for _ in self._stages]

    def _serving_config(self) -> PipelineConfig:
        out = []
        for st in self._stages:
            v = st.serving_variant() or ""
            replicas = sum(1 for w in st.workers if w.variant.name == v and w.state == READY)
            out.append(StageConfig(v, st.batch, replicas))
        return PipelineConfig(tuple(out))

    def _pas(self) -> float:
        accs = []
        for st in self._stages:
            v = st.serving_variant()
            accs.append(st.variants[v].accuracy if v in st.variants else 0.0)
        return pas(accs, self.accuracy_method)
