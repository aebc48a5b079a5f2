"""carbon_g: grams = sum(energy_j x g/kWh / 3.6e6), in total, per second and per stage."""

from __future__ import annotations

import numpy as np
import pytest

from ipa_energy.carbon import carbon_source
from ipa_energy.carbon.accounting import carbon_g, carbon_g_by_stage, carbon_g_per_second
from ipa_energy.errors import ConfigError


def test_constant_intensity_is_energy_times_c() -> None:
    rng = np.random.default_rng(3)
    energy_j = rng.uniform(50, 150, size=1200)
    for c in (0.0, 56.039, 400.0, 1000.0):
        intensity = carbon_source(f"constant:{c}").intensity_per_second(np.arange(1200))
        assert carbon_g(energy_j, intensity) == pytest.approx(energy_j.sum() * c / 3.6e6, rel=1e-12)


def test_one_kwh_at_one_gram_per_kwh_is_one_gram() -> None:
    assert carbon_g([3.6e6], [1.0]) == pytest.approx(1.0)
    assert carbon_g([], []) == 0.0


def test_per_second_follows_the_intensity() -> None:
    energy_j = np.full(600, 90.0)  # 90 W for 10 minutes
    intensity = carbon_source("diurnal:mean_g_per_kwh=300,amplitude_g_per_kwh=200,period_s=600,shape=square")
    per_s = carbon_g_per_second(energy_j, intensity.intensity_per_second(np.arange(600)))
    assert per_s[:300] == pytest.approx(90 * 100 / 3.6e6) and per_s[300:] == pytest.approx(90 * 500 / 3.6e6)
    assert per_s.sum() == pytest.approx(carbon_g(energy_j, intensity.intensity_per_second(np.arange(600))))


def test_stages_add_up_to_the_total() -> None:
    rng = np.random.default_rng(0)
    stages = {"crop": rng.uniform(10, 40, 300), "classification": rng.uniform(20, 60, 300)}
    intensity = rng.uniform(80, 400, 300)
    by_stage = carbon_g_by_stage(stages, intensity)
    total = carbon_g(stages["crop"] + stages["classification"], intensity)
    assert sum(by_stage.values()) == pytest.approx(total, rel=1e-12)
    assert by_stage["classification"] > by_stage["crop"]


def test_misaligned_inputs_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="one value per second"):
        carbon_g([1.0, 2.0], [100.0])
