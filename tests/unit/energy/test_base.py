from __future__ import annotations

import pytest

from ipa_energy.energy import (
    ESTIMATED,
    METERS,
    REPLAYED,
    EnergyMeter,
    ReplayMeter,
    Zone,
    domain_of,
    get_meter,
    zone_from_name,
)
from ipa_energy.errors import ConfigError, UnknownNameError


class Counter(EnergyMeter):
    """A meter whose cumulative counters the test sets."""

    source = "test"

    def __init__(self, clock, zones):
        super().__init__(clock=clock)
        self._zones = tuple(zones)
        self.values: dict[str, float] = {z.name: 0.0 for z in self._zones}

    def zones(self):
        return self._zones

    def _read_energy_j(self, t_s):
        return dict(self.values)


ZONES = [
    zone_from_name("package-0"),
    zone_from_name("package-0/core"),
    zone_from_name("package-0/dram"),
    zone_from_name("package-1"),
    zone_from_name("psys"),
]


def test_domains_and_counting():
    assert [domain_of(z.name) for z in ZONES] == ["pkg", "cores", "ram", "pkg", "psys"]
    assert [z.counted for z in ZONES] == [True, False, True, True, False]
    with pytest.raises(ConfigError, match="domain"):
        domain_of("fan")
    with pytest.raises(ConfigError, match="domain"):
        Zone("x", "bogus", True)


def test_nested_windows_and_total_counts_each_domain_once(clock):
    m = Counter(clock, ZONES)
    m.begin_window("outer")
    m.values.update({"package-0": 10, "package-0/core": 6, "package-0/dram": 2, "package-1": 5, "psys": 30})
    clock.advance(2.0)
    m.begin_window("inner")
    m.values.update({"package-0": 20, "package-0/core": 12, "package-0/dram": 3, "package-1": 9, "psys": 50})
    clock.advance(3.0)
    inner = m.end_window("inner")
    outer = m.end_window("outer")
    assert inner.duration_s == 3.0
    assert inner.zones_j["package-0"] == 10
    assert inner.energy_j == 10 + 1 + 4  # packages + dram; core and psys not added
    assert inner.zones_j["psys"] == 20
    assert outer.energy_j == 20 + 3 + 9
    assert outer.mean_power_w == pytest.approx(32 / 5)
    assert set(outer.counted_zones) == {"package-0", "package-0/dram", "package-1"}
    with pytest.raises(ConfigError, match="no open window"):
        m.end_window("inner")


def test_duplicate_window_key_is_an_error(clock):
    m = Counter(clock, ZONES)
    m.begin_window("a")
    with pytest.raises(ConfigError, match="already open"):
        m.begin_window("a")
    m.cancel_window("a")
    assert m.open_windows() == ()


def test_unreadable_zone_is_missing_not_zero(clock):
    m = Counter(clock, ZONES)
    m.begin_window("w")
    del m.values["package-1"]
    m.values["package-0"] = 4.0
    clock.advance(1)
    out = m.end_window("w")
    assert "package-1" not in out.zones_j
    assert out.missing_zones == ("package-1",)
    assert out.energy_j == 4.0


def test_measurement_is_frozen(clock):
    m = Counter(clock, ZONES)
    with m.window("w") as out:
        clock.advance(1)
    meas = out[0]
    with pytest.raises(AttributeError):
        meas.energy_j = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        meas.zones_j["package-0"] = 3.0  # type: ignore[index]
    assert meas.to_json()["source"] == "test"


def test_registry_names_and_unknown():
    assert set(METERS.names()) == {"auto", "rapl", "perf", "nvml", "model", "replay"}
    with pytest.raises(UnknownNameError, match="valid: auto, model, nvml, perf, rapl, replay"):
        get_meter("bogus")
    with pytest.raises(ConfigError, match="bad option"):
        get_meter("model", nonsense=1)


def test_replay_meter_interpolates_and_labels(clock):
    m = ReplayMeter([1.0, 2.0, 3.0], {"package-0": [10.0, 20.0, None], "package-0/dram": [1.0, 1.0, 1.0]},
                    clock=clock)
    assert m.quality == REPLAYED
    m.begin_window("w")
    clock.advance(1.5)
    out = m.end_window("w")
    assert out.zones_j["package-0"] == pytest.approx(10 + 10)
    assert out.energy_j == pytest.approx(20 + 1.5)
    clock.advance(1.0)  # t = 2.5: package-0 is in a gap
    assert "package-0" not in m.read().energy_j
    clock.advance(1.0)  # past the end without loop: everything is a gap
    assert m.read().energy_j == {}


def test_replay_constant_loops(clock):
    m = ReplayMeter.constant({"package-0": 50.0, "gpu-0": 100.0}, clock=clock)
    m.begin_window("w")
    clock.advance(10.25)
    out = m.end_window("w")
    assert out.energy_j == pytest.approx(150 * 10.25)
    assert out.mean_power_w == pytest.approx(150)


def test_model_meter_arithmetic_by_hand(clock, cpu):
    # idle 20 W, 5 W per busy core. In 10 s the machine was busy 12 core-seconds:
    # idle 20*10 = 200 J, active 5*12 = 60 J, total 260 J.
    m = get_meter("model", idle_w=20.0, active_w_per_core=5.0, cpu_time=cpu, clock=clock)
    assert m.quality == ESTIMATED
    m.begin_window("w")
    clock.advance(10)
    cpu.busy_s += 12
    out = m.end_window("w")
    assert out.zones_j == {"cpu-idle": 200.0, "cpu-active": 60.0}
    assert out.energy_j == 260.0
    assert out.quality == "estimated"
    assert "idle 20 W + 5 W/busy core" in (out.model or "")


def test_model_meter_process_mode_counts_only_active(clock, cpu):
    m = get_meter("model", idle_w=20.0, active_w_per_core=5.0, cpu_time=cpu, pids=[1], clock=clock)
    m.begin_window("w")
    clock.advance(4)
    cpu.busy_s += 2
    out = m.end_window("w")
    assert out.energy_j == 10.0
    assert out.zones_j["cpu-idle"] == 80.0  # reported, not counted


def test_auto_prefers_rapl_and_reports_why_others_were_not_used(tmp_path, clock):
    import sys

    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from powercap_fake import intel_two_sockets

    root = intel_two_sockets(tmp_path / "pc")
    m = get_meter("auto", powercap_root=root, clock=clock, probe_s=0, gpus=False)
    assert m.source == "rapl" and m.quality == "measured"
    assert m.selection.used == ("rapl",)
    assert "not tried: rapl chosen" in m.selection.summary()
    m.close()


def test_auto_falls_back_to_the_labelled_estimate(tmp_path, clock, cpu):
    m = get_meter(
        "auto", powercap_root=tmp_path / "none", pmu_root=tmp_path / "none", clock=clock,
        idle_w=10.0, active_w_per_core=2.0, gpus=False,
    )
    assert m.source == "model" and m.quality == ESTIMATED
    s = m.selection.summary()
    assert "rapl: unavailable" in s and "does not exist" in s
    assert "perf: unavailable" in s and "model: used" in s
    assert "idle 10 W + 2 W/busy core" in (m.model or "")


def test_auto_refuses_counters_that_never_move(tmp_path):
    import sys

    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from powercap_fake import intel_two_sockets

    root = intel_two_sockets(tmp_path / "pc")
    m = get_meter("auto", powercap_root=root, pmu_root=tmp_path / "none", probe_s=0.05, gpus=False)
    assert m.source == "model"
    assert "none advanced" in m.selection.summary()
