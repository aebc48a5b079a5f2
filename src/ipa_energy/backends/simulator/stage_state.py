"""The mutable state of one stage inside the simulator: its variants' tables, replicas, queue and batch."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from ipa_energy.backends.simulator.batch_table import BatchTable, validate_profile
from ipa_energy.backends.simulator.fleet import Replica
from ipa_energy.backends.simulator.queue import StageQueue
from ipa_energy.optimize.problem import Stage


class StageState:
    """Mutable state of one stage (owned by one SimulatorBackend; not shared)."""

    __slots__ = (
        "accuracies", "batch", "cores", "dispatch", "free", "head", "index", "in_service", "name", "next",
        "queue", "replicas", "tables", "tail", "target_replicas", "target_variant", "variant_index",
        "variant_names", "version", "wake_at", "wake_gen",
    )

    def __init__(self, index: int, stage: Stage) -> None:
        self.index = index
        self.name = stage.name
        self.variant_names = tuple(v.name for v in stage.variants)
        self.variant_index = {name: j for j, name in enumerate(self.variant_names)}
        self.accuracies = tuple(float(v.accuracy) for v in stage.variants)
        self.cores = tuple(int(v.cores) for v in stage.variants)
        self.tables = tuple(
            BatchTable(validate_profile(v.profile, f"stages[{index}].variants[{j}].profile"))
            for j, v in enumerate(stage.variants)
        )
        self.replicas: list[Replica] = []  # existing: starting, ready, draining
        self.free: deque[Replica] = deque()  # ready, idle, not draining
        self.batch = 1
        self.target_variant = 0
        self.target_replicas = 1
        self.in_service = 0  # requests inside batches being served
        self.queue = StageQueue()  # used by stages after the first
        self.head = 0  # first stage: arrivals [0, head) have left its queue (served or dropped)
        self.tail = 0  # first stage: arrivals [0, tail) had arrived at the last dispatch
        self.next: StageState | None = None
        self.wake_at = -1.0
        self.wake_gen = 0
        self.version = 0  # bumped whenever the serving configuration may have changed
        #: serve the queue at time t with the free replicas (set by the backend)
        self.dispatch: Callable[[StageState, float], None]


__all__ = ["StageState"]
