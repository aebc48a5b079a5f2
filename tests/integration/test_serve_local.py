"""``ipa-energy serve`` as a real process: Ctrl-C (SIGINT) stops it gracefully with everything written."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def cheap_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ipa_energy.models import ModelSpec, prepare

    path = tmp_path_factory.getbasetemp() / "digits-cache"
    for name in ("digits-loc-s", "digits-cls-s"):  # what the fa2-low preset runs
        prepare(ModelSpec("digits", name, str(path)))
    return path


def test_sigint_stops_serve_gracefully(cheap_cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    cmd = [
        sys.executable, "-m", "ipa_energy.cli.main", "serve", "--pipeline", "digits", "--workload",
        "steady_low", "--duration", "60", "--system", "fa2-low", "--predictor", "reactive",
        "--cache-dir", str(cheap_cache), "--out", str(out), "--json",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()  # printed once the warm replicas start serving
        assert line.startswith("serving digits"), line + proc.communicate()[1]
        time.sleep(3.0)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, (stdout, stderr)
    result = json.loads(stdout.strip().splitlines()[-1])
    assert result["interrupted"] is True
    assert result["sent"] > 0
    assert result["sent"] == result["completed"] + result["dropped"] + result["failed"] + result["in_flight"]
    assert result["failed"] == 0
    summary = json.loads(next(out.glob("*_summary.json")).read_text())
    assert summary["metrics"]["sent"] == result["sent"]
    timeline = next(out.glob("*_timeline.csv")).read_text().splitlines()
    assert len(timeline) >= 2 and timeline[0].startswith("t_s,")
    energy = next(out.glob("*_energy.csv")).read_text().splitlines()
    assert "locate_energy_j" in energy[0]


def test_serve_with_carbon_and_the_default_core_budget(cheap_cache: Path, tmp_path: Path) -> None:
    """A live run under a constant grid intensity: carbon_g is its energy at that intensity, and the
    decisions were planned within this machine's cores (``--max-cores auto``)."""
    out = tmp_path / "out"
    cmd = [
        sys.executable, "-m", "ipa_energy.cli.main", "serve", "--pipeline", "digits", "--workload",
        "steady_low", "--duration", "8", "--system", "fa2-low", "--predictor", "reactive", "--interval-s", "4",
        "--carbon-intensity", "400", "--cache-dir", str(cheap_cache), "--out", str(out), "--json",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["sent"] > 0 and result["failed"] == 0
    assert result["energy_j"] > 0
    assert result["carbon_g"] == pytest.approx(result["energy_j"] * 400 / 3.6e6, rel=1e-6)
    spec = json.loads(next(out.glob("*_spec.json")).read_text())
    assert spec["max_cores"] == os.cpu_count()
