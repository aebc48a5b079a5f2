"""Power-cap schedules (constant or CSV) and the time/energy of a run above its cap."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ipa_energy.carbon.power_cap import PowerCapSchedule, energy_above_cap_j, time_above_cap_s
from ipa_energy.errors import ConfigError


def test_constant_and_csv_schedules(tmp_path: Path) -> None:
    assert PowerCapSchedule.parse("120").max_power_w(1e5) == 120.0
    p = tmp_path / "dr.csv"
    p.write_text("t_s,max_power_w\n0,200\n300,90\n600,200\n")
    cap = PowerCapSchedule.parse(str(p))
    assert [cap.max_power_w(t) for t in (0, 299, 300, 599, 600)] == [200, 200, 90, 90, 200]
    assert np.array_equal(cap.max_power_w_per_second([0, 300, 700]), [200, 90, 200])
    # an interval's plan must respect the tightest cap that starts during it
    assert cap.min_over(290, 300) == 200 and cap.min_over(290, 301) == 90 and cap.min_over(590, 610) == 90
    assert "dr.csv" in cap.source


@pytest.mark.parametrize(
    ("text", "message"),
    [("t_s,max_power_w\n0,0\n", "line 2: max_power_w: must be > 0"),
     ("t_s,max_power_w\n0,100\n0,90\n", "line 3: t_s: must increase"),
     ("t_s,max_power_w\n0,100\n10,inf\n", "line 3: max_power_w: must be finite"),
     ("t_s,g_co2_per_kwh\n0,100\n", "header must be 't_s,max_power_w'")],
)
def test_bad_schedules_name_the_line(tmp_path: Path, text: str, message: str) -> None:
    p = tmp_path / "cap.csv"
    p.write_text(text)
    with pytest.raises(ConfigError, match=message):
        PowerCapSchedule.parse(str(p))


@pytest.mark.parametrize("value", [0.0, -5.0, float("nan")])
def test_bad_constant_caps(value: float) -> None:
    with pytest.raises(ConfigError, match="positive"):
        PowerCapSchedule.constant(value)


def test_time_and_energy_above_cap() -> None:
    power = np.array([80.0, 95.0, 100.0, 130.0, 70.0])
    cap = np.array([100.0, 100.0, 100.0, 90.0, 90.0])
    assert time_above_cap_s(power, cap) == 1.0
    assert energy_above_cap_j(power, cap) == pytest.approx(40.0)
    assert time_above_cap_s(power, np.full(5, 60.0)) == 5.0
    with pytest.raises(ConfigError):
        time_above_cap_s(power, cap[:3])
