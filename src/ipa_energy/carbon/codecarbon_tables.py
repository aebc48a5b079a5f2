"""``codecarbon``: the annual average intensity of a country, region or cloud region, from the tables
that the ``codecarbon`` package ships (read from the installed package, not copied here).

These are annual averages (estimates of a grid's mean production intensity over a year), constant over
the run: they set the level of carbon, never its hour-to-hour swing. Tables and their units:

==========================================  =========================================  ==================
table (in ``codecarbon/data/``)             what                                       unit upstream
==========================================  =========================================  ==================
``private_infra/global_energy_mix.json``    country by ISO 3166 alpha-3 (``FRA``)      g CO2-eq/kWh
``private_infra/2023/usa_emissions.json``   US state (``country="USA", region=...``)   **lbs/MWh** (eGRID)
``private_infra/2023/canada_energy_mix.json`` Canadian province: generation mix in %    % of generation
``private_infra/nordic_emissions.json``     Nordic bidding zone (``SE3``, ``NO1``)      g CO2-eq/kWh
``private_infra/2023/china_provincial_...`` Chinese province (``CN-BJ`` or name)        g CO2/kWh
``cloud/impact.csv``                        cloud region (``provider``, ``cloud_region``) g CO2-eq/kWh
==========================================  =========================================  ==================

US values are converted with 1 lb = 453.59237 g: 1 lbs/MWh = 0.45359237 g/kWh. Canadian provinces are
computed as codecarbon does: the fossil shares (coal, petroleum, natural gas) times codecarbon's factors
for them (995.725971, 816.6885263, 743.8415916 g/kWh), low-carbon sources counted as zero.
"""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path
from typing import Any

from ipa_energy.carbon.constant import ConstantIntensity
from ipa_energy.errors import ConfigError

#: grams per pound (exact, by definition of the international avoirdupois pound)
G_PER_LB = 453.59237
#: 1 lbs/MWh in g/kWh: 453.59237 g per 1000 kWh
LBS_PER_MWH_TO_G_PER_KWH = G_PER_LB / 1000.0
#: codecarbon's factors for the fossil sources of a Canadian province's mix, in g/kWh
CANADA_FOSSIL_G_PER_KWH = {"coal": 995.725971, "petroleum": 816.6885263, "naturalGas": 743.8415916}
NORDIC_COUNTRIES = ("SWE", "NOR", "FIN")


def lbs_per_mwh_to_g_per_kwh(lbs_per_mwh: float) -> float:
    return lbs_per_mwh * LBS_PER_MWH_TO_G_PER_KWH


def data_dir() -> Path:
    """``codecarbon/data`` of the installed package (found without importing codecarbon)."""
    spec = importlib.util.find_spec("codecarbon")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the codecarbon package is not installed (pip install codecarbon)", field="carbon")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _json(relative: str) -> Any:
    path = data_dir() / relative
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ConfigError(f"cannot read codecarbon's table {relative}: {e}", field="carbon") from None


def _valid(names: Any) -> str:
    names = sorted(names)
    more = f", ... ({len(names)} in all)" if len(names) > 12 else ""
    return ", ".join(names[:12]) + more


def country_g_per_kwh(iso3: str) -> tuple[float, str]:
    table = _json("private_infra/global_energy_mix.json")
    row = table.get(iso3.upper())
    if row is None or row.get("carbon_intensity") is None:
        raise ConfigError(f"no country {iso3!r} in codecarbon's table; valid: {_valid(table)}", field="country")
    return float(row["carbon_intensity"]), f"{row.get('country_name', iso3)} {row.get('year', '')}".strip()


def usa_region_g_per_kwh(region: str) -> tuple[float, str]:
    table = _json("private_infra/2023/usa_emissions.json")
    key = region.lower()
    by_code = {str(v.get("regionCode", "")).lower(): k for k, v in table.items() if isinstance(v, dict)}
    key = by_code.get(key, key)
    row = table.get(key)
    if not isinstance(row, dict) or "emissions" not in row or key.startswith("_"):
        states = [k for k in table if not k.startswith("_")]
        raise ConfigError(f"no US region {region!r} in codecarbon's table; valid: {_valid(states)}", field="region")
    unit = table.get("_unit", {}).get("emissions", "lbs/MWh")
    if unit != "lbs/MWh":
        raise ConfigError(f"codecarbon's US table has unit {unit!r}, expected lbs/MWh", field="region")
    src = str(table.get("_source", {}).get("name", "EPA eGRID")).split(",")[0]
    return lbs_per_mwh_to_g_per_kwh(float(row["emissions"])), f"{key}, {src} (lbs/MWh converted)"


def canada_region_g_per_kwh(region: str) -> tuple[float, str]:
    table = _json("private_infra/2023/canada_energy_mix.json")
    row = table.get(region.lower())
    if row is None:
        raise ConfigError(f"no Canadian province {region!r} in codecarbon's table; valid: {_valid(table)}",
                          field="region")
    total = float(row["total"])
    g = sum(float(row.get(k, 0.0)) / total * f for k, f in CANADA_FOSSIL_G_PER_KWH.items())
    return g, f"{region.lower()}, 2023 generation mix x codecarbon's fossil factors"


def nordic_zone_g_per_kwh(zone: str) -> tuple[float, str]:
    data = _json("private_infra/nordic_emissions.json")["data"]
    row = data.get(zone.upper())
    if row is None:
        raise ConfigError(f"no Nordic zone {zone!r} in codecarbon's table; valid: {_valid(data)}", field="region")
    unit = row.get("unit", "gCO2eq/kWh")
    if unit.replace(".", "").lower() not in ("gco2eq/kwh", "gco2/kwh"):
        raise ConfigError(f"codecarbon's Nordic table has unit {unit!r}, expected g/kWh", field="region")
    return float(row["emission_factor"]), f"{zone.upper()} {row.get('year', '')}".strip()


def china_province_g_per_kwh(province: str) -> tuple[float, str]:
    data = _json("private_infra/2023/china_provincial_emissions.json")["data"]
    key = province.strip()
    for code, row in data.items():
        if key.upper() == code or key.lower() in row.get("names", ()):
            return float(row["emission_factor"]), f"{row.get('description', code)} {row.get('year', '')}".strip()
    raise ConfigError(f"no Chinese province {province!r} in codecarbon's table; valid: {_valid(data)}",
                      field="region")


def cloud_region_g_per_kwh(provider: str, cloud_region: str) -> tuple[float, str]:
    path = data_dir() / "cloud" / "impact.csv"
    try:
        rows = list(csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines()))
    except OSError as e:
        raise ConfigError(f"cannot read codecarbon's table cloud/impact.csv: {e}", field="carbon") from None
    for r in rows:
        if r["provider"] == provider.lower() and r["region"] == cloud_region:
            return float(r["impact"]), f"{provider.lower()} {cloud_region} ({r.get('source') or 'provider data'})"
    valid = sorted({f"{r['provider']}:{r['region']}" for r in rows})
    raise ConfigError(f"no cloud region {provider}:{cloud_region} in codecarbon's table; valid: {_valid(valid)}",
                      field="cloud_region")


def lookup_g_per_kwh(
    country: str | None = None, region: str | None = None, provider: str | None = None,
    cloud_region: str | None = None,
) -> tuple[float, str]:
    """(g CO2/kWh, what it is) for one place, from codecarbon's tables."""
    if provider is not None or cloud_region is not None:
        if provider is None or cloud_region is None:
            raise ConfigError("give both provider and cloud_region", field="cloud_region")
        return cloud_region_g_per_kwh(provider, cloud_region)
    if country is None:
        raise ConfigError("give a country (ISO alpha-3, e.g. FRA) or provider + cloud_region", field="country")
    iso = country.upper()
    if region is None:
        return country_g_per_kwh(iso)
    if iso == "USA":
        return usa_region_g_per_kwh(region)
    if iso == "CAN":
        return canada_region_g_per_kwh(region)
    if iso in NORDIC_COUNTRIES:
        return nordic_zone_g_per_kwh(region)
    if iso == "CHN":
        return china_province_g_per_kwh(region)
    raise ConfigError(f"codecarbon has regional tables only for USA, CAN, CHN, SWE, NOR, FIN (got {iso})",
                      field="region")


class CodecarbonIntensity(ConstantIntensity):
    """The annual average of ``country`` [+ ``region``] or of a cloud ``provider`` + ``cloud_region``."""

    def __init__(
        self, country: str | None = None, region: str | None = None, *, provider: str | None = None,
        cloud_region: str | None = None,
    ) -> None:
        g, what = lookup_g_per_kwh(country, region, provider, cloud_region)
        super().__init__(g)
        self.source = f"codecarbon annual average {self.g_per_kwh:.1f} g/kWh: {what} (estimate, constant)"
