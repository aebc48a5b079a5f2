"""One stage of the local executor: its central queue, its replica worker processes, its batching.

Replicas are worker processes (:mod:`.worker`) with ``torch.set_num_threads(cores)``. Reconfiguration
follows the shared rule :func:`ipa_energy.rules.replicas.plan_change` (make-before-break): new replicas
start and load their model while the old ones keep serving; an old replica retires only when the target
variant has all its replicas ready, and a retired replica finishes the batch it holds before it is told
to exit. Nothing queued or in flight is lost.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing as mp
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from typing import Any

from ipa_energy.backends.local.worker import worker_main
from ipa_energy.models.spec import ModelSpec
from ipa_energy.rules import plan_change

STARTING, READY, DRAINING = "starting", "ready", "draining"


@dataclass(frozen=True)
class LocalVariant:
    """What the executor needs to run a variant: how to build it, its cores and its accuracy."""

    name: str
    spec: ModelSpec
    cores: int
    accuracy: float


@dataclass(slots=True)
class Request:
    rid: int
    #: scheduled arrival time (pipeline s); latency and the drop limit count from here
    arrival_s: float
    payload: Any
    label: Any  # int class, a label image (segmentation) or None
    stage: int = 0
    #: when it entered its current stage's queue (the batch-fill wait counts from here)
    ready_s: float = 0.0
    attempts: int = 0


class WorkerHandle:
    _ids = itertools.count()

    def __init__(self, stage: int, variant: LocalVariant, ctx: BaseContext, now_s: float) -> None:
        self.wid = next(self._ids)
        self.stage = stage
        self.variant = variant
        parent, child = ctx.Pipe(duplex=True)
        self.conn: Connection = parent
        self.proc: BaseProcess = ctx.Process(  # type: ignore[attr-defined]
            target=worker_main, args=(child, variant.spec, variant.cores), daemon=True,
            name=f"ipa-worker-{stage}-{variant.name}-{self.wid}",
        )
        self.proc.start()
        child.close()
        self.state = STARTING
        self.started_s = now_s
        self.ready_s: float | None = None
        self.weights = ""
        self.batch: list[Request] | None = None
        self.batch_id = -1
        self.sent_s = 0.0
        self.cpu_s = 0.0

    @property
    def pid(self) -> int | None:
        return self.proc.pid

    @property
    def idle(self) -> bool:
        return self.batch is None

    def send_batch(self, batch_id: int, batch: list[Request], inputs: Any, now_s: float) -> None:
        self.batch, self.batch_id, self.sent_s = batch, batch_id, now_s
        self.conn.send((batch_id, inputs))

    def stop(self) -> None:
        """Ask the worker to exit (after its current batch, which the parent still collects)."""
        with contextlib.suppress(OSError, ValueError):
            self.conn.send(None)

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()

    def join(self, timeout_s: float) -> None:
        self.proc.join(timeout_s)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(1.0)
        self.conn.close()


class StageRuntime:
    def __init__(self, index: int, name: str, variants: dict[str, LocalVariant], ctx: BaseContext) -> None:
        self.index = index
        self.name = name
        self.variants = variants
        self.ctx = ctx
        self.queue: deque[Request] = deque()
        self.workers: list[WorkerHandle] = []
        self.target_variant: str | None = None
        self.target_replicas = 0
        self.batch = 1
        self.retired: list[WorkerHandle] = []

    def configure(self, variant: str, batch: int, replicas: int) -> None:
        if variant not in self.variants:
            from ipa_energy.errors import ConfigError

            raise ConfigError(
                f"stage {self.name!r} has no local variant {variant!r}; valid: {', '.join(self.variants)}",
                field="config.variant",
            )
        self.target_variant, self.batch, self.target_replicas = variant, batch, replicas

    def reconcile(self, now_s: float) -> list[WorkerHandle]:
        """Start and retire replicas towards the target (the shared rule); returns the workers retired now."""
        if self.target_variant is None:
            return []
        views = [_ReplicaView(w) for w in self.workers]
        plan = plan_change(views, self.target_variant, self.target_replicas, now_s)
        for v in (*plan.cancel, *plan.retire):
            v.handle.state = DRAINING
        for _ in plan.start_ready_at_s:
            self.workers.append(WorkerHandle(self.index, self.variants[self.target_variant], self.ctx, now_s))
        out = []
        for w in [w for w in self.workers if w.state == DRAINING and w.idle]:
            w.stop()
            self.workers.remove(w)
            self.retired.append(w)
            out.append(w)
        return out

    def idle_ready(self) -> list[WorkerHandle]:
        return [w for w in self.workers if w.state == READY and w.idle]

    def serving_variant(self) -> str | None:
        ready = {w.variant.name for w in self.workers if w.state == READY}
        if self.target_variant in ready or not ready:
            return self.target_variant
        return sorted(ready)[0]

    def cost_cores(self) -> int:
        return sum(w.variant.cores for w in self.workers)

    def in_flight(self) -> int:
        return len(self.queue) + sum(len(w.batch) for w in self.workers if w.batch is not None)


@dataclass(frozen=True)
class _ReplicaView:
    """A worker as the shared replica rule sees it (:class:`ipa_energy.rules.replicas.ReplicaView`)."""

    handle: WorkerHandle

    @property
    def rid(self) -> int:
        return self.handle.wid

    @property
    def variant(self) -> str:
        return self.handle.variant.name

    @property
    def ready(self) -> bool:
        return self.handle.state == READY

    @property
    def busy(self) -> bool:
        return not self.handle.idle

    @property
    def draining(self) -> bool:
        return self.handle.state == DRAINING

    @property
    def gone(self) -> bool:
        return False  # a gone worker is no longer in the stage's list

    @property
    def ready_at_s(self) -> float:
        return self.handle.started_s


def default_context() -> BaseContext:
    """``forkserver`` with torch preloaded: a replica starts in a fraction of a second (a fork of a clean,
    single-threaded server that imported torch once), never a forked copy of the threaded parent.
    ``spawn`` where forkserver is missing."""
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["torch", "ipa_energy.backends.local.worker", "ipa_energy.models.digits"])
    return ctx
