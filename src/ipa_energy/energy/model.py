"""ModelMeter: an estimate from CPU time and a power model, for machines with no energy counter.

    energy = idle_w * elapsed_s + active_w_per_core * busy_core_s

Machine mode (no pids): busy time of the whole machine; zones ``cpu-idle`` and ``cpu-active``, both
counted, so the total estimates the machine's CPU energy.

Process mode (``pids``): busy time of those processes (and their descendants); the total is their
active energy only (``cpu-active``); the machine's idle energy is still reported as ``cpu-idle`` but not
added, since it is not caused by those processes.

Every result is labelled ``quality="estimated"`` with the power model's label as ``model``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ipa_energy.energy.base import ESTIMATED, Clock, EnergyMeter, Zone
from ipa_energy.energy.cputime import CpuTimeSource, MachineCpuTime, ProcessCpuTime
from ipa_energy.energy.power_models import PowerModel, resolve_power_model


class ModelMeter(EnergyMeter):
    source = "model"
    quality = ESTIMATED

    def __init__(
        self,
        power_model: PowerModel | str | Path | None = None,
        *,
        idle_w: float | None = None,
        active_w_per_core: float | None = None,
        pids: Iterable[int] | None = None,
        cpu_time: CpuTimeSource | None = None,
        proc_root: str | Path = "/proc",
        clock: Clock | None = None,
    ) -> None:
        super().__init__(clock=clock)
        self.power_model = resolve_power_model(
            power_model, idle_w=idle_w, active_w_per_core=active_w_per_core, proc_root=proc_root
        )
        pid_list = tuple(pids) if pids is not None else ()
        self.process_mode = bool(pid_list)
        if cpu_time is not None:
            self._cpu: CpuTimeSource = cpu_time
        elif pid_list:
            self._cpu = ProcessCpuTime(pid_list, proc_root)
        else:
            self._cpu = MachineCpuTime(proc_root)
        self._zones = (
            Zone("cpu-idle", "cpu", counted=not self.process_mode),
            Zone("cpu-active", "cpu", counted=True),
        )
        self._t0 = self._clock.now_s()
        self._busy0 = self._cpu.busy_core_s()

    @property
    def model(self) -> str:
        return self.power_model.label

    def zones(self) -> tuple[Zone, ...]:
        return self._zones

    def close(self) -> None:
        closer = getattr(self._cpu, "close", None)
        if callable(closer):
            closer()
        super().close()

    def _read_energy_j(self, t_s: float) -> dict[str, float]:
        elapsed = t_s - self._t0
        busy = max(0.0, self._cpu.busy_core_s() - self._busy0)
        return {
            "cpu-idle": self.power_model.idle_w * elapsed,
            "cpu-active": self.power_model.active_w_per_core * busy,
        }
