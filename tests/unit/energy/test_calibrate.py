from __future__ import annotations

import json

import pytest
from powercap_fake import add_zone, set_energy

from ipa_energy.energy import get_meter
from ipa_energy.energy.calibrate import CalibrationPoint, fit_power_model, run_steps
from ipa_energy.energy.power_models import load_power_model, save_power_model
from ipa_energy.errors import ConfigError

TRUE_IDLE_W = 42.0
TRUE_PER_CORE_W = 11.5


def test_fit_recovers_a_driven_fake_rapl_counter(tmp_path, clock, cpu):
    """The fake package counter is driven by a known model; the fit must recover it."""
    add_zone(tmp_path, "intel-rapl:0", "package-0")
    add_zone(tmp_path, "intel-rapl:0:2", "dram")
    meter = get_meter("rapl", root=tmp_path, clock=clock, guard=False)
    state = {"load": 0, "uj": 0}
    other_busy = [0.0, 0.3, 0.1, 0.2, 0.0]  # background activity the fit must see, not assume

    def wait(dt):
        busy = state["load"] + other_busy[state["load"]]
        state["uj"] += int((TRUE_IDLE_W + TRUE_PER_CORE_W * busy) * dt * 1e6)
        set_energy(tmp_path, "intel-rapl:0", state["uj"])
        set_energy(tmp_path, "intel-rapl:0:2", state["uj"] // 10)  # dram must not enter the fit
        cpu.busy_s += busy * dt
        clock.advance(dt)

    points = run_steps(meter, [0, 1, 2, 3, 4], step_s=10.0, settle_s=1.0,
                       set_load=lambda k: state.update(load=k), wait=wait, cpu=cpu)
    assert [p.load_cores for p in points] == [0, 1, 2, 3, 4]
    assert points[1].busy_cores == pytest.approx(1.3)
    cal = fit_power_model(points, name="fake", source="test")
    assert cal.model.idle_w == pytest.approx(TRUE_IDLE_W, abs=1e-3)
    assert cal.model.active_w_per_core == pytest.approx(TRUE_PER_CORE_W, abs=1e-3)
    assert cal.r2 == pytest.approx(1.0)
    # the written file is what the model meter accepts
    out = tmp_path / "pm.json"
    save_power_model(cal.model, out, calibration={"r2": cal.r2})
    assert load_power_model(out).idle_w == pytest.approx(TRUE_IDLE_W, abs=1e-3)
    m = get_meter("model", power_model=str(out), cpu_time=cpu, clock=clock)
    assert "fake" in (m.model or "")


def test_fit_needs_distinct_loads():
    p = CalibrationPoint(1, 1.0, 50.0, 10.0)
    with pytest.raises(ConfigError, match="two load levels"):
        fit_power_model([p, p], name="x", source="x")


def test_power_model_file_errors_name_file_and_field(tmp_path):
    bad = tmp_path / "pm.json"
    bad.write_text(json.dumps({"name": "x", "idle_w": -1, "active_w_per_core": 2}))
    with pytest.raises(ConfigError, match=r"pm.json: idle_w: .*greater than or equal to 0"):
        load_power_model(bad)
    bad.write_text(json.dumps({"name": "x", "idle_w": 1, "active_w_per_core": 2, "typo": 1}))
    with pytest.raises(ConfigError, match="typo: unknown key"):
        load_power_model(bad)


def test_table_matches_cpu_models():
    from ipa_energy.energy.power_models import from_table

    assert from_table(cpu_model="Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz", cores=40).name.startswith(
        "table:cascade-lake")
    assert from_table(cpu_model="Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz", cores=4).name.startswith(
        "table:broadwell")
    assert from_table(cpu_model="AMD EPYC 7742 64-Core Processor", cores=4).name.startswith("table:epyc-2nd-gen")
    avg = from_table(cpu_model="Intel(R) Xeon(R) Processor", cores=2)
    assert avg.name.startswith("table:average")
    # CCF average: 0.74 W min and 3.5 W max per vCPU -> idle 1.48 W, 2.76 W per busy core on 2 vCPUs
    assert avg.idle_w == pytest.approx(1.48) and avg.active_w_per_core == pytest.approx(2.76)
    assert "no table row matches" in avg.source
