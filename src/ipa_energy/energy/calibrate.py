"""Calibration of the CPU power model from stepped load on a machine with a real counter (RAPL).

For k = 0..N busy cores: hold k spinning processes for ``step_s`` seconds, measure package power (the
``pkg`` zones) and the machine's actual busy cores (from ``/proc/stat``, so other activity is seen, not
assumed), then fit ``power_w = idle_w + active_w_per_core * busy_cores`` by least squares. The result is
a coefficients file that :class:`~ipa_energy.energy.model.ModelMeter` accepts, so machines without
RAPL can use coefficients measured on the same hardware.
"""

from __future__ import annotations

import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ipa_energy.energy.base import EnergyMeter
from ipa_energy.energy.cputime import CpuTimeSource
from ipa_energy.energy.power_models import PowerModel, cpu_model_name
from ipa_energy.errors import ConfigError


@dataclass(frozen=True)
class CalibrationPoint:
    load_cores: int
    busy_cores: float
    power_w: float
    duration_s: float


@dataclass(frozen=True)
class Calibration:
    model: PowerModel
    points: tuple[CalibrationPoint, ...]
    r2: float
    rmse_w: float

    def details(self) -> dict[str, Any]:
        return {
            "host": platform.node(),
            "cpu_model": cpu_model_name(),
            "r2": self.r2,
            "rmse_w": self.rmse_w,
            "points": [p.__dict__ for p in self.points],
        }


def fit_power_model(points: Sequence[CalibrationPoint], *, name: str, source: str,
                    cores: int | None = None) -> Calibration:
    """Least-squares fit of power against busy cores (needs two or more distinct loads)."""
    x = np.array([p.busy_cores for p in points], dtype=float)
    y = np.array([p.power_w for p in points], dtype=float)
    if len(points) < 2 or np.ptp(x) < 0.5:
        raise ConfigError("calibration needs at least two load levels at least half a core apart", field="levels")
    a = np.column_stack([np.ones_like(x), x])
    (idle_w, per_core_w), *_ = np.linalg.lstsq(a, y, rcond=None)
    pred = a @ np.array([idle_w, per_core_w])
    ss_res = float(np.sum((y - pred) ** 2))
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0
    model = PowerModel(name, max(0.0, float(idle_w)), max(0.0, float(per_core_w)), cores, source)
    return Calibration(model, tuple(points), r2, float(np.sqrt(ss_res / len(points))))


def run_steps(
    meter: EnergyMeter,
    levels: Sequence[int],
    *,
    step_s: float,
    settle_s: float,
    set_load: Callable[[int], None],
    wait: Callable[[float], None],
    cpu: CpuTimeSource,
    progress: Callable[[int, CalibrationPoint], None] | None = None,
) -> list[CalibrationPoint]:
    """Measure one point per load level (``set_load``/``wait`` are injected so tests drive them)."""
    pkg = [z.name for z in meter.zones() if z.domain == "pkg"]
    if not pkg:
        raise ConfigError(f"meter {meter.source} has no package zone to calibrate against", field="meter")
    points = []
    for k in levels:
        set_load(k)
        wait(settle_s)
        key = f"calibrate-{k}"
        meter.begin_window(key)
        busy0 = cpu.busy_core_s()
        wait(step_s)
        busy1 = cpu.busy_core_s()
        m = meter.end_window(key)
        if m.duration_s <= 0:
            raise ConfigError("the meter's clock did not advance during a step", field="meter")
        energy = sum(m.zones_j.get(n, 0.0) for n in pkg)
        p = CalibrationPoint(k, (busy1 - busy0) / m.duration_s, energy / m.duration_s, m.duration_s)
        points.append(p)
        if progress is not None:
            progress(k, p)
    set_load(0)
    return points


class SpinLoad:
    """Holds k child processes spinning on a core each (``set(k)``); ``close()`` stops them all."""

    def __init__(self) -> None:
        self._procs: list[subprocess.Popen[bytes]] = []

    def set(self, k: int) -> None:
        while len(self._procs) > k:
            p = self._procs.pop()
            p.kill()
            p.wait()
        while len(self._procs) < k:
            self._procs.append(subprocess.Popen([sys.executable, "-c", "while True: pass"]))  # noqa: S603

    def close(self) -> None:
        self.set(0)

    def __enter__(self) -> SpinLoad:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def wall_wait(seconds: float) -> None:
    time.sleep(seconds)
