"""The meter of one Ray node: a small actor pinned to the node, running the project's meter there.

``auto`` picks RAPL (or perf) when the node has counters, else the labelled CPU-time estimate over the Ray
processes of the node (the raylet and everything it started: replicas, controller, this actor), plus NVML
where GPUs are present. Each :meth:`NodeMeter.read` closes one window: the meter's difference, the busy CPU
time of the meter's scope, and the CPU time every replica process on the node used (from
``/proc/<pid>/stat``), split by :meth:`~ipa_energy.backends.local.ledger.EnergySplit.of`: idle apart,
active CPU energy shared by the stages' replica CPU time, each GPU's energy by its replica processes' SM
utilisation (NVML's process samples since the last read), the rest (idle, Ray's own processes, other
processes in scope) unattributed. The driver sums the nodes' splits.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from ipa_energy.backends.local.ledger import EnergySplit, scope_cpu_time
from ipa_energy.energy.cputime import read_process_cpu_s
from ipa_energy.energy.nvml import GpuSamples
from ipa_energy.energy.scope import energy_scope


class NodeMeter:
    """Made a Ray actor by the backend (``ray.remote(num_cpus=0)(NodeMeter)``, pinned to its node)."""

    def __init__(self, meter: str, stage_names: Sequence[str]) -> None:
        from ipa_energy.energy import get_meter

        self.stage_names = tuple(stage_names)
        ray_pids = [os.getppid()]  # the raylet: every worker process of this node descends from it
        self.meter = get_meter(meter, pids=ray_pids) if meter in ("auto", "model") else get_meter(meter)
        self.scope_cpu = scope_cpu_time(self.meter, ray_pids)
        self._last = self.meter.read()
        self._last_scope_s = self.scope_cpu.busy_core_s()
        self._pid_s: dict[int, float] = {}
        #: NVML's per-process samples since the last read (GPU attribution)
        self._gpu = GpuSamples(self.meter)

    def scope(self) -> str:
        return energy_scope(self.meter)

    def selection(self) -> str | None:
        sel = getattr(self.meter, "selection", None)
        return sel.summary() if sel is not None else None

    def restart(self, stage_pids: Mapping[int, Sequence[int]]) -> None:
        """Start the next window now (the run's clock starts): the replicas' CPU time so far (their model
        loading before the run) is not counted. A replica first seen later counts from its start."""
        self._last = self.meter.read()
        self._last_scope_s = self.scope_cpu.busy_core_s()
        self._gpu.restart()
        for pids in stage_pids.values():
            for pid in pids:
                v = read_process_cpu_s(pid, children=False)
                if v is not None:
                    self._pid_s[pid] = v

    def read(self, stage_pids: Mapping[int, Sequence[int]]) -> tuple[EnergySplit, tuple[float, ...]]:
        """Close the window: ``stage_pids`` maps a stage index to the pids of its replicas on this node.
        Returns the window's split and each stage's replica CPU seconds in it."""
        reading = self.meter.read()
        m = self.meter.difference(self._last, reading)
        scope_s = self.scope_cpu.busy_core_s()
        cpu = [0.0] * len(self.stage_names)
        for stage, pids in stage_pids.items():
            for pid in pids:
                v = read_process_cpu_s(pid, children=False)
                if v is None:
                    continue  # exited: its last window's CPU time was counted before
                cpu[stage] += max(0.0, v - self._pid_s.get(pid, 0.0))
                self._pid_s[pid] = v
        gpu_util = self._gpu.take()
        pids_by_stage = [list(stage_pids.get(i, ())) for i in range(len(self.stage_names))]
        split = EnergySplit.of(m, self.stage_names, cpu, scope_s - self._last_scope_s, gpu_util=gpu_util,
                               stage_pids=pids_by_stage)
        self._last, self._last_scope_s = reading, scope_s
        return split, tuple(cpu)

    def close(self) -> None:
        self.meter.close()


def node_meter(meter: str, stage_names: Sequence[str], node_id: str) -> Any:
    """A :class:`NodeMeter` actor on node ``node_id`` (pinned: it measures that node only)."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    return ray.remote(num_cpus=0)(NodeMeter).options(
        scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=node_id, soft=False),
    ).remote(meter, list(stage_names))


def node_meters(meter: str, stage_names: Sequence[str]) -> dict[str, Any]:
    """One :class:`NodeMeter` actor per alive node (node id -> actor handle)."""
    import ray

    return {n["NodeID"]: node_meter(meter, stage_names, n["NodeID"]) for n in ray.nodes() if n.get("Alive")}


__all__ = ["NodeMeter", "node_meter", "node_meters"]
