"""``ipa-energy serve --backend ray`` as a real process: it starts its own Ray instance, serves, stops on a
Ctrl-C sent to its whole process group (as a terminal does: Ray's services get it too) by draining
(exit 130, nothing failed, everything written) and leaves no Ray process behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("ray.serve", reason='the ray backend needs Ray Serve: pip install "ipa-energy[ray]"')

pytestmark = pytest.mark.slow


def _ray_processes() -> set[str]:
    """Live Ray processes (gcs, raylet, workers, agents) as "pid args" lines."""
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout.splitlines()
    keys = ("raylet", "gcs_server", "ray::", "dashboard/agent", "log_monitor", "runtime_env/agent")
    return {line.strip() for line in out[1:] if any(k in line for k in keys)}


def test_serve_ray_stops_on_ctrl_c_and_leaves_no_ray_process(tmp_path: Path) -> None:
    from ipa_energy.models import ModelSpec, prepare

    cache = tmp_path / "cache"
    for name in ("digits-loc-s", "digits-cls-s"):  # what fa2-low runs
        prepare(ModelSpec("digits", name, str(cache)))
    out = tmp_path / "out"
    before = _ray_processes()
    cmd = [sys.executable, "-m", "ipa_energy.cli.main", "serve", "--pipeline", "digits", "--workload", "steady_low",
           "--duration", "60", "--system", "fa2-low", "--predictor", "reactive", "--backend", "ray",
           "--cache-dir", str(cache), "--out", str(out), "--json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert proc.stderr is not None
        for line in proc.stderr:  # Ray's log lines come first
            if line.startswith("serving digits"):
                break
        else:
            raise AssertionError(proc.communicate())
        assert _ray_processes() - before, "the check would not see Ray's processes"
        time.sleep(8.0)
        assert proc.poll() is None
        os.killpg(proc.pid, signal.SIGINT)  # its own session: the group is the CLI and Ray's services
        stdout, stderr = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, (stdout, stderr[-3000:])
    r = json.loads(stdout.strip().splitlines()[-1])
    assert r["interrupted"] is True
    assert r["sent"] > 0 and r["failed"] == 0
    assert r["sent"] == r["completed"] + r["dropped"] + r["failed"] + r["in_flight"]
    for key in ("accuracy", "latency_p50_s", "latency_p99_s", "energy_j", "idle_energy_j", "dynamic_energy_j",
                "unattributed_energy_j", "stages", "energy_scope", "energy_source", "reconfigurations"):
        assert key in r, key
    assert r["energy_scope"].startswith("Ray node(s)")
    assert (out / next(p.name for p in out.glob("*_summary.json"))).exists()
    time.sleep(2.0)
    assert _ray_processes() - before == set()
