"""``auto``: the best energy source present here, with the reasons the others were not used.

CPU: RAPL (powercap sysfs) first, then perf's ``power`` PMU, then the power-model estimate (which
always works where ``/proc/stat`` exists). GPUs: NVML is added when it finds devices. The chosen
meters are combined into one :class:`CompositeMeter`; ``meter.selection`` says what was tried::

    meter = get_meter("auto")
    print(meter.selection.summary())   # "rapl+nvml; perf: not tried (rapl chosen); ..."
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ipa_energy.energy.base import ESTIMATED, MEASURED, REPLAYED, Clock, EnergyMeter, Zone
from ipa_energy.errors import ConfigError, MeterUnavailable


@dataclass(frozen=True)
class Attempt:
    source: str
    used: bool
    reason: str


@dataclass(frozen=True)
class Selection:
    """What ``auto`` tried, in order, and why each source was or was not used."""

    attempts: tuple[Attempt, ...]

    @property
    def used(self) -> tuple[str, ...]:
        return tuple(a.source for a in self.attempts if a.used)

    def summary(self) -> str:
        parts = [f"{a.source}: {'used' if a.used else 'unavailable'} ({a.reason})" for a in self.attempts]
        return "; ".join(parts)

    def to_json(self) -> list[dict[str, object]]:
        return [{"source": a.source, "used": a.used, "reason": a.reason} for a in self.attempts]


class CompositeMeter(EnergyMeter):
    """Several meters read as one (zone names must not clash). Quality is the weakest of the parts."""

    def __init__(self, meters: Sequence[EnergyMeter], *, clock: Clock | None = None) -> None:
        if not meters:
            raise ConfigError("needs at least one meter", field="meters")
        super().__init__(clock=clock if clock is not None else meters[0].clock)
        self.meters = tuple(meters)
        names = [z.name for m in self.meters for z in m.zones()]
        if len(set(names)) != len(names):
            raise ConfigError(f"zone names clash: {names}", field="meters")
        self.source = "+".join(m.source for m in self.meters)
        qualities = {m.quality for m in self.meters}
        self.quality = next((q for q in (ESTIMATED, REPLAYED) if q in qualities), MEASURED)
        self.selection: Selection | None = None

    @property
    def model(self) -> str | None:
        models = [m.model for m in self.meters if m.model]
        return "; ".join(models) if models else None

    @property
    def poll_period_s(self) -> float | None:
        periods = [p for m in self.meters if (p := m.poll_period_s) is not None]
        return min(periods) if periods else None

    @property
    def process_mode(self) -> bool:
        """True when a part covers given processes only (a process-mode CPU estimate): scope labels and
        the executor's CPU-time denominator read this, as they do on a bare model meter."""
        return any(getattr(m, "process_mode", False) for m in self.meters)

    def zones(self) -> tuple[Zone, ...]:
        return tuple(z for m in self.meters for z in m.zones())

    def _read_energy_j(self, t_s: float) -> dict[str, float]:
        out: dict[str, float] = {}
        for m in self.meters:
            out.update(m.read_energy_j(t_s))
        return out

    def close(self) -> None:
        for m in self.meters:
            m.close()
        super().close()


def check_advancing(meter: EnergyMeter, wait_s: float) -> None:
    """Raise MeterUnavailable if no counter of ``meter`` moves within ``wait_s`` (wall time).

    Some virtual machines expose RAPL files or perf's power events but every reading stays at zero;
    such a meter would report 0 J for everything, so ``auto`` refuses it.
    """
    if wait_s <= 0:
        return
    import time

    a = meter.read()
    time.sleep(wait_s)
    b = meter.read()
    if not any(b.energy_j.get(k, v) > v for k, v in a.energy_j.items()):
        meter.close()
        raise MeterUnavailable(
            f"{meter.source}: counters present but none advanced in {wait_s:g} s "
            "(the hardware or hypervisor exposes the counters, not their values)"
        )


def auto_meter(
    *,
    clock: Clock | None = None,
    powercap_root: str | Path = "/sys/class/powercap",
    pmu_root: str | Path = "/sys/bus/event_source/devices",
    perf_cmd: str = "perf",
    power_model: object = None,
    idle_w: float | None = None,
    active_w_per_core: float | None = None,
    pids: Sequence[int] | None = None,
    proc_root: str | Path = "/proc",
    gpus: bool = True,
    sources: Sequence[str] = ("rapl", "perf", "model"),
    probe_s: float = 0.3,
) -> CompositeMeter:
    """Try the CPU ``sources`` in order (first that works wins), then NVML; see the module doc."""
    from ipa_energy.energy import METERS

    attempts: list[Attempt] = []
    chosen: list[EnergyMeter] = []
    cpu: EnergyMeter | None = None
    for name in sources:
        if cpu is not None:
            attempts.append(Attempt(name, False, f"not tried: {cpu.source} chosen"))
            continue
        try:
            candidate: EnergyMeter
            if name == "rapl":
                candidate = METERS.get("rapl")(root=powercap_root, clock=clock)
                check_advancing(candidate, probe_s)
            elif name == "perf":
                candidate = METERS.get("perf")(perf_cmd=perf_cmd, pmu_root=pmu_root, clock=clock)
                check_advancing(candidate, probe_s)
            elif name == "model":
                candidate = METERS.get("model")(
                    power_model, idle_w=idle_w, active_w_per_core=active_w_per_core,
                    pids=pids, proc_root=proc_root, clock=clock,
                )
            else:
                raise ConfigError(f"auto cannot use {name!r} for the CPU", field="sources")
        except MeterUnavailable as e:
            attempts.append(Attempt(name, False, str(e)))
            continue
        cpu = candidate
        label = "estimate" if cpu.quality == ESTIMATED else "measured"
        attempts.append(Attempt(name, True, f"{label}: {cpu.describe()}"))
        chosen.append(cpu)
    if gpus:
        try:
            gpu = METERS.get("nvml")(clock=clock)
        except MeterUnavailable as e:
            attempts.append(Attempt("nvml", False, str(e)))
        else:
            attempts.append(Attempt("nvml", True, gpu.describe()))
            chosen.append(gpu)
    if not chosen:
        raise MeterUnavailable("auto: no energy source works here: " + Selection(tuple(attempts)).summary())
    meter = CompositeMeter(chosen, clock=clock)
    meter.selection = Selection(tuple(attempts))
    return meter


__all__ = ["MEASURED", "Attempt", "CompositeMeter", "Selection", "auto_meter"]
