"""RayBackend: the pipeline served by Ray Serve, the router and the accounting in the driver.

The driver (this process) is the router, as the local executor's parent is: it admits each arrival at its
(wall-clock) time, sends it to the first stage's application with a DeploymentHandle, naming in the
request the application of every later stage serving now (its route); the stages are composed replica
to replica (each replica sends its output on with a DeploymentHandle, :mod:`.app`), so a request crosses
each stage once, as in a bare two-deployment Serve app, not back through the driver. The answer holds one
hop per stage (batch, variant, model seconds) and every event is filed in the same
:class:`~ipa_energy.backends.local.ledger.Ledger`, so the per-second records and totals are those of every
backend (``sent = completed + dropped + failed + in_flight``). Requests carry their id and arrival time;
replicas apply the shared drop rule when they take a batch (and before they send a request on), and Ray's
``@serve.batch`` forms batches by the shared batching rule (full, or the oldest waited
``max_batch_wait_s``). The driver sees a request from its send to its answer only, so the per-second
``queue_lengths`` put every request in the pipeline at the first stage (the guard uses their sum).

Reconfiguration is data (:mod:`.serve_config`): ``apply`` computes the wanted applications and submits the
whole declarative config; Serve updates in place (``num_replicas``; ``user_config`` -> ``reconfigure()``).
A variant switch starts the new variant's application next to the old one; requests keep going to the old
variant until the new one has all its replicas ready (:func:`ipa_energy.rules.switch_landed`), then the
route switches and the old application is removed, its replicas draining their queues (graceful shutdown
of twice the drop limit); a later stage's old application stays deployed (and its replicas counted in
the cost) for the drop limit plus :data:`RETIRE_MARGIN_S` more, since requests sent before the switch may
still be routed to it (a request older than the drop limit is dropped before it is sent on). Which
surplus replica goes on a scale-down is Serve's choice (it drains too).
A request that fails on a replica that died or stopped under it (at any stage) is sent again from the
first stage once (counted in ``retried``), then counted failed.

Energy: one :class:`~.meter.NodeMeter` actor per node (a node that joins later gets one when a replica
of ours is first seen there), read once per closed second; each node's window is
split by the CPU time of the replica processes of each stage on that node (pids from Serve's replica
details), and the nodes' splits are summed.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ipa_energy.backends.base import Backend, PipelineConfig, RunSummary, SecondRecord, StageConfig, StopRequested
from ipa_energy.backends.local.clock import WallClock
from ipa_energy.backends.local.ledger import EnergySplit, Ledger, ServedBatch, batch_observations
from ipa_energy.backends.local.stage import LocalVariant
from ipa_energy.backends.ray.cluster import RayRuntime
from ipa_energy.backends.ray.serve_config import (
    DEPLOYMENT,
    VariantApp,
    app_name,
    application,
    deploy_config,
    stage_max_ongoing,
)
from ipa_energy.errors import BackendError, ConfigError
from ipa_energy.profiles.online import Observation
from ipa_energy.rules import pas, switch_landed

#: seconds between looks at Serve's state while a change is landing / when nothing is pending
RECONCILE_PENDING_S = 0.25
RECONCILE_STEADY_S = 2.0
#: seconds past the drop limit a later stage's old variant stays deployed after a switch
RETIRE_MARGIN_S = 1.0


class _Stage:
    def __init__(self, index: int, name: str, variants: Mapping[str, LocalVariant]) -> None:
        self.index = index
        self.name = name
        self.variants = dict(variants)
        self.target: StageConfig | None = None
        #: variant -> its wanted application (the target's, plus the serving one during a switch)
        self.apps: dict[str, VariantApp] = {}
        #: the variant requests are sent to (None until the first one is ready)
        self.route: str | None = None
        self.ready: dict[str, int] = {}
        self.existing: dict[str, int] = {}
        #: node id -> replica pids of this stage on that node (from Serve's replica details)
        self.pids: dict[str, list[int]] = {}
        #: variant -> (its application, pipeline time after which it goes): a later stage's old variant
        #: stays deployed for the drop limit after a switch, for the requests already routed to it
        self.retiring: dict[str, tuple[VariantApp, float]] = {}

    def deployed(self) -> dict[str, VariantApp]:
        """Every application of the stage in the Serve config: wanted and retiring."""
        return {**{v: a for v, (a, _) in self.retiring.items()}, **self.apps}

    def landed(self) -> bool:
        return self.target is not None and self.route == self.target.variant


class RayBackend(Backend):
    def __init__(
        self,
        stages: Sequence[tuple[str, Mapping[str, LocalVariant]]],
        arrival_times_s: NDArray[np.float64],
        inputs: Any,
        *,
        runtime: RayRuntime,
        meter: str,
        sla_s: float,
        drop_limit_s: float,
        accuracy_method: str = "product",
        max_batch_wait_s: float = 1.0,
        max_ongoing: int = 16,
        cpus_per_core: float = 0.0,
        prefix: str = "ipa",
        own_runtime: bool = True,
        max_attempts: int = 2,
        start_timeout_s: float = 300.0,
    ) -> None:
        if not stages:
            raise ConfigError("a pipeline needs at least one stage", field="stages")
        arr = np.asarray(arrival_times_s, dtype=np.float64)
        if arr.ndim != 1 or (len(arr) > 1 and np.any(np.diff(arr) < 0)):
            raise ConfigError("must be a sorted 1-D array of seconds", field="arrival_times_s")
        self.clock = WallClock()
        self.runtime = runtime
        #: stop the runtime on close (False: a runtime shared with others; only this run's apps go)
        self.own_runtime = own_runtime
        self.meter_name = meter
        self.sla_s = sla_s
        self.drop_limit_s = drop_limit_s
        self.accuracy_method = accuracy_method
        self.max_batch_wait_s = max_batch_wait_s
        self.max_ongoing = max_ongoing
        self.cpus_per_core = cpus_per_core
        self.prefix = prefix
        self.max_attempts = max_attempts
        self.start_timeout_s = start_timeout_s
        self._stages = [_Stage(i, n, vs) for i, (n, vs) in enumerate(stages)]
        self._names = tuple(s.name for s in self._stages)
        self._arrivals = arr
        self._next_arrival = 0
        self._extra_rid = len(arr)
        self._inputs = inputs
        self._ledger = Ledger(sla_s, len(self._stages))
        self._config: PipelineConfig | None = None
        self._loop = asyncio.new_event_loop()
        self._tasks: set[asyncio.Task[None]] = set()
        self._handles: dict[str, Any] = {}
        self._meters: dict[str, Any] = {}
        self._foreign: list[dict[str, Any]] = []
        self._proxy_location: str | None = "Disabled"
        self._epoch0_s = time.time()
        self._closed_seconds = 0
        self._last_reading_s = 0.0
        self._next_reconcile_s = 0.0
        self._admitting = True
        self._stop = False
        self._closed = False
        self._started = False
        #: every config submitted to Serve: (pipeline time s, config dict); a reconfiguration is data
        self.deploy_log: list[tuple[float, dict[str, Any]]] = []
        self.batches_seen: list[set[int]] = [set() for _ in self._stages]
        self.variants_answered: list[set[str]] = [set() for _ in self._stages]
        self.errors: list[str] = []
        #: per completed request (completion order, as the ledger's latencies): model seconds in its replicas
        self.request_compute_s: list[float] = []
        #: per stage: the batches answered since the last closed second; then the observations not yet taken
        self._served: list[list[ServedBatch]] = [[] for _ in self._stages]
        #: requests sent into the pipeline and not answered (the driver cannot see which stage holds them)
        self._in_pipeline = 0
        self._observed: list[Observation] = []
        self.energy_scope = "none (no meter)"
        #: meters started on nodes that held none of our replicas when the run started
        self.meters_started_late = 0
        self._meter_selection: str | None = None

    # ---- the run's life ----------------------------------------------------------------------
    def start(self, config: PipelineConfig) -> None:
        """Start (or join) Ray, deploy ``config`` and wait until it serves; then the clock starts."""
        if not self.runtime.started:
            self.runtime.start()
        client = self.runtime.client()
        if not self.runtime.owned:
            details = client.get_serve_details()
            self._proxy_location = details.get("proxy_location")
            self._foreign = [
                a["deployed_app_config"] for name, a in details.get("applications", {}).items()
                if a.get("deployed_app_config") and not name.startswith(self.prefix + "-")
            ]
        if self.meter_name != "none":
            import ray

            from ipa_energy.backends.ray.meter import node_meters

            self._meters = node_meters(self.meter_name, self._names)
            first = next(iter(self._meters.values()))
            scope, self._meter_selection = ray.get([first.scope.remote(), first.selection.remote()])
            self.energy_scope = f"Ray node(s) x{len(self._meters)}: {scope}"
        self.apply(config)
        end = time.monotonic() + self.start_timeout_s
        while not all(st.landed() for st in self._stages):
            if time.monotonic() > end:
                raise BackendError(f"the first configuration was not serving within {self.start_timeout_s:g} s")
            time.sleep(RECONCILE_PENDING_S)
            self._reconcile(0.0)
        self._reconcile(0.0)
        self.clock.restart()
        self._epoch0_s = time.time()
        if self._meters:
            import ray

            ray.get([m.restart.remote(self._pids_on(nid)) for nid, m in self._meters.items()])
        self._started = True

    def apply(self, config: PipelineConfig) -> None:
        if len(config.stages) != len(self._stages):
            raise ConfigError(f"config has {len(config.stages)} stages, the pipeline {len(self._stages)}",
                              field="config")
        if config == self._config or self._stop:
            return
        for st, sc in zip(self._stages, config.stages, strict=True):
            if sc.batch < 1 or sc.replicas < 1:
                raise ConfigError(f"batch and replicas must be >= 1 (got {sc})", field=f"config.{st.name}")
            v = st.variants.get(sc.variant)
            if v is None:
                raise ConfigError(f"stage {st.name!r} has no variant {sc.variant!r}; valid: {', '.join(st.variants)}",
                                  field="config.variant")
            st.target = sc
            st.retiring.pop(sc.variant, None)
            st.apps[sc.variant] = VariantApp(
                stage=st.name, variant=sc.variant, family=v.spec.family, cores=v.cores, replicas=sc.replicas,
                batch=sc.batch, max_batch_wait_s=self.max_batch_wait_s, drop_limit_s=self.drop_limit_s,
                cache_dir=v.spec.cache_dir, image_size=v.spec.image_size,
            )
            for other in [o for o in st.apps if o not in (sc.variant, st.route)]:
                del st.apps[other]  # starting, never served: cancelled
        self._config = config
        self._submit()
        self._next_reconcile_s = 0.0

    def run_until(self, t_s: float) -> None:
        if self._config is None or not self._started:
            raise BackendError("start the backend before run_until")
        self._loop.run_until_complete(self._serve_until(t_s))

    def request_stop(self) -> None:
        self._stop = True

    def run_closed_loop(self, t_s: float, concurrency: int, inputs: Any | None = None) -> None:
        """Serve a closed-loop client until pipeline time ``t_s``: ``concurrency`` senders, each sending its
        next request (arriving now) when its last one is answered; the trace's arrivals keep coming too.
        Accounted like every other request (tests and benchmarks drive reconfigurations under it)."""
        if self._config is None or not self._started:
            raise BackendError("start the backend before run_closed_loop")
        source = self._inputs if inputs is None else inputs

        async def sender() -> None:
            while self.clock.now_s() < t_s and not self._stop:
                rid = self._extra_rid = self._extra_rid + 1
                payload, label = source.get(rid)
                t_a = self.clock.now_s()
                self._ledger.arrival(t_a)
                await self._request(rid, t_a, payload, label)

        async def both() -> None:
            await asyncio.gather(self._serve_until(t_s), *(sender() for _ in range(concurrency)))

        self._loop.run_until_complete(both())

    def finish(self, drain_s: float) -> None:
        self._admitting = False
        if self._started:
            self._loop.run_until_complete(self._drain(drain_s))
        now = self.clock.now_s()
        self._close_seconds(now, force=True)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for t in list(self._tasks):
            t.cancel()
        if self._tasks:
            with contextlib.suppress(Exception):
                self._loop.run_until_complete(asyncio.gather(*self._tasks, return_exceptions=True))
        self._loop.close()
        if self.runtime.started and self._meters:
            import ray

            for m in self._meters.values():
                with contextlib.suppress(Exception):
                    ray.kill(m)
        self._meters = {}
        ours = [app_name(self.prefix, st.name, v) for st in self._stages for v in st.deployed()]
        if self.own_runtime:
            self.runtime.stop(ours)
        elif self.runtime.started:
            with contextlib.suppress(Exception):
                self.runtime.client().delete_apps(ours, blocking=True)

    # ---- monitoring --------------------------------------------------------------------------
    def arrivals_per_second(self) -> NDArray[np.float64]:
        return self._ledger.arrivals_per_second(self._closed_seconds)

    def seconds(self) -> list[SecondRecord]:
        return list(self._ledger.records)

    def summary(self) -> RunSummary:
        return self._ledger.summary(self.in_flight(), float(self._closed_seconds))

    def in_flight(self) -> int:
        return len(self._tasks)

    def energy_log(self) -> list[dict[str, Any]]:
        return list(self._ledger.energy_rows)

    def observations(self) -> list[Observation]:
        """Batches answered in the seconds closed since the last call, one each. Latency: the batch's wall
        time in its replica (stacking the inputs and the model call: Ray's routing and queueing are not
        in it, as the profiler's batch latency has no queueing); energy: the stage's attributed energy of
        the second shared by the batches' model seconds (the meter actors read CPU time per process, not
        per batch), None without a meter."""
        out, self._observed = self._observed, []
        return out

    def extras(self) -> dict[str, Any]:
        return {
            "accuracy": self._ledger.accuracy(), "retried": self._ledger.retried,
            "serve_deploys": len(self.deploy_log),
            "batches_seen": {st.name: sorted(self.batches_seen[st.index]) for st in self._stages},
            "variants_answered": {st.name: sorted(self.variants_answered[st.index]) for st in self._stages},
            "ray_address": self.runtime.address or "local instance",
            "energy_meter": self._meter_selection, "meters_started_late": self.meters_started_late,
            "errors": self.errors[:5],
        }

    # ---- Serve's state -----------------------------------------------------------------------
    def _submit(self) -> None:
        from ray.serve.schema import ServeDeploySchema

        apps = [
            application(self.prefix, a, cpus_per_core=self.cpus_per_core,
                        max_ongoing=stage_max_ongoing(self.max_ongoing, st.index, len(self._stages)),
                        graceful_shutdown_timeout_s=2.0 * self.drop_limit_s + 5.0)
            for st in self._stages for a in st.deployed().values()
        ]
        cfg = deploy_config([*apps, *self._foreign], proxy_location=self._proxy_location)
        try:
            self.runtime.client().deploy_apps(ServeDeploySchema.model_validate(cfg))
        except Exception as e:
            raise BackendError(f"Serve refused the config: {type(e).__name__}: {e}") from e
        self.deploy_log.append((self.clock.now_s() if self._started else 0.0, cfg))

    def _reconcile(self, now: float) -> None:
        """Read Serve's replicas; switch the route of a stage whose target has all replicas ready."""
        details = self.runtime.client().get_serve_details().get("applications", {})
        changed = False
        for st in self._stages:
            st.ready, st.existing, st.pids = {}, {}, {}
            for v in st.deployed():
                name = app_name(self.prefix, st.name, v)
                a = details.get(name, {})
                if str(_value(a.get("status"))) == "DEPLOY_FAILED":
                    raise BackendError(f"Serve could not deploy {name}: {a.get('message', '')}")
                reps = a.get("deployments", {}).get(DEPLOYMENT, {}).get("replicas", [])
                st.ready[v] = sum(1 for r in reps if str(_value(r.get("state"))) == "RUNNING")
                st.existing[v] = len(reps)
                for r in reps:
                    if r.get("pid") is not None:
                        st.pids.setdefault(str(r.get("node_id")), []).append(int(r["pid"]))
            for v in [v for v, (_, until) in st.retiring.items() if now >= until]:
                del st.retiring[v]
                changed = True
            t = st.target
            if t is None or st.route == t.variant:
                continue
            status = _value(details.get(app_name(self.prefix, st.name, t.variant), {}).get("status"))
            if switch_landed(st.ready.get(t.variant, 0), t.replicas) and str(status) == "RUNNING":
                old, st.route = st.route, t.variant
                for other in [o for o in st.apps if o != t.variant]:
                    app = st.apps.pop(other)
                    if other == old and st.index > 0:
                        st.retiring[other] = (app, now + self.drop_limit_s + RETIRE_MARGIN_S)
                    else:
                        changed = True  # the config loses an application: resubmit
        if changed:
            self._submit()
        self._meter_new_nodes()
        pending = any(not st.landed() for st in self._stages)
        retire_s = min((until for st in self._stages for _, until in st.retiring.values()), default=math.inf)
        self._next_reconcile_s = min(now + (RECONCILE_PENDING_S if pending else RECONCILE_STEADY_S), retire_s)

    def _meter_new_nodes(self) -> None:
        """Start a meter on every node that holds a replica of ours and has none (a node that joined the
        cluster after the run started): its energy counts from now, its replicas' CPU time too."""
        if self.meter_name == "none" or not self._started:
            return
        new = {nid for st in self._stages for nid in st.pids} - set(self._meters)
        if not new:
            return
        import ray

        from ipa_energy.backends.ray.meter import node_meter

        for nid in sorted(new):
            self._meters[nid] = node_meter(self.meter_name, self._names, nid)
        ray.get([self._meters[nid].restart.remote(self._pids_on(nid)) for nid in new], timeout=60)
        self.meters_started_late += len(new)
        self.energy_scope = re.sub(r"x\d+:", f"x{len(self._meters)}:", self.energy_scope, count=1)

    def _handle(self, name: str) -> Any:
        h = self._handles.get(name)
        if h is None:
            from ray import serve

            h = self._handles[name] = serve.get_deployment_handle(DEPLOYMENT, app_name=name)
        return h

    def _pids_on(self, node: str) -> dict[int, list[int]]:
        return {st.index: st.pids[node] for st in self._stages if node in st.pids}

    # ---- the event loop ----------------------------------------------------------------------
    async def _serve_until(self, t_s: float) -> None:
        while True:
            if self._stop:
                raise StopRequested
            now = self.clock.now_s()
            self._close_seconds(now)
            self._admit(now)
            if now >= self._next_reconcile_s:
                self._reconcile(now)
            if now >= t_s:
                return
            t = min(t_s, float(self._closed_seconds + 1), self._next_reconcile_s)
            if self._admitting and self._next_arrival < len(self._arrivals):
                t = min(t, float(self._arrivals[self._next_arrival]))
            await asyncio.sleep(max(0.0, t - self.clock.now_s()))

    async def _drain(self, timeout_s: float) -> None:
        end = self.clock.now_s() + timeout_s
        while self._tasks and self.clock.now_s() < end:
            self._close_seconds(self.clock.now_s())
            await asyncio.wait(set(self._tasks), timeout=min(0.2, max(0.0, end - self.clock.now_s())))

    def _admit(self, now: float) -> None:
        arr = self._arrivals
        while self._admitting and self._next_arrival < len(arr) and arr[self._next_arrival] <= now:
            i = self._next_arrival
            self._next_arrival += 1
            payload, label = self._inputs.get(i)
            t_a = float(arr[i])
            self._ledger.arrival(t_a)
            task = self._loop.create_task(self._request(i, t_a, payload, label))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _request(self, rid: int, t_a: float, payload: Any, label: int | None) -> None:
        self._in_pipeline += 1
        try:
            answer = await self._call({"rid": rid, "arrival_epoch_s": self._epoch0_s + t_a, "x": payload})
        finally:
            self._in_pipeline -= 1
        now = self.clock.now_s()
        if answer is None:
            self._ledger.fail(now)
            return
        hops = list(answer.get("hops", ()))
        compute_s = 0.0
        for st, hop in zip(self._stages, hops, strict=False):
            if int(hop.get("batch", 0)) > 0:
                self.batches_seen[st.index].add(int(hop["batch"]))
                self.variants_answered[st.index].add(str(hop["variant"]))
            if hop.get("dropped"):
                continue
            compute_s += float(hop.get("compute_s", 0.0))
            if hop.get("reports_batch"):
                v = st.variants.get(str(hop["variant"]))
                if v is not None:
                    self._served[st.index].append(ServedBatch(
                        now, v.name, int(hop["served"]), v.cores, float(hop["compute_s"]), float(hop["compute_s"])))
        if any(h.get("dropped") for h in hops):
            self._ledger.drop(now)
            return
        if len(hops) != len(self._stages):
            if len(self.errors) < 20:
                self.errors.append(f"request {rid}: {len(hops)} of {len(self._stages)} stages answered")
            self._ledger.fail(now)
            return
        y = answer["y"]
        correct = None if label is None else bool(int(y) == int(label))
        self._ledger.complete(now, now - t_a, correct)
        self.request_compute_s.append(compute_s)

    async def _call(self, request: dict[str, Any]) -> dict[str, Any] | None:
        """Send ``request`` into the pipeline along the route serving now; retry once where it failed."""
        for attempt in range(self.max_attempts):
            route = [st.route for st in self._stages]
            if any(v is None for v in route):
                break
            apps = [app_name(self.prefix, st.name, str(v)) for st, v in zip(self._stages, route, strict=True)]
            try:
                answer: dict[str, Any] = await self._handle(apps[0]).remote({**request, "route": apps[1:]})
                return answer
            except asyncio.CancelledError:
                raise
            except Exception as e:  # a replica that died or stopped under the request
                if len(self.errors) < 20:
                    self.errors.append(f"{'>'.join(apps)}: {type(e).__name__}: {str(e)[:200]}")
                if attempt + 1 < self.max_attempts:
                    self._ledger.retried += 1
        return None

    # ---- per-second records ------------------------------------------------------------------
    def _close_seconds(self, now: float, force: bool = False) -> None:
        n = len(self._stages)
        # every whole second up to ``now``, then (``force``) the partial one holding ``now``
        while now >= self._closed_seconds + 1 or (force and now >= self._closed_seconds):
            if now < self._closed_seconds + 1:
                force = False
            k = self._closed_seconds
            window_s = max(1e-9, now - self._last_reading_s)
            split, cpu = EnergySplit.none(n), (0.0,) * n
            if self._meters and self._started:
                import ray

                parts = ray.get([m.read.remote(self._pids_on(nid)) for nid, m in self._meters.items()], timeout=60)
                split = EnergySplit.total([p for p, _ in parts], n)
                cpu = tuple(math.fsum(c[i] for _, c in parts) for i in range(n))
            self._last_reading_s = now
            self._observed += batch_observations(split, self._names, self._served, metered=bool(self._meters))
            self._served = [[] for _ in self._stages]
            self._ledger.close_second(
                k, energy=split, window_s=window_s, stage_cpu_s=cpu,
                cost_cores=sum(n * st.variants[v].cores for st in self._stages for v, n in st.existing.items()),
                pas=self._pas(), queue_lengths=(self._in_pipeline, *([0] * (n - 1))),
                config=self._serving_config(), stage_names=self._names,
            )
            self._closed_seconds += 1

    def _serving_config(self) -> PipelineConfig:
        out = []
        for st in self._stages:
            v = st.route or ""
            app = st.apps.get(v)
            out.append(StageConfig(v, app.batch if app else 0, st.ready.get(v, 0)))
        return PipelineConfig(tuple(out))

    def _pas(self) -> float:
        return pas([st.variants[st.route].accuracy if st.route else 0.0 for st in self._stages], self.accuracy_method)


def _value(x: Any) -> Any:
    return getattr(x, "value", x)


__all__ = ["RayBackend"]
