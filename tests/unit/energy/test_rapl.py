from __future__ import annotations

from pathlib import Path

import pytest
from powercap_fake import MAX_RANGE_UJ, add_zone, intel_two_sockets, set_energy

from ipa_energy.energy import get_meter, rapl
from ipa_energy.errors import MeterUnavailable


def test_discovers_packages_subzones_psys_and_drops_mmio_duplicate(tmp_path, clock):
    root = intel_two_sockets(tmp_path)
    m = get_meter("rapl", root=root, clock=clock, guard=False)
    names = [z.name for z in m.zones()]
    assert names == [
        "package-0", "package-0/core", "package-0/uncore", "package-0/dram",
        "package-1", "package-1/core", "package-1/uncore", "package-1/dram", "psys",
    ]
    assert any("intel-rapl-mmio:0" in n and "duplicate" in n for n in m.notes)
    assert set(m.counted_zone_names()) == {"package-0", "package-0/dram", "package-1", "package-1/dram"}


def test_window_energy_counts_packages_and_dram_once(tmp_path, clock):
    root = intel_two_sockets(tmp_path)
    m = get_meter("rapl", root=root, clock=clock, guard=False)
    m.begin_window("w")
    set_energy(root, "intel-rapl:0", 50_000_000)   # 50 J
    set_energy(root, "intel-rapl:0:0", 30_000_000)  # core: inside the package
    set_energy(root, "intel-rapl:0:2", 5_000_000)   # dram: 5 J
    set_energy(root, "intel-rapl:1", 40_000_000)
    set_energy(root, "intel-rapl:2", 120_000_000)   # psys
    clock.advance(2.0)
    out = m.end_window("w")
    assert out.energy_j == pytest.approx(50 + 5 + 40)
    assert out.zones_j["package-0/core"] == pytest.approx(30)
    assert out.zones_j["psys"] == pytest.approx(120)
    assert out.mean_power_w == pytest.approx(47.5)
    assert out.source == "rapl" and out.quality == "measured"


def test_wraparound_uses_max_energy_range(tmp_path, clock):
    root = tmp_path
    add_zone(root, "intel-rapl:0", "package-0", energy_uj=MAX_RANGE_UJ - 1_000_000)
    m = get_meter("rapl", root=root, clock=clock, guard=False)
    m.begin_window("w")
    set_energy(root, "intel-rapl:0", MAX_RANGE_UJ - 10)  # +0.99999 J
    m.read()
    set_energy(root, "intel-rapl:0", 2_000_000)  # wrapped: +10 uJ to the top, then +2 J
    clock.advance(1)
    out = m.end_window("w")
    assert out.energy_j == pytest.approx(1.0 + 2.0, abs=1e-5)
    assert m.wraps["package-0"] == 1


def test_poll_period_derived_from_range_and_power(tmp_path):
    root = intel_two_sockets(tmp_path)
    m = rapl.RaplMeter(root, guard=False)
    # dram: 65_712.999613 J at the assumed 1000 W ceiling -> wraps in 65.7 s; polled twice per wrap
    assert m.poll_period_s == pytest.approx(65_712.999613 / 1000 / 2)
    add_zone(tmp_path / "b", "intel-rapl:0", "package-0", max_range_uj=1_000_000_000, max_power_uw=100_000_000)
    assert rapl.RaplMeter(tmp_path / "b", guard=False).poll_period_s == pytest.approx(1000 / 100 / 2)


def test_amd_layout_package_and_core_no_dram(tmp_path, clock):
    add_zone(tmp_path, "intel-rapl:0", "package-0")
    add_zone(tmp_path, "intel-rapl:0:0", "core")
    m = get_meter("rapl", root=tmp_path, clock=clock, guard=False)
    assert [z.name for z in m.zones()] == ["package-0", "package-0/core"]
    assert m.counted_zone_names() == ("package-0",)


def test_unreadable_counter_explains_the_fix(tmp_path, monkeypatch):
    root = intel_two_sockets(tmp_path)
    real = rapl._read_text

    def deny(path: Path) -> str:
        if path.name == "energy_uj" and path.parent.name == "intel-rapl:1":
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(rapl, "_read_text", deny)
    with pytest.raises(MeterUnavailable) as e:
        get_meter("rapl", root=root)
    msg = str(e.value)
    assert "intel-rapl:1/energy_uj" in msg and "permission denied" in msg
    assert "run as root" in msg and "chmod" in msg and "udev" in msg


def test_unreadable_file_real_permissions(tmp_path):
    import os

    if os.geteuid() == 0:
        pytest.skip("root reads files regardless of their mode")
    root = intel_two_sockets(tmp_path)
    (root / "intel-rapl:0" / "energy_uj").chmod(0o000)
    with pytest.raises(MeterUnavailable, match="chmod"):
        get_meter("rapl", root=root)


def test_missing_root_and_empty_root(tmp_path):
    with pytest.raises(MeterUnavailable, match="does not exist"):
        get_meter("rapl", root=tmp_path / "nope")
    with pytest.raises(MeterUnavailable, match="no RAPL zones"):
        get_meter("rapl", root=tmp_path)


def test_read_failure_mid_run_is_a_gap(tmp_path, clock):
    root = intel_two_sockets(tmp_path)
    m = get_meter("rapl", root=root, clock=clock, guard=False)
    (root / "intel-rapl:1" / "energy_uj").write_text("garbage\n")
    r = m.read()
    assert "package-1" not in r.energy_j and "package-0" in r.energy_j


def test_guard_thread_starts_with_a_window_and_stops_on_close(tmp_path):
    root = intel_two_sockets(tmp_path)
    m = rapl.RaplMeter(root)
    m.begin_window("w")
    assert m._guard is not None and m._guard.is_alive()
    m.end_window("w")
    m.close()
    assert m._guard is None


def test_psys_only_platform_counts_psys(tmp_path, clock):
    add_zone(tmp_path, "intel-rapl:0", "psys")
    m = get_meter("rapl", root=tmp_path, clock=clock, guard=False)
    assert m.counted_zone_names() == ("psys",)
