from __future__ import annotations

import os
import shutil
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ipa_energy.energy import get_meter
from ipa_energy.energy.perf import available_events
from ipa_energy.errors import MeterUnavailable


def fake_pmu(root: Path, events=("energy-pkg", "energy-ram")) -> Path:
    d = root / "power" / "events"
    d.mkdir(parents=True)
    for e in events:
        (d / e).write_text("event=0x02\n")
        (d / f"{e}.scale").write_text("2.3283064365386962890625e-10\n")
        (d / f"{e}.unit").write_text("Joules\n")
    return root


def fake_perf(tmp_path: Path, body: str) -> str:
    """An executable standing in for perf: prints recorded -x, lines on stderr (test helper)."""
    p = tmp_path / "perf"
    p.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
    p.chmod(0o755)
    return str(p)


STREAM = """
import signal, sys, time
signal.signal(signal.SIGINT, lambda *a: sys.exit(0))
t = 0.0
lines = [("74.55", "15.04"), ("<not counted>", "15.10"), ("75.89", "15.07")]
sys.stderr.write("# started on Fri Nov 29 03:10:31 2024\\n\\n")
for pkg, ram in lines:
    time.sleep(0.05)
    t += 0.05
    sys.stderr.write(f"{t:.9f},{pkg},Joules,power/energy-pkg/,50000000,100.00,,\\n")
    sys.stderr.write(f"{t:.9f},{ram},Joules,power/energy-ram/,50000000,100.00,,\\n")
    sys.stderr.flush()
time.sleep(30)
"""


def test_live_parse_of_a_perf_child(tmp_path, clock):
    perf = fake_perf(tmp_path, STREAM)
    m = get_meter("perf", perf_cmd=perf, pmu_root=fake_pmu(tmp_path / "pmu"), interval_ms=50, clock=clock)
    try:
        assert [z.name for z in m.zones()] == ["pkg", "ram"]
        deadline = time.monotonic() + 5
        while m.intervals < 6 and time.monotonic() < deadline:
            time.sleep(0.02)
        r = m.read()
        assert r.energy_j["pkg"] == pytest.approx(74.55 + 75.89)  # the <not counted> interval is a gap
        assert r.energy_j["ram"] == pytest.approx(15.04 + 15.10 + 15.07)
        assert m.gaps == {"pkg": 1, "ram": 0}
        assert "-x" in m.command and "power/energy-pkg/,power/energy-ram/" in m.command
    finally:
        m.close()
    assert m._proc.poll() is not None  # the child was stopped


def test_perf_error_output_is_reported(tmp_path):
    perf = fake_perf(tmp_path, """
        import sys
        sys.stderr.write("event syntax error: 'power/energy-pkg/'\\n")
        sys.exit(1)
    """)
    with pytest.raises(MeterUnavailable, match="event syntax error"):
        get_meter("perf", perf_cmd=perf, pmu_root=fake_pmu(tmp_path / "pmu"), startup_timeout_s=2)


def test_unavailable_reasons(tmp_path):
    with pytest.raises(MeterUnavailable, match="not found"):
        get_meter("perf", perf_cmd=str(tmp_path / "no-perf"))
    with pytest.raises(MeterUnavailable, match="no 'power' PMU"):
        available_events(tmp_path)
    pmu = fake_pmu(tmp_path / "pmu", events=("energy-psys",))
    assert available_events(pmu) == ("energy-psys",)
    perf = fake_perf(tmp_path, "import time; time.sleep(5)\n")
    with pytest.raises(MeterUnavailable, match="not offered"):
        get_meter("perf", perf_cmd=perf, pmu_root=pmu, events=["energy-pkg"])


@pytest.mark.skipif(
    shutil.which("perf") is None or not Path("/sys/bus/event_source/devices/power/events").is_dir()
    or os.geteuid() != 0,
    reason="needs perf, the power PMU and root",
)
def test_real_perf_child_runs_and_parses():
    m = get_meter("perf", interval_ms=50)
    try:
        deadline = time.monotonic() + 5
        while m.intervals < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert m.intervals >= 2
        r = m.read()
        assert set(r.energy_j) <= {z.name for z in m.zones()}
    finally:
        m.close()
