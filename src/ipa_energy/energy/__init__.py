"""Energy measurement: one meter interface over RAPL, perf, NVML, a labelled CPU-time estimate and a
replay helper; per-second sampling, logs, parsing of saved perf logs, attribution, analysis, export.

    from ipa_energy.energy import get_meter
    meter = get_meter("auto")            # meter.selection says which source was used and why
    meter.begin_window("run")
    ...
    m = meter.end_window("run")          # Measurement: energy_j, zones_j, duration_s, source, quality

Meters by name (:data:`METERS`): auto, rapl, perf, nvml, model, replay. Heavy or optional modules are
imported only when their meter is asked for.
"""

from __future__ import annotations

from typing import Any

from ipa_energy.energy.base import (
    COUNTED_DOMAINS,
    DOMAINS,
    ESTIMATED,
    MEASURED,
    QUALITIES,
    REPLAYED,
    Clock,
    CounterReading,
    EnergyMeter,
    Measurement,
    MonotonicClock,
    Zone,
    domain_of,
    zone_from_name,
)
from ipa_energy.energy.sampler import Sample, Sampler
from ipa_energy.errors import ConfigError
from ipa_energy.registry import Registry

#: name -> meter class or factory; each takes keyword options (see its docstring) and ``clock=``
METERS: Registry[Any] = Registry(
    "meter",
    {
        "auto": "ipa_energy.energy.auto:auto_meter",
        "rapl": "ipa_energy.energy.rapl:RaplMeter",
        "perf": "ipa_energy.energy.perf:PerfMeter",
        "nvml": "ipa_energy.energy.nvml:NvmlMeter",
        "model": "ipa_energy.energy.model:ModelMeter",
        "replay": "ipa_energy.energy.replay:ReplayMeter",
    },
)


def get_meter(name: str = "auto", **options: Any) -> EnergyMeter:
    """Build the meter registered as ``name`` with its keyword ``options``.

    Unknown names list the valid ones; a source that is not present here raises
    :class:`ipa_energy.errors.MeterUnavailable` saying why (and how to fix it where possible).
    """
    factory = METERS.get(name, field="meter")
    try:
        meter: EnergyMeter = factory(**options)
    except TypeError as e:
        if "unexpected keyword argument" in str(e) or "positional argument" in str(e):
            raise ConfigError(f"bad option for meter {name!r}: {e}", field="meter") from None
        raise
    return meter


_LAZY = {
    "ReplayMeter": "ipa_energy.energy.replay",
    "ModelMeter": "ipa_energy.energy.model",
    "PowerModel": "ipa_energy.energy.power_models",
    "CompositeMeter": "ipa_energy.energy.auto",
    "Selection": "ipa_energy.energy.auto",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'ipa_energy.energy' has no attribute {name!r}")


__all__ = [
    "COUNTED_DOMAINS",
    "DOMAINS",
    "ESTIMATED",
    "MEASURED",
    "METERS",
    "QUALITIES",
    "REPLAYED",
    "Clock",
    "CompositeMeter",
    "CounterReading",
    "EnergyMeter",
    "Measurement",
    "ModelMeter",
    "MonotonicClock",
    "PowerModel",
    "ReplayMeter",
    "Sample",
    "Sampler",
    "Selection",
    "Zone",
    "domain_of",
    "get_meter",
    "zone_from_name",
]
