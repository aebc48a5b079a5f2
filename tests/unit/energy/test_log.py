from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from ipa_energy.energy import ReplayMeter, Sampler
from ipa_energy.energy.formats import parse_log
from ipa_energy.energy.log import COLUMNS, EnergyLog
from ipa_energy.errors import ConfigError


def test_log_round_trip_with_gap(tmp_path, clock):
    m = ReplayMeter([1.0, 2.0, 3.0], {"package-0": [50.0, None, 70.0], "package-0/dram": [5.0, 6.0, 7.0]},
                    clock=clock)
    path = tmp_path / "e.csv"
    s = Sampler(m, 1.0)
    with EnergyLog(path, m) as log:
        s._on_sample = log.write
        s.step()
        for _ in range(3):
            clock.advance(1.0)
            s.step()
    lines = path.read_text().splitlines()
    assert lines[0] == ",".join(COLUMNS)
    assert len(lines) == 1 + 3 * 2
    parsed = parse_log(path)
    assert parsed.format == "ipa-energy-log"
    pkg = parsed.domains["pkg"]
    # the read at t=2 falls at the end of the gap interval: both intervals touching the gap are gaps
    assert pkg.gaps >= 1
    assert parsed.domains["ram"].total_energy_j == pytest.approx(18.0)
    assert parsed.extra["quality"] == "replayed"


def test_unwritable_log_names_the_file(tmp_path, clock):
    m = ReplayMeter.constant({"package-0": 1.0}, clock=clock)
    with pytest.raises(ConfigError, match="nope"):
        EnergyLog(tmp_path / "nope" / "e.csv", m)


def test_killed_run_leaves_a_valid_log(tmp_path):
    """A child samples at 20 Hz into a log; SIGKILL it mid-run; the log must parse and add up."""
    path = tmp_path / "killed.csv"
    script = textwrap.dedent(f"""
        import time
        from ipa_energy.energy import ReplayMeter, Sampler
        from ipa_energy.energy.log import EnergyLog
        m = ReplayMeter.constant({{"package-0": 80.0, "package-0/dram": 10.0}})
        log = EnergyLog({str(path)!r}, m)
        Sampler(m, 0.05, on_sample=log.write).start()
        print("started", flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "started"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (not path.exists() or path.read_text().count("\n") < 12):
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    parsed = parse_log(path)
    pkg = parsed.domains["pkg"]
    assert pkg.samples >= 5 and pkg.gaps == 0
    assert pkg.mean_power_w == pytest.approx(80.0, rel=1e-3)
    assert parsed.domains["ram"].mean_power_w == pytest.approx(10.0, rel=1e-3)
