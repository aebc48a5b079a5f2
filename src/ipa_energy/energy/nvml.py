"""NvmlMeter: NVIDIA GPU energy through NVML (the nvidia-ml-py package, imported as ``pynvml``).

Per GPU, the best method it supports:

* ``counter``: ``nvmlDeviceGetTotalEnergyConsumption`` (millijoules since the driver loaded; Volta and
  newer), differenced between reads;
* ``power``: ``nvmlDeviceGetPowerUsage`` (milliwatts) sampled and integrated with the trapezoid rule.
  Integration needs frequent reads, so :attr:`poll_period_s` is ``power_poll_s`` (0.1 s) and a guard
  thread reads at that rate while windows are open.

Zones are ``gpu-0``, ``gpu-1``, ... (domain ``gpu``, counted). NVML errors are mapped to
:class:`~ipa_energy.errors.MeterUnavailable` once, here. :meth:`utilization` and
:meth:`process_utilization` feed GPU attribution.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ipa_energy.energy.base import MEASURED, Clock, EnergyMeter, Zone
from ipa_energy.errors import MeterUnavailable


def _pynvml() -> Any:
    try:
        import pynvml
    except ImportError as e:
        raise MeterUnavailable("nvml: the nvidia-ml-py package is not installed") from e
    return pynvml


@dataclass
class _Gpu:
    index: int
    handle: Any
    name: str
    method: str  # "counter" | "power"
    last_mj: int | None = None
    last_power_w: float | None = None
    last_t_s: float | None = None
    acc_j: float = 0.0


class NvmlMeter(EnergyMeter):
    """Energy of NVIDIA GPUs (quality ``measured``)."""

    source = "nvml"
    quality = MEASURED

    def __init__(
        self,
        *,
        devices: Sequence[int] | None = None,
        power_poll_s: float = 0.1,
        clock: Clock | None = None,
        guard: bool = True,
    ) -> None:
        super().__init__(clock=clock)
        nv = self._nv = _pynvml()
        try:
            nv.nvmlInit()
        except nv.NVMLError as e:
            raise MeterUnavailable(f"nvml: cannot initialise NVML ({e}): no NVIDIA driver or GPU here") from e
        try:
            count = nv.nvmlDeviceGetCount()
            if count == 0:
                raise MeterUnavailable("nvml: NVML found no GPU")
            indices = list(devices) if devices is not None else list(range(count))
            bad = [i for i in indices if not 0 <= i < count]
            if bad:
                raise MeterUnavailable(f"nvml: no GPU {bad} (this machine has {count})")
            self._gpus: list[_Gpu] = []
            for i in indices:
                h = nv.nvmlDeviceGetHandleByIndex(i)
                name = nv.nvmlDeviceGetName(h)
                name = name.decode() if isinstance(name, bytes) else str(name)
                try:
                    mj = int(nv.nvmlDeviceGetTotalEnergyConsumption(h))
                    self._gpus.append(_Gpu(i, h, name, "counter", last_mj=mj))
                except nv.NVMLError:
                    try:
                        nv.nvmlDeviceGetPowerUsage(h)
                    except nv.NVMLError as e:
                        raise MeterUnavailable(f"nvml: GPU {i} ({name}) reports neither energy nor power: {e}") from e
                    self._gpus.append(_Gpu(i, h, name, "power"))
        except BaseException:
            with contextlib.suppress(Exception):
                nv.nvmlShutdown()
            raise
        self.power_poll_s = power_poll_s
        self._zones = tuple(Zone(f"gpu-{g.index}", "gpu", True) for g in self._gpus)
        self._guard_enabled = guard and any(g.method == "power" for g in self._gpus)
        self.read()  # first sample of power-mode GPUs

    def zones(self) -> tuple[Zone, ...]:
        return self._zones

    @property
    def methods(self) -> dict[str, str]:
        """Zone -> "counter" or "power" (how its energy is obtained)."""
        return {f"gpu-{g.index}": g.method for g in self._gpus}

    def describe(self) -> str:
        parts = ", ".join(f"gpu-{g.index} {g.name} ({g.method})" for g in self._gpus)
        return f"nvml ({self.quality}): {parts}"

    @property
    def poll_period_s(self) -> float | None:
        return self.power_poll_s if any(g.method == "power" for g in self._gpus) else None

    def _read_energy_j(self, t_s: float) -> dict[str, float]:
        nv = self._nv
        out: dict[str, float] = {}
        for g in self._gpus:
            try:
                if g.method == "counter":
                    mj = int(nv.nvmlDeviceGetTotalEnergyConsumption(g.handle))
                    if g.last_mj is not None and mj >= g.last_mj:
                        g.acc_j += (mj - g.last_mj) / 1e3
                    g.last_mj = mj
                else:
                    p_w = nv.nvmlDeviceGetPowerUsage(g.handle) / 1e3
                    if g.last_power_w is not None and g.last_t_s is not None and t_s > g.last_t_s:
                        g.acc_j += 0.5 * (p_w + g.last_power_w) * (t_s - g.last_t_s)
                    g.last_power_w, g.last_t_s = p_w, t_s
            except nv.NVMLError:
                continue  # a gap for this GPU
            out[f"gpu-{g.index}"] = g.acc_j
        return out

    # ---- attribution inputs ---------------------------------------------------------------------
    def utilization(self) -> dict[str, float]:
        """GPU busy fraction (0..1) per zone over NVML's last sample period."""
        out = {}
        for g in self._gpus:
            with contextlib.suppress(self._nv.NVMLError):
                out[f"gpu-{g.index}"] = self._nv.nvmlDeviceGetUtilizationRates(g.handle).gpu / 100.0
        return out

    def process_utilization(self, since_us: int = 0) -> dict[str, dict[int, float]]:
        """Per zone: pid -> SM utilisation (0..1) from NVML's process samples since ``since_us``."""
        out: dict[str, dict[int, float]] = {}
        for g in self._gpus:
            try:
                samples = self._nv.nvmlDeviceGetProcessUtilization(g.handle, since_us)
            except self._nv.NVMLError:
                continue
            per: dict[int, float] = {}
            for s in samples:
                per[int(s.pid)] = max(per.get(int(s.pid), 0.0), float(s.smUtil) / 100.0)
            out[f"gpu-{g.index}"] = per
        return out

    def _needs_guard(self) -> bool:
        return self._guard_enabled

    def close(self) -> None:
        if not self._closed:
            with contextlib.suppress(Exception):
                self._nv.nvmlShutdown()
        super().close()



class GpuSamples:
    """NVML's per-process SM-utilisation samples of ``meter``, window by window: :meth:`take` gives those
    since the previous call (or :meth:`restart`), for :func:`ipa_energy.energy.attribution.attribute`;
    None when the meter has no NVML part. NVML stamps samples in microseconds of the wall clock, so the
    window edges are ``time.time()``, not the run's clock."""

    def __init__(self, meter: EnergyMeter) -> None:
        self.meter = meter
        self.restart()

    def restart(self) -> None:
        import time

        self._since_us = int(time.time() * 1e6)

    def take(self) -> dict[str, dict[int, float]] | None:
        since, now = self._since_us, self._now_us()
        self._since_us = now
        return gpu_process_utilization(self.meter, since)

    @staticmethod
    def _now_us() -> int:
        import time

        return int(time.time() * 1e6)


def gpu_process_utilization(meter: EnergyMeter, since_us: int) -> dict[str, dict[int, float]] | None:
    """Per GPU zone: pid -> SM utilisation since ``since_us`` (NVML's process samples), from ``meter`` or
    the NVML part of a composite meter (``auto`` with GPUs); None when the meter has no NVML part. What
    :func:`ipa_energy.energy.attribution.attribute` shares each GPU's energy by."""
    parts = getattr(meter, "meters", (meter,))
    nv = [m for m in parts if isinstance(m, NvmlMeter)]
    if not nv:
        return None
    out: dict[str, dict[int, float]] = {}
    for m in nv:
        out.update(m.process_utilization(since_us))
    return out
