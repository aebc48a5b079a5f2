"""The segment pipeline end to end: the simulator, and the local executor serving the trained unet family
with each request scored by its IoU (reported as the run's accuracy, like digits')."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def _cli(*args: str, timeout: float = 240) -> dict:  # type: ignore[type-arg]
    proc = subprocess.run([sys.executable, "-m", "ipa_energy.cli.main", *args, "--json"],
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    out: dict = json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[type-arg]
    return out


def test_simulate_segment(tmp_path: Path) -> None:
    r = _cli("simulate", "--pipeline", "segment", "--workload", "steady_low", "--predictor", "reactive",
             "--duration-s", "120", "--out", str(tmp_path))
    assert r["sent"] > 0 and r["sent"] == r["completed"] + r["dropped"] + r["failed"] + r.get("in_flight", 0)


def test_serve_segment_reports_measured_iou(tmp_path: Path) -> None:
    r = _cli("serve", "--pipeline", "segment", "--backend", "local", "--workload", "steady_low",
             "--duration", "12", "--system", "fa2-high", "--predictor", "reactive", "--load-scale", "0.2",
             "--out", str(tmp_path))
    assert r["completed"] > 0 and r["failed"] == 0
    # fa2-high fixes unet-l: its requests are scored by matched mean IoU on held-out scenes
    assert 0.5 < r["accuracy"] <= 1.0


def test_profile_last_stage_runs_only_the_selected_variant() -> None:
    """The last stage needs no outputs for a next stage: only the selected variant runs (SAM, listed
    after it, would take minutes per image)."""
    proc = subprocess.run(
        [sys.executable, "-m", "ipa_energy.cli.main", "profile", "--pipeline", "segment", "--variants", "unet-s",
         "--batches", "1", "--repeats", "2", "--warmup", "0", "--json"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    points = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert [(p["variant"], p["batch"], p["repeats"]) for p in points] == [("unet-s", 1, 2)]
    assert points[0]["weights"].startswith("trained")
