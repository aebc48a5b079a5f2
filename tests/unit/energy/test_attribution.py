from __future__ import annotations

import os

import pytest

from ipa_energy.energy import Measurement, ReplayMeter, get_meter
from ipa_energy.energy.attribution import (
    StageAttributor,
    attribute,
    share_by_cpu_time,
    share_by_gpu_utilization,
    split_idle_active,
)


def meas(zones, counted, duration=10.0):
    return Measurement(energy_j=sum(zones[z] for z in counted), zones_j=zones, duration_s=duration,
                       source="test", quality="measured", counted_zones=tuple(counted))


def test_split_and_shares_by_hand():
    assert split_idle_active(1000.0, 10.0, 73.0) == (730.0, 270.0)
    assert split_idle_active(500.0, 10.0, 73.0) == (500.0, 0.0)  # never more idle than measured
    by, rest = share_by_cpu_time(270.0, {"det": 6.0, "cls": 2.0}, machine_cpu_s=9.0)
    assert by == {"det": 180.0, "cls": 60.0} and rest == pytest.approx(30.0)
    gby, grest = share_by_gpu_utilization({"gpu-0": 100.0}, {"gpu-0": {1: 0.3, 2: 0.1, 9: 0.1}}, {1: "det", 2: "cls"})
    assert gby == {"det": pytest.approx(60.0), "cls": pytest.approx(20.0)} and grest == pytest.approx(20.0)


def test_attribute_measured_cpu_and_gpu():
    m = meas({"package-0": 1000.0, "package-0/dram": 100.0, "gpu-0": 500.0},
             ["package-0", "package-0/dram", "gpu-0"])
    a = attribute(m, {"det": 4.0, "cls": 4.0}, 10.0, idle_w=80.0,
                  gpu_util={"gpu-0": {1: 0.5, 2: 0.5}}, stage_of_pid={1: "det", 2: "cls"})
    # CPU+DRAM 1100 J over 10 s, idle 800 J, active 300 J: 40% each to det/cls, 20% unattributed
    assert a.idle_j == 800.0
    assert a.cpu_by_stage_j == {"det": pytest.approx(120.0), "cls": pytest.approx(120.0)}
    assert a.gpu_by_stage_j == {"det": 250.0, "cls": 250.0}
    assert a.by_stage_j["det"] == pytest.approx(370.0)
    assert a.unattributed_j == pytest.approx(60.0)
    assert a.idle_j + sum(a.by_stage_j.values()) + a.unattributed_j == pytest.approx(m.energy_j)


def test_attribute_uses_model_idle_zone(clock, cpu):
    meter = get_meter("model", idle_w=20.0, active_w_per_core=5.0, cpu_time=cpu, clock=clock)
    meter.begin_window("w")
    clock.advance(10)
    cpu.busy_s += 8
    a = attribute(meter.end_window("w"), {"s1": 6.0, "s2": 2.0}, 8.0)
    assert a.idle_j == 200.0 and a.idle_w == 20.0
    assert a.cpu_by_stage_j == {"s1": 30.0, "s2": 10.0}
    assert a.unattributed_j == 0.0


def test_stage_attributor_with_real_process_times(clock, cpu):
    meter = ReplayMeter.constant({"package-0": 100.0}, clock=clock)
    att = StageAttributor(meter, {"me": [os.getpid()]}, idle_w=50.0, machine_cpu=cpu)
    att.begin_window("w")
    t = 0
    for i in range(300_000):  # burn a little CPU in this process
        t += i
    clock.advance(2.0)
    cpu.busy_s += 1000.0  # the machine was much busier than this process
    a = att.end_window("w")
    assert a.idle_j == 100.0
    assert a.cpu_s_by_stage["me"] >= 0.0
    assert a.by_stage_j["me"] <= 100.0 * a.cpu_s_by_stage["me"] / 1000.0 + 1e-9
