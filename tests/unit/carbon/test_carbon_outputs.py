"""The carbon and power-cap figures a run reports, from per-second records."""

from __future__ import annotations

import numpy as np
import pytest

from ipa_energy.carbon import carbon_source
from ipa_energy.carbon.outputs import account_cap, account_carbon
from ipa_energy.carbon.power_cap import PowerCapSchedule


def test_carbon_account_totals_per_second_and_stages() -> None:
    t = np.arange(600)
    stages = {"crop": np.full(600, 30.0), "classification": np.full(600, 60.0)}
    energy = stages["crop"] + stages["classification"]
    src = carbon_source("diurnal:mean_g_per_kwh=300,amplitude_g_per_kwh=200,period_s=600,shape=square")
    acc = account_carbon(src, t, energy, stages)
    m = acc.metrics()
    assert m["carbon_g"] == pytest.approx(90 * (300 * 100 + 300 * 500) / 3.6e6)
    assert m["mean_intensity_g_per_kwh"] == pytest.approx(300.0)
    assert "synthetic" in m["carbon_source"]
    assert sum(m["carbon_g_by_stage"].values()) == pytest.approx(m["carbon_g"])
    cols = acc.timeline_columns()
    assert cols["carbon_g"].sum() == pytest.approx(m["carbon_g"]) and cols["intensity_g_per_kwh"][300] == 500


def test_constant_source_gives_energy_times_c() -> None:
    energy = np.random.default_rng(0).uniform(5, 20, 100)
    acc = account_carbon(carbon_source("constant:400"), np.arange(100), energy)
    assert acc.carbon_g == pytest.approx(energy.sum() * 400 / 3.6e6)
    assert "carbon_g_by_stage" not in acc.metrics()


def test_cap_account() -> None:
    sched = PowerCapSchedule.constant(10.0)
    acc = account_cap(sched, np.arange(4), [9.0, 11.0, 12.5, 10.0])
    assert acc.metrics() == {"time_above_cap_s": 2.0, "energy_above_cap_j": 3.5, "power_cap_source": "constant 10 W"}
    assert np.array_equal(acc.timeline_columns()["max_power_w"], [10.0] * 4)
