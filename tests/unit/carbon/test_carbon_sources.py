"""Carbon-intensity sources: registry, step-function CSV with validation, constant, diurnal, codecarbon."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ipa_energy.carbon import CARBON_SOURCES, CarbonIntensitySource, carbon_source, parse_source_spec
from ipa_energy.carbon.codecarbon_tables import (
    LBS_PER_MWH_TO_G_PER_KWH,
    data_dir,
    lbs_per_mwh_to_g_per_kwh,
)
from ipa_energy.errors import ConfigError, UnknownNameError


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "trace.csv"
    p.write_text(text)
    return p


def test_registry_constructs_every_name_by_get() -> None:
    assert set(CARBON_SOURCES.names()) == {"csv", "constant", "codecarbon", "diurnal"}
    src = CARBON_SOURCES.get("constant")(g_per_kwh=250)
    assert isinstance(src, CarbonIntensitySource)
    assert src.intensity_g_per_kwh(123.0) == 250.0
    with pytest.raises(UnknownNameError, match="valid: codecarbon, constant, csv, diurnal"):
        CARBON_SOURCES.get("electricitymaps")


def test_csv_is_a_step_function_at_any_step(tmp_path: Path) -> None:
    path = write(tmp_path, "t_s,g_co2_per_kwh\n0,100\n90,300\n100.5,50\n")
    src = carbon_source(f"csv:{path}")
    assert [src.intensity_g_per_kwh(t) for t in (0, 89.9, 90, 100.4, 100.5, 1e6)] == [100, 100, 300, 300, 50, 50]
    t = np.arange(0, 120, 0.5)
    assert np.array_equal(src.intensity_per_second(t), [src.intensity_g_per_kwh(x) for x in t])
    assert "trace.csv" in src.source and "user CSV" in src.source


def test_csv_time_scale_compresses_and_says_so(tmp_path: Path) -> None:
    src = CARBON_SOURCES.get("csv")(path=write(tmp_path, "t_s,g_co2_per_kwh\n0,100\n3600,300\n"), time_scale=60)
    assert src.intensity_g_per_kwh(59) == 100 and src.intensity_g_per_kwh(60) == 300
    assert "compressed x60" in src.source


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("t_s,g_co2_per_kwh\n0,100\n60,abc\n", "line 3: g_co2_per_kwh: not a number"),
        ("t_s,g_co2_per_kwh\n0,100\n60\n", "line 3: expected 2 fields"),
        ("t_s,g_co2_per_kwh\n0,100\n\n60,-5\n", "line 4: g_co2_per_kwh: must be >= 0"),
        ("t_s,g_co2_per_kwh\n0,nan\n", "line 2: g_co2_per_kwh: must be finite"),
        ("t_s,g_co2_per_kwh\n0,100\n60,120\n60,130\n", "line 4: t_s: must increase strictly"),
        ("t_s,g_co2_per_kwh\n0,100\n60,120\n30,130\n", "line 4: t_s: must increase strictly"),
        ("time,co2\n0,100\n", "line 1: header must be"),
        ("t_s,g_co2_per_kwh\n", "no data rows"),
        ("", "empty"),
    ],
)
def test_csv_errors_name_the_line(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as e:
        carbon_source(f"csv:{path}")
    assert str(path) in str(e.value)


def test_missing_csv_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        carbon_source(f"csv:{tmp_path / 'nope.csv'}")


def test_diurnal_is_labelled_synthetic_and_swings() -> None:
    src = carbon_source("diurnal:mean_g_per_kwh=300,amplitude_g_per_kwh=200,period_s=600,shape=square")
    assert "synthetic" in src.source
    v = src.intensity_per_second(np.arange(1200))
    assert set(np.unique(v)) == {100.0, 500.0}
    assert np.all(v[:300] == 100.0) and np.all(v[300:600] == 500.0)
    sine = carbon_source("diurnal:period_s=86400")
    day = sine.intensity_per_second(np.arange(0, 86400, 60))
    assert day.max() == pytest.approx(450, abs=0.1) and day.min() == pytest.approx(150, abs=0.1)
    assert sine.mean_over(0, 86400) == pytest.approx(300, abs=1e-6)


@pytest.mark.parametrize(
    "spec",
    ["diurnal:amplitude_g_per_kwh=400", "diurnal:period_s=0", "diurnal:shape=triangle", "constant:-1",
     "constant:nan", "diurnal:bogus=1"],
)
def test_bad_options_are_config_errors(spec: str) -> None:
    with pytest.raises(ConfigError):
        carbon_source(spec)


def test_parse_source_spec() -> None:
    assert parse_source_spec("constant:400") == ("constant", {"g_per_kwh": 400})
    assert parse_source_spec("diurnal:period_s=600,shape=square") == ("diurnal", {"period_s": 600, "shape": "square"})
    with pytest.raises(ConfigError, match="key=value"):
        parse_source_spec("diurnal:600")


def test_lbs_per_mwh_conversion() -> None:
    # 1 lb = 453.59237 g, 1 MWh = 1000 kWh
    assert abs(LBS_PER_MWH_TO_G_PER_KWH - 0.45359237) < 1e-15
    assert lbs_per_mwh_to_g_per_kwh(1000.0) == pytest.approx(453.59237)
    assert lbs_per_mwh_to_g_per_kwh(2204.62262) == pytest.approx(1000.0, rel=1e-8)  # 1 t/MWh = 1000 g/kWh


def test_codecarbon_us_state_converts_lbs_from_the_installed_table() -> None:
    table = json.loads((data_dir() / "private_infra/2023/usa_emissions.json").read_text())
    assert table["_unit"]["emissions"] == "lbs/MWh"
    src = carbon_source("codecarbon:country=USA,region=california")
    assert src.intensity_g_per_kwh(0) == pytest.approx(table["california"]["emissions"] * 0.45359237)
    assert carbon_source("codecarbon:country=USA,region=CA").intensity_g_per_kwh(0) == src.intensity_g_per_kwh(0)
    assert "lbs/MWh converted" in src.source and "estimate" in src.source


def test_codecarbon_country_and_other_tables() -> None:
    mix = json.loads((data_dir() / "private_infra/global_energy_mix.json").read_text())
    fra = carbon_source("codecarbon:country=FRA")
    assert fra.intensity_g_per_kwh(0) == pytest.approx(mix["FRA"]["carbon_intensity"])
    assert np.all(fra.intensity_per_second(np.arange(5)) == fra.intensity_g_per_kwh(0))
    for spec in ("codecarbon:country=SWE,region=SE3", "codecarbon:country=CHN,region=beijing",
                 "codecarbon:country=CAN,region=ontario", "codecarbon:provider=gcp,cloud_region=europe-west1"):
        assert 0 < carbon_source(spec).intensity_g_per_kwh(0) < 1500, spec


def test_codecarbon_canada_follows_codecarbon_fossil_shares() -> None:
    mix = json.loads((data_dir() / "private_infra/2023/canada_energy_mix.json").read_text())["alberta"]
    fossil_g = mix["coal"] * 995.725971 + mix["petroleum"] * 816.6885263 + mix["naturalGas"] * 743.8415916
    expect = fossil_g / mix["total"]
    assert carbon_source("codecarbon:country=CAN,region=alberta").intensity_g_per_kwh(0) == pytest.approx(expect)


@pytest.mark.parametrize(
    ("spec", "field"),
    [("codecarbon:country=XXX", "country"), ("codecarbon:country=USA,region=atlantis", "region"),
     ("codecarbon:country=DEU,region=bavaria", "region"), ("codecarbon", "country"),
     ("codecarbon:provider=gcp", "cloud_region")],
)
def test_codecarbon_unknown_places_list_valid_ones(spec: str, field: str) -> None:
    with pytest.raises(ConfigError) as e:
        carbon_source(spec)
    assert e.value.field == field
