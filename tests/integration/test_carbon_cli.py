"""`ipa-energy simulate` with a carbon trace and a power cap, as a user runs it (subprocesses)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "ipa_energy.cli.main"]
BASE = ["simulate", "--pipeline", "video", "--workload", "bursty", "--predictor", "reactive", "--duration-s", "200"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300)


def test_simulate_carbon_trace_json_is_energy_times_constant_intensity(tmp_path: Path) -> None:
    trace = tmp_path / "flat.csv"
    trace.write_text("t_s,g_co2_per_kwh\n0,420\n3600,420\n")
    out = tmp_path / "out"
    p = _run(*BASE, "--carbon-trace", str(trace), "--out", str(out), "--json")
    assert p.returncode == 0, p.stderr
    m = json.loads(p.stdout)
    assert m["carbon_g"] == pytest.approx(m["energy_j"] * 420 / 3.6e6, rel=1e-12)
    assert "flat.csv" in m["carbon_source"] and m["energy_source"].startswith("model (estimated")
    assert sum(s["carbon_g"] for s in m["stages"]) + m["unattributed_carbon_g"] == pytest.approx(m["carbon_g"])
    rows = list(csv.DictReader(next(out.glob("*_timeline.csv")).open()))
    assert {r["intensity_g_per_kwh"] for r in rows} == {"420"}
    assert sum(float(r["carbon_g"]) for r in rows) == pytest.approx(m["carbon_g"], rel=1e-5)
    # the same through the constant spelling
    q = _run(*BASE, "--carbon-intensity", "420", "--json")
    assert json.loads(q.stdout)["carbon_g"] == pytest.approx(m["carbon_g"], rel=1e-12)


def test_simulate_power_cap_reports_time_above_and_planned_power(tmp_path: Path) -> None:
    out = tmp_path / "out"
    p = _run(*BASE, "--power-cap", "8.5", "--out", str(out), "--json")
    assert p.returncode == 0, p.stderr
    m = json.loads(p.stdout)
    assert m["power_cap_source"] == "constant 8.5 W"
    assert {"time_above_cap_s", "energy_above_cap_j", "planned_power_max_w", "over_cap_intervals"} <= set(m)
    rows = list(csv.DictReader(next(out.glob("*_decisions.csv")).open()))
    over = [r for r in rows if r["planned_above_cap"] == "1"]
    assert len(over) == m["planned_above_cap_intervals"] == m["over_cap_intervals"] + m["fallback_intervals"]
    assert all(float(r["planned_power_w"]) <= 8.5 * (1 + 1e-9) for r in rows if r["planned_above_cap"] == "0")


@pytest.mark.parametrize(
    ("args", "needle"),
    [(["--carbon-trace", "nope.csv"], "nope.csv: no such file"),
     (["--carbon", "constant:300", "--carbon-intensity", "3"], "--carbon-intensity: give one carbon source"),
     (["--carbon", "sunny"], "carbon: unknown carbon source 'sunny'"),
     (["--power-cap", "0"], "power_cap: must be a positive number of W"),
     (["--system", "ipa", "--carbon-intensity", "3", "--carbon-lambda", "0.5"], "carbon_options: apply only")],
)
def test_bad_carbon_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], needle: str) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("t_s,g_co2_per_kwh\n0,100\n10,-1\n")
    p = _run(*BASE, *args)
    assert p.returncode == 2 and needle in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
    q = _run(*BASE, "--carbon-trace", str(bad))
    assert q.returncode == 2 and "line 3: g_co2_per_kwh: must be >= 0" in q.stderr
