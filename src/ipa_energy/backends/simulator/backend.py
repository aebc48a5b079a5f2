"""The discrete-event simulator backend: IPA's serving system (per-stage central queue, adaptive batching,
replicas with start-up delays, drop limit) driven in simulated time, with a profile-based energy model.

Events are per *batch*, not per request: a batch completion, a replica becoming ready, and a stage waking
up when its batch-fill wait ends or its batch fills. Requests are indices into the sorted arrival times;
the first stage's queue is a window of that array, later stages keep a small id buffer (queue.py), and
per-request latencies are computed with numpy once per second. See ``docs/simulator.md`` for every rule.
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from heapq import heappop, heappush
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from ipa_energy.backends.base import Backend, BatchRecord, PipelineConfig, RunSummary, SecondRecord, StageConfig
from ipa_energy.backends.simulator.checks import check_arrivals, check_config, check_stages
from ipa_energy.backends.simulator.clock import SimClock
from ipa_energy.backends.simulator.fleet import Replica
from ipa_energy.backends.simulator.ledger import SecondLedger, spread
from ipa_energy.backends.simulator.params import SimParams
from ipa_energy.backends.simulator.stage_state import StageState
from ipa_energy.errors import BackendError, ConfigError, UnknownNameError
from ipa_energy.optimize.problem import Stage
from ipa_energy.profiles.online import Observation
from ipa_energy.rules import batch_to_take, batch_wake_s, drop_before_s, pas, plan_change

_DONE, _READY, _WAKE = 0, 1, 2
#: the simulator's energy is never a measurement: every record says so
ENERGY_SOURCE = "model (estimated from the profile's power model)"
_NOISE_BLOCK = 8192


class SimulatorBackend(Backend):
    """A pipeline served in simulated time. Implements :class:`ipa_energy.backends.base.Backend`.

    ``stages`` give each variant's accuracy, cores per replica and profile (batch -> latency_s,
    energy_j); ``arrival_times_s`` are the sorted request arrival times of the whole run (seconds since
    the start). ``initial`` is deployed ready at t = 0; without it, configurations applied before the
    first ``run_until`` are the initial deployment (ready at t = 0, as IPA deployed the pipeline before
    starting the load), and every later ``apply`` pays its start-up delays. ``clock`` is the simulated
    clock the adapter reads. With ``record_observations`` every completed batch is kept for
    :meth:`observations` (the run path drains them each interval).
    """

    energy_scope = "allocated cores of the pipeline (modelled: idle of held cores + profiled batch energy)"

    def __init__(
        self,
        stages: Sequence[Stage],
        arrival_times_s: NDArray[np.float64],
        *,
        sla_s: float,
        accuracy_method: Literal["sum", "product"],
        params: SimParams = SimParams(),
        initial: PipelineConfig | None = None,
        record_batches: bool = False,
        record_observations: bool = False,
    ) -> None:
        if not isinstance(params, SimParams):
            raise ConfigError(f"must be a SimParams (got {type(params).__name__})", field="params")
        if not stages:
            raise ConfigError("needs at least one stage", field="stages")
        check_stages(stages)
        if not (isinstance(sla_s, int | float) and math.isfinite(sla_s) and sla_s > 0):
            raise ConfigError(f"must be > 0 (got {sla_s!r})", field="sla_s")
        if accuracy_method not in ("sum", "product"):
            raise UnknownNameError("accuracy method", str(accuracy_method), ("sum", "product"),
                                   field="accuracy_method")
        arr = check_arrivals(arrival_times_s)
        self.params = params
        self.sla_s = float(sla_s)
        self.accuracy_method = accuracy_method
        self.clock = SimClock()
        self._stages = [StageState(i, s) for i, s in enumerate(stages)]
        for a, b in itertools.pairwise(self._stages):
            a.next = b
        for st in self._stages:
            st.dispatch = self._dispatch_first_stage if st.index == 0 else self._dispatch_later_stage
        self._arr = arr
        self._arr_list: list[float] = arr.tolist()
        self._n = int(arr.size)
        self._ids = np.arange(self._n, dtype=np.int64)
        self._arrivals_per_s = np.bincount(arr.astype(np.int64)) if self._n else np.zeros(0, np.int64)
        self._heap: list[tuple[Any, ...]] = []
        self._seq = itertools.count()
        self._ledger = SecondLedger(len(self._stages))
        self._dyn = self._ledger.dynamic_j  # per stage; the same lists, grown in place
        self._records: list[SecondRecord] = []
        self._next_boundary = 1
        self._now = 0.0
        self._started = False
        self._closed = False
        self._applied: PipelineConfig | None = None
        self._rid = itertools.count()
        # completions of the last stage not yet folded into a per-second record
        self._done_t: list[float] = []
        self._done_ids: list[NDArray[np.int64]] = []
        self._done_k: list[int] = []
        self._lat_chunks: list[NDArray[np.float64]] = []
        self._n_completed = 0
        self._n_dropped = 0
        self._n_late = 0
        self._energy_j = 0.0  # of the whole seconds recorded
        self._serving_key: tuple[int, ...] = ()
        self._serving: tuple[PipelineConfig, float] | None = None
        self._wait_s = params.max_batch_wait_s
        self._drop_s = params.drop_limit_s
        self._noisy = params.latency_noise_cv > 0
        self._rng = np.random.default_rng(params.seed)
        self._noise: list[float] = []
        self._noise_i = 0
        self._batches: list[BatchRecord] | None = [] if record_batches else None
        # completed batches since the last observations() call: (t, stage, variant, k, latency_s, energy_j)
        self._obs: list[tuple[float, int, int, int, float, float]] | None = [] if record_observations else None
        if initial is not None:
            self.apply(initial)

    # ------------------------------------------------------------------ Backend interface
    def apply(self, config: PipelineConfig) -> None:
        """Reconfigure at the current simulated time (rules and delays: :mod:`ipa_energy.rules.replicas`)."""
        self._check_open()
        self._check_config(config)
        now = self._now
        changed = config.diff(self._applied) if self._started else tuple(range(len(self._stages)))
        for i in changed:
            st, sc = self._stages[i], config.stages[i]
            v = st.variant_index[sc.variant]
            for t in st.tables:
                t.ensure(sc.batch)
            st.batch = sc.batch
            st.target_variant = v
            st.target_replicas = sc.replicas
            if not self._started:  # the initial deployment: ready at t = 0
                for r in list(st.replicas):
                    self._remove(st, r, now)
                for _ in range(sc.replicas):
                    self._create(st, v, now, ready=True)
            else:
                self._replan(st, now)
            st.version += 1
            self._schedule_wake(st, now)
        self._applied = config

    def run_until(self, t_s: float) -> None:
        """Process every event up to and including ``t_s``; whole seconds up to ``t_s`` get their records.

        Events at exactly ``t_s`` (an arrival, a replica becoming ready) happen before a following
        ``apply``: a switch that lands at the next decision time is seen as landed by that decision.
        """
        self._check_open()
        if not math.isfinite(t_s) or t_s < self._now:
            raise BackendError(f"run_until({t_s}) is before the simulated time {self._now}")
        if self._applied is None:
            raise BackendError("no configuration to serve: pass initial= or call apply() before run_until()")
        self._started = True
        heap = self._heap
        boundary = self._next_boundary
        done_t, done_ids, done_k = self._done_t, self._done_ids, self._done_k
        obs = self._obs
        while heap and heap[0][0] <= t_s:
            ev = heappop(heap)
            te = ev[0]
            if te >= boundary:
                self._close_seconds(te)
                boundary = self._next_boundary
                done_t, done_ids, done_k = self._done_t, self._done_ids, self._done_k
            kind = ev[2]
            if kind == _DONE:  # inlined _on_done: the most frequent event
                _, _, _, st, rep, ids, k, lb = ev
                rep.busy = False
                st.in_service -= k
                if obs is not None:
                    obs.append((te, st.index, rep.variant, k, te - rep.batch_start_s, rep.batch_energy_j))
                nxt = st.next
                if nxt is None:
                    done_t.append(te)
                    done_ids.append(ids)
                    done_k.append(k)
                    self._n_completed += k
                else:
                    nxt.queue.push(ids, k, te, lb)
                if rep.draining:
                    self._remove(st, rep, te)
                else:
                    st.free.append(rep)
                    st.dispatch(st, te)
                if nxt is not None and nxt.free:
                    nxt.dispatch(nxt, te)
            elif kind == _WAKE:
                st = ev[3]
                if ev[4] == st.wake_gen:
                    st.wake_at = -1.0
                    st.dispatch(st, te)
            else:
                self._on_ready(te, ev[3], ev[4])
        self._now = t_s
        self._close_seconds(t_s)
        self._ledger.flush_cores(t_s)
        self.clock._advance(t_s)

    def arrivals_per_second(self) -> NDArray[np.float64]:
        n = int(self._now)
        out = np.zeros(n, dtype=np.float64)
        m = min(n, self._arrivals_per_s.size)
        out[:m] = self._arrivals_per_s[:m]
        return out

    def seconds(self) -> list[SecondRecord]:
        return list(self._records)

    def batch_log(self) -> list[BatchRecord]:
        return list(self._batches or ())

    def observations(self) -> list[Observation]:
        """Batches completed since the last call (empty unless built with ``record_observations``).
        Latency is the batch's service time, comparable with a profile row's ``latency_s``; energy its
        dynamic energy, labelled with the simulator's (estimated) source."""
        raw, self._obs = self._obs, ([] if self._obs is not None else None)
        if not raw:
            return []
        out = []
        for t, i, v, k, lat, en in raw:
            st = self._stages[i]
            out.append(Observation(st.name, st.variant_names[v], k, st.cores[v], lat, en, ENERGY_SOURCE,
                                   "latency_s", t))
        return out

    def summary(self) -> RunSummary:
        now = self._now
        sent = bisect_right(self._arr_list, now)  # arrivals at exactly now have happened
        in_flight = self._in_flight()
        pending = self._pending_latencies()
        chunks = [*self._lat_chunks, pending] if pending.size else self._lat_chunks
        lat = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float64)
        return RunSummary(
            sent=sent,
            completed=self._n_completed,
            dropped=self._n_dropped,
            failed=0,
            in_flight=in_flight,
            late=self._n_late + int(np.count_nonzero(pending > self.sla_s)),
            energy_j=self._energy_j + self._partial_second_energy_j(),
            duration_s=now,
            latencies_s=lat,
        )

    def change_delays_s(self) -> tuple[float, float]:
        """The simulator's stated delays (:class:`SimParams` ``replica_startup_s``, ``variant_switch_s``)."""
        return self.params.replica_startup_s, self.params.variant_switch_s

    def finish(self, drain_s: float) -> None:
        """Serve what is in the pipeline (no arrivals come after the trace) for up to ``drain_s``, then
        end on a whole second so every second of the run has its record."""
        end = self._now + drain_s
        while self._now < end and self._in_flight() > 0:
            self.run_until(min(end, math.floor(self._now) + 1.0))
        self.run_until(float(math.ceil(self._now)))

    def _in_flight(self) -> int:
        sent = bisect_right(self._arr_list, self._now)
        n = (sent - self._stages[0].head) + sum(st.in_service for st in self._stages)
        return n + sum(len(st.queue) for st in self._stages[1:])

    def close(self) -> None:
        self._closed = True

    # ------------------------------------------------------------------ events
    def _replan(self, st: StageState, now: float) -> None:
        """Move the stage towards its target by the shared rule (idempotent; make-before-break)."""
        p = self.params
        plan = plan_change(st.replicas, st.target_variant, st.target_replicas, now,
                           replica_startup_s=p.replica_startup_s, variant_switch_s=p.variant_switch_s)
        for r in plan.cancel:
            self._remove(st, r, now)
        for r in plan.retire:
            self._retire(st, r, now)
        for at in plan.start_ready_at_s:
            self._create(st, st.target_variant, at, ready=False)

    def _on_ready(self, te: float, st: StageState, rep: Replica) -> None:
        if rep.gone:
            return
        rep.ready = True
        st.free.append(rep)
        self._replan(st, te)  # the switch lands once the target has all its replicas ready
        st.version += 1
        st.dispatch(st, te)

    def _dispatch_first_stage(self, st: StageState, now: float) -> None:
        """Serve the first stage's queue (a window of the arrival times) with its free replicas."""
        free = st.free
        if not free:
            return
        arr = self._arr_list
        n = self._n
        tail = bisect_right(arr, now, st.tail)
        st.tail = tail
        head = st.head
        limit = drop_before_s(now, self._drop_s)
        if head < tail and arr[head] < limit:
            new_head = bisect_left(arr, limit, head, tail)
            self._drop(now, new_head - head)
            head = new_head
        wait = self._wait_s
        ids = self._ids
        while free:
            q = tail - head
            b = st.batch
            k = batch_to_take(q, b, now, arr[head], wait) if q else 0
            if not k:
                if head < n:  # wake when the batch fills or the oldest has waited long enough
                    j = head + b - 1
                    w = batch_wake_s(arr[head], wait, arr[j] if j < n else None)
                    if st.wake_at != w:
                        self._schedule_wake(st, w)
                break
            self._start(st, free.popleft(), now, ids[head : head + k], k, arr[head])
            head += k
        st.head = head

    def _dispatch_later_stage(self, st: StageState, now: float) -> None:
        free = st.free
        q = st.queue
        if not free or q.tail == q.head:
            return
        limit = drop_before_s(now, self._drop_s)
        if q.min_arrival_lb_s < limit:
            self._drop(now, q.expire(self._arr, limit))
        while free:
            n = q.tail - q.head
            if n == 0:
                break
            oldest = float(q.ready_s[q.head])
            k = batch_to_take(n, st.batch, now, oldest, self._wait_s)
            if not k:
                w = batch_wake_s(oldest, self._wait_s)
                if st.wake_at != w:
                    self._schedule_wake(st, w)
                break
            lb = q.min_arrival_lb_s
            self._start(st, free.popleft(), now, q.take(k), k, lb)

    def _start(
        self, st: StageState, rep: Replica, now: float, ids: NDArray[np.int64], k: int, lb: float
    ) -> None:
        """``rep`` serves the batch ``ids`` (``k`` requests) from ``now``; its energy is booked now."""
        tab = rep.table
        lat = tab.latency_s[k]
        en = tab.energy_j[k]
        if self._noisy:
            f = self._noise_factor()
            lat *= f
            en *= f
        end = now + lat
        if en:
            dyn = self._dyn[st.index]
            i0 = int(now)
            if end <= i0 + 1 and i0 < len(dyn):
                dyn[i0] += en
            else:
                spread(dyn, now, end, en)
        if self._batches is not None:
            self._batches.append(BatchRecord(st.index, st.variant_names[rep.variant], now, tuple(ids.tolist())))
        rep.busy = True
        rep.batch_start_s = now
        rep.batch_end_s = end
        rep.batch_energy_j = en
        st.in_service += k
        heappush(self._heap, (end, next(self._seq), _DONE, st, rep, ids, k, lb))

    def _noise_factor(self) -> float:
        i = self._noise_i
        if i >= len(self._noise):
            cv = self.params.latency_noise_cv
            sigma = math.sqrt(math.log1p(cv * cv))
            self._noise = self._rng.lognormal(-sigma * sigma / 2, sigma, _NOISE_BLOCK).tolist()
            i = 0
        self._noise_i = i + 1
        return self._noise[i]

    def _schedule_wake(self, st: StageState, t: float) -> None:
        st.wake_gen += 1
        st.wake_at = t
        heappush(self._heap, (t, next(self._seq), _WAKE, st, st.wake_gen, None, 0, 0.0))

    def _drop(self, t: float, count: int) -> None:
        if count:
            self._n_dropped += count
            self._ledger.add_dropped(t, count)

    # ------------------------------------------------------------------ replicas
    def _create(self, st: StageState, variant: int, ready_at_s: float, *, ready: bool) -> None:
        rep = Replica(next(self._rid), variant, st.cores[variant], st.tables[variant], ready_at_s)
        st.replicas.append(rep)
        self._ledger.change_cores(self._now, rep.cores, st.index)
        if ready:
            rep.ready = True
            st.free.append(rep)
        else:
            heappush(self._heap, (ready_at_s, next(self._seq), _READY, st, rep, None, 0, 0.0))

    def _retire(self, st: StageState, rep: Replica, t: float) -> None:
        """Stop giving ``rep`` work; it goes now if idle, after its batch (draining) if busy."""
        if rep.busy:
            rep.draining = True
            st.version += 1
        else:
            self._remove(st, rep, t)

    def _remove(self, st: StageState, rep: Replica, t: float) -> None:
        rep.gone = True
        st.replicas.remove(rep)
        if rep in st.free:
            st.free.remove(rep)
        self._ledger.change_cores(t, -rep.cores, st.index)
        st.version += 1

    # ------------------------------------------------------------------ per-second records
    def _close_seconds(self, t: float) -> None:
        while self._next_boundary <= t:
            self._close_second(self._next_boundary)
            self._next_boundary += 1

    def _close_second(self, boundary: int) -> None:
        """Record second ``boundary - 1``; every event before ``boundary`` has been processed."""
        sec = boundary - 1
        led = self._ledger
        led.flush_cores(boundary)
        limit = drop_before_s(boundary, self._drop_s)
        queue_lengths = []
        first = self._stages[0]
        arr = self._arr_list
        tail = bisect_left(arr, boundary, first.head)
        if first.head < tail and arr[first.head] < limit:  # expired while waiting: dropped now
            new_head = bisect_left(arr, limit, first.head, tail)
            self._drop(sec, new_head - first.head)
            first.head = new_head
        queue_lengths.append(tail - first.head)
        for st in self._stages[1:]:
            q = st.queue
            if q.tail > q.head and q.min_arrival_lb_s < limit:
                self._drop(sec, q.expire(self._arr, limit))
            queue_lengths.append(len(q))
        lat = self._pending_latencies()
        self._done_t, self._done_ids, self._done_k = [], [], []
        completed = int(lat.size)
        p50: float | None = None
        p99: float | None = None
        late = 0
        if completed:
            self._lat_chunks.append(lat)
            late = int(np.count_nonzero(lat > self.sla_s))
            self._n_late += late
            q50, q99 = np.percentile(lat, [50.0, 99.0])
            p50, p99 = float(q50), float(q99)
        config, pas = self._serving_config()
        p = self.params
        dynamic = [led.at(d, sec) for d in led.dynamic_j]
        idle = [p.idle_power_w_per_core * led.at(c, sec) for c in led.core_s]
        stage_j = tuple(i + d for i, d in zip(idle, dynamic, strict=True))
        energy_j = math.fsum(stage_j) + p.node_base_power_w
        self._energy_j += energy_j
        self._records.append(
            SecondRecord(
                t_s=sec,
                arrivals=int(self._arrivals_per_s[sec]) if sec < self._arrivals_per_s.size else 0,
                completed=completed,
                dropped=int(led.at(led.dropped, sec)),
                failed=0,
                late=late,
                latency_p50_s=p50,
                latency_p99_s=p99,
                cost_cores=led.cores,
                pas=pas,
                power_w=energy_j,  # joules over one second
                energy_j=energy_j,
                energy_source=ENERGY_SOURCE,
                queue_lengths=tuple(queue_lengths),
                config=config,
                idle_energy_j=energy_j - math.fsum(dynamic),
                dynamic_energy_j=math.fsum(dynamic),
                stage_energy_j=stage_j,
                unattributed_energy_j=p.node_base_power_w,
            )
        )

    def _pending_latencies(self) -> NDArray[np.float64]:
        if not self._done_k:
            return np.zeros(0, dtype=np.float64)
        ids = np.concatenate(self._done_ids)
        done = np.repeat(np.asarray(self._done_t, dtype=np.float64), self._done_k)
        out: NDArray[np.float64] = done - self._arr[ids]
        return out

    def _serving_config(self) -> tuple[PipelineConfig, float]:
        """The configuration serving now: per stage the variant of its ready, non-draining replicas."""
        key = tuple(st.version for st in self._stages)
        if self._serving is not None and key == self._serving_key:
            return self._serving
        stages = []
        accs = []
        for st in self._stages:
            serving = [r for r in st.replicas if r.ready and not r.draining]
            v = serving[0].variant if serving else st.target_variant
            stages.append(StageConfig(st.variant_names[v], st.batch, len(serving)))
            accs.append(st.accuracies[v] if serving else 0.0)
        score = pas(accs, self.accuracy_method)
        self._serving_key = key
        self._serving = (PipelineConfig(tuple(stages)), score)
        return self._serving

    def _partial_second_energy_j(self) -> float:
        """Energy of ``[floor(now), now)``: idle and base pro rata, dynamic without batches' future part."""
        now = self._now
        sec = int(now)
        frac = now - sec
        if frac <= 0:
            return 0.0
        led = self._ledger
        p = self.params
        dyn = math.fsum(led.at(d, sec) for d in led.dynamic_j)
        end_of_sec = sec + 1.0
        for st in self._stages:
            for r in st.replicas:
                if r.busy and r.batch_end_s > now:
                    later = min(r.batch_end_s, end_of_sec) - now
                    dyn -= r.batch_energy_j * later / (r.batch_end_s - r.batch_start_s)
        core_s = math.fsum(led.at(c, sec) for c in led.core_s)
        return dyn + p.idle_power_w_per_core * core_s + p.node_base_power_w * frac

    # ------------------------------------------------------------------ validation
    def _check_open(self) -> None:
        if self._closed:
            raise BackendError("the simulator backend is closed")

    def _check_config(self, config: PipelineConfig) -> None:
        check_config(config, [(st.name, st.variant_names) for st in self._stages])


__all__ = ["SimParams", "SimulatorBackend"]
