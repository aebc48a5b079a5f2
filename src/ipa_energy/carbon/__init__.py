"""Carbon intensity, carbon accounting and power caps.

Carbon-intensity sources behind one interface (:class:`CarbonIntensitySource`) and one registry
(:data:`CARBON_SOURCES`, the names the CLI and YAML use):

* ``csv``: a user trace ``t_s,g_co2_per_kwh`` at any step, read as a step function;
* ``constant``: one value for the run;
* ``codecarbon``: the annual country/region/cloud-region averages shipped in the ``codecarbon`` package;
* ``diurnal``: a SYNTHETIC sine or square wave, labelled synthetic wherever it is used.

:func:`~ipa_energy.carbon.accounting.carbon_g` turns per-second energy and intensity into grams;
:mod:`~ipa_energy.carbon.power_cap` holds power-cap schedules; :mod:`~ipa_energy.carbon.aware` and
:mod:`~ipa_energy.carbon.capped` wrap a problem factory into a carbon-aware or power-capped one.
"""

from __future__ import annotations

from typing import Any

from ipa_energy.carbon.base import CarbonIntensitySource
from ipa_energy.errors import ConfigError
from ipa_energy.registry import Registry

CARBON_SOURCES: Registry[type[CarbonIntensitySource]] = Registry(
    "carbon source",
    {
        "csv": "ipa_energy.carbon.csv_trace:CsvIntensity",
        "constant": "ipa_energy.carbon.constant:ConstantIntensity",
        "codecarbon": "ipa_energy.carbon.codecarbon_tables:CodecarbonIntensity",
        "diurnal": "ipa_energy.carbon.diurnal:DiurnalIntensity",
    },
)


def _value(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_source_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``"name"`` or ``"name:key=value,key=value"`` -> (name, config); numbers become int/float.

    ``"constant:400"`` and ``"csv:trace.csv"`` are shorthands for the one required argument.
    """
    name, _, rest = spec.strip().partition(":")
    config: dict[str, Any] = {}
    if rest:
        for i, item in enumerate(rest.split(",")):
            key, eq, val = item.partition("=")
            if not eq:
                if i == 0 and name in ("constant", "csv"):
                    config["g_per_kwh" if name == "constant" else "path"] = _value(key.strip())
                    continue
                raise ConfigError(f"expected key=value in {spec!r} (got {item!r})", field="carbon")
            config[key.strip()] = _value(val.strip())
    return name, config


def carbon_source(spec: str) -> CarbonIntensitySource:
    """Build a source from a CLI/YAML spec such as ``diurnal:period_s=600,shape=square``."""
    name, config = parse_source_spec(spec)
    source: CarbonIntensitySource = CARBON_SOURCES.create(name, field="carbon", **config)
    return source


__all__ = ["CARBON_SOURCES", "CarbonIntensitySource", "carbon_source", "parse_source_spec"]
