"""Attribution: idle vs active energy, and active energy shared among stages (groups of processes).

The method (as Kepler does for CPU, by utilisation for GPUs):

* ``idle_j = idle_w * duration_s`` (capped at the measured energy); ``active_j`` is the rest. ``idle_w``
  comes from the power model (calibrated or table) or a measured idle baseline; a model meter's
  ``cpu-idle`` zone is used directly.
* A stage's CPU active energy = CPU active energy x (the stage's CPU seconds / the machine's busy CPU
  seconds). CPU time of processes outside every stage stays ``unattributed_j``.
* A stage's GPU energy = each GPU's energy x (the stage's share of that GPU's per-process SM
  utilisation samples, from NVML).

Usage in a serving backend::

    att = StageAttributor(meter, {"detector": [pid1, pid2], "classifier": [pid3]}, idle_w=model.idle_w)
    att.begin_window("interval-7")
    ...
    result = att.end_window("interval-7")   # result.measurement, result.by_stage_j, ...
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from ipa_energy.energy.base import EnergyMeter, Measurement
from ipa_energy.energy.cputime import CpuTimeSource, MachineCpuTime, read_process_cpu_s
from ipa_energy.errors import ConfigError


@dataclass(frozen=True)
class Attribution:
    """Energy of one window split into idle, per-stage active, and unattributed active energy."""

    measurement: Measurement
    idle_w: float
    idle_j: float
    active_j: float
    #: CPU active + GPU energy per stage
    by_stage_j: Mapping[str, float]
    cpu_by_stage_j: Mapping[str, float]
    gpu_by_stage_j: Mapping[str, float]
    unattributed_j: float
    cpu_s_by_stage: Mapping[str, float]
    machine_cpu_s: float
    method: str = "cpu-time share (CPU), SM-utilisation share (GPU)"
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        for name in ("by_stage_j", "cpu_by_stage_j", "gpu_by_stage_j", "cpu_s_by_stage"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))


def split_idle_active(energy_j: float, duration_s: float, idle_w: float) -> tuple[float, float]:
    """(idle_j, active_j): idle is ``idle_w * duration_s`` but never more than what was measured."""
    if idle_w < 0 or duration_s < 0:
        raise ConfigError("idle_w and duration_s must be >= 0", field="idle_w")
    idle = min(energy_j, idle_w * duration_s)
    return idle, energy_j - idle


def share_by_cpu_time(
    active_j: float, cpu_s_by_stage: Mapping[str, float], machine_cpu_s: float
) -> tuple[dict[str, float], float]:
    """Split ``active_j`` by CPU-time share; returns (per stage, unattributed)."""
    used = sum(cpu_s_by_stage.values())
    total = max(machine_cpu_s, used)
    if total <= 0:
        return {k: 0.0 for k in cpu_s_by_stage}, active_j
    out = {k: active_j * v / total for k, v in cpu_s_by_stage.items()}
    return out, active_j - sum(out.values())


def share_by_gpu_utilization(
    gpu_j: Mapping[str, float], util_by_gpu: Mapping[str, Mapping[int, float]], stage_of_pid: Mapping[int, str]
) -> tuple[dict[str, float], float]:
    """Split each GPU's energy by its processes' SM utilisation; returns (per stage, unattributed)."""
    out: dict[str, float] = {}
    rest = 0.0
    for gpu, e in gpu_j.items():
        util = util_by_gpu.get(gpu, {})
        total = sum(util.values())
        if total <= 0:
            rest += e
            continue
        for pid, u in util.items():
            stage = stage_of_pid.get(pid)
            if stage is None:
                rest += e * u / total
            else:
                out[stage] = out.get(stage, 0.0) + e * u / total
    return out, rest


class StageAttributor:
    """Wraps a meter: windows also snapshot each stage's CPU time, and ``end_window`` attributes."""

    def __init__(
        self,
        meter: EnergyMeter,
        stages: Mapping[str, Sequence[int]],
        *,
        idle_w: float | None = None,
        machine_cpu: CpuTimeSource | None = None,
        proc_root: str | Path = "/proc",
    ) -> None:
        self.meter = meter
        self.proc_root = Path(proc_root)
        self.idle_w = idle_w
        self._machine: CpuTimeSource = machine_cpu if machine_cpu is not None else MachineCpuTime(proc_root)
        self._stages: dict[str, tuple[int, ...]] = {}
        self.set_stages(stages)
        self._starts: dict[str, tuple[float, dict[int, float]]] = {}

    def set_stages(self, stages: Mapping[str, Sequence[int]]) -> None:
        """Replace the stage -> pids map (after a rescale); open windows keep their start snapshot."""
        self._stages = {k: tuple(v) for k, v in stages.items()}

    def _pid_cpu(self) -> dict[int, float]:
        out = {}
        for pids in self._stages.values():
            for pid in pids:
                v = read_process_cpu_s(pid, self.proc_root)
                if v is not None:
                    out[pid] = v
        return out

    def begin_window(self, key: str) -> None:
        self.meter.begin_window(key)
        self._starts[key] = (self._machine.busy_core_s(), self._pid_cpu())

    def end_window(self, key: str, *, gpu_util: Mapping[str, Mapping[int, float]] | None = None) -> Attribution:
        m = self.meter.end_window(key)
        machine0, pid0 = self._starts.pop(key)
        machine_s = max(0.0, self._machine.busy_core_s() - machine0)
        pid1 = self._pid_cpu()
        cpu_s = {
            stage: sum(max(0.0, pid1[p] - pid0.get(p, 0.0)) for p in pids if p in pid1)
            for stage, pids in self._stages.items()
        }
        return attribute(m, cpu_s, machine_s, idle_w=self.idle_w, gpu_util=gpu_util,
                         stage_of_pid={p: s for s, ps in self._stages.items() for p in ps})

    def cancel_window(self, key: str) -> None:
        self.meter.cancel_window(key)
        self._starts.pop(key, None)


def attribute(
    m: Measurement,
    cpu_s_by_stage: Mapping[str, float],
    machine_cpu_s: float,
    *,
    idle_w: float | None = None,
    gpu_util: Mapping[str, Mapping[int, float]] | None = None,
    stage_of_pid: Mapping[int, str] | None = None,
    gpu_zones: Sequence[str] | None = None,
) -> Attribution:
    """Attribute one measurement (see the module doc). GPU zones are those named ``gpu-*``."""
    notes: list[str] = []
    gz = set(gpu_zones) if gpu_zones is not None else {z for z in m.counted_zones if z.startswith("gpu")}
    gpu_j = {z: m.zones_j[z] for z in gz if z in m.zones_j}
    cpu_total = m.energy_j - sum(gpu_j.values())
    if "cpu-idle" in m.zones_j and "cpu-idle" in m.counted_zones:
        idle_j = m.zones_j["cpu-idle"]
        idle_used = idle_j / m.duration_s if m.duration_s > 0 else 0.0
    elif idle_w is not None:
        idle_used = idle_w
        idle_j, _ = split_idle_active(cpu_total, m.duration_s, idle_w)
    else:
        idle_used, idle_j = 0.0, 0.0
        notes.append("no idle power given: all CPU energy treated as active")
    cpu_active = cpu_total - idle_j
    cpu_by, cpu_rest = share_by_cpu_time(cpu_active, cpu_s_by_stage, machine_cpu_s)
    if gpu_j and gpu_util is not None:
        gpu_by, gpu_rest = share_by_gpu_utilization(gpu_j, gpu_util, stage_of_pid or {})
    else:
        gpu_by, gpu_rest = {}, sum(gpu_j.values())
        if gpu_j:
            notes.append("no GPU utilisation given: GPU energy unattributed")
    stages = set(cpu_by) | set(gpu_by)
    by = {s: cpu_by.get(s, 0.0) + gpu_by.get(s, 0.0) for s in stages}
    return Attribution(
        measurement=m,
        idle_w=idle_used,
        idle_j=idle_j,
        active_j=cpu_active + sum(gpu_j.values()),
        by_stage_j=by,
        cpu_by_stage_j=cpu_by,
        gpu_by_stage_j=gpu_by,
        unattributed_j=cpu_rest + gpu_rest,
        cpu_s_by_stage=cpu_s_by_stage,
        machine_cpu_s=machine_cpu_s,
        notes=tuple(notes),
    )
