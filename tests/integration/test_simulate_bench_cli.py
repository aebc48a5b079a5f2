"""`ipa-energy simulate` and `ipa-energy bench` as a user runs them (subprocesses, short runs)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

CLI = [sys.executable, "-m", "ipa_energy.cli.main"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300)


def test_simulate_json_accounts_for_every_request() -> None:
    p = _run("simulate", "--pipeline", "video", "--workload", "bursty", "--system", "ipa",
             "--predictor", "reactive", "--duration-s", "200", "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    from ipa_energy.runs.metrics import METRIC_COLUMNS

    assert set(METRIC_COLUMNS) | {"stages", "reconfigurations", "interrupted", "predictor"} == set(out)
    assert out["energy_source"].startswith("model (estimated")
    assert out["energy_scope"].startswith("allocated cores")
    # the run drains after the trace: every request is accounted for
    assert out["sent"] == out["completed"] + out["dropped"] + out["failed"] + out["in_flight"]
    assert out["in_flight"] == 0 and out["failed"] == 0
    assert out["served_s"] >= 200
    assert out["completed"] > 0.9 * out["sent"]
    assert out["energy_j"] > 0 and abs(out["mean_power_w"] - out["energy_j"] / out["served_s"]) < 1e-6
    # energy with its scope: idle + dynamic = total; stages + unattributed = total
    assert abs(out["idle_energy_j"] + out["dynamic_energy_j"] - out["energy_j"]) < 1e-6 * out["energy_j"]
    staged = sum(x["energy_j"] for x in out["stages"]) + out["unattributed_energy_j"]
    assert abs(staged - out["energy_j"]) < 1e-6 * out["energy_j"]
    assert [x["stage"] for x in out["stages"]] == ["crop", "classification"]


def test_simulate_rejects_unknown_names_listing_valid_ones() -> None:
    p = _run("simulate", "--workload", "nope", "--duration-s", "10")
    assert p.returncode == 2
    assert "bursty" in p.stderr and "Traceback" not in p.stderr
    p = _run("simulate", "--system", "fa3", "--duration-s", "10")
    assert p.returncode == 2 and "fa2-high" in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_bench_writes_summary_timelines_plots_report_and_config(tmp_path: Path) -> None:
    exp = tmp_path / "exp.yaml"
    exp.write_text(
        "name: smoke\nworkloads: [bursty]\nsystems: [ipa, fa2-high]\npredictors: [reactive]\n"
        "duration_s: 120\nenergy_sweep: {energy_weights: [0, 0.1]}\nworkers: 1\n"
    )
    out = tmp_path / "out"
    p = _run("bench", "--out", str(out), "--config", str(exp), "--no-progress")
    assert p.returncode == 0, p.stderr
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert [(r["group"], r["label"]) for r in rows] == [
        ("main", "ipa"), ("main", "fa2-high"), ("energy-sweep", "ipa-energy energy=0"),
        ("energy-sweep", "ipa-energy energy=0.1"),
    ]
    for col in ("workload", "system", "sent", "completed", "dropped", "sla_violation_pct", "pas",
                "cost_cores", "energy_j", "mean_power_w", "latency_p50_s", "latency_p99_s"):
        assert col in rows[0]
    assert len(list((out / "timelines").glob("*.csv"))) == 4
    assert len(list((out / "decisions").glob("*.csv"))) == 4
    timeline = list(csv.DictReader(next((out / "timelines").glob("main_*ipa_*.csv")).open()))
    assert len(timeline) >= 120  # the trace, then the drain (no arrivals)
    assert all(int(r["arrivals"]) == 0 for r in timeline[120:])
    assert len(list((out / "energy").glob("*.csv"))) == 4
    assert (out / "plots" / "energy_video_bursty_reactive_0.png").stat().st_size > 10_000
    report = (out / "report.md").read_text()
    assert "FA2-high draws more power than IPA" in report and "energy_weight_sweep.png" in report
    assert "smoke" in (out / "config.resolved.yaml").read_text()


def test_bench_bad_config_is_one_line_exit_2(tmp_path: Path) -> None:
    exp = tmp_path / "exp.yaml"
    exp.write_text("workloads: [bursty]\nsystemz: [ipa]\n")
    p = _run("bench", "--out", str(tmp_path / "o"), "--config", str(exp))
    assert p.returncode == 2
    assert p.stderr.strip() == f"error: {exp}: systemz: unknown key"


def test_bench_unknown_system_fails_before_running(tmp_path: Path) -> None:
    exp = tmp_path / "exp.yaml"
    exp.write_text("workloads: [bursty]\nsystems: [ipa, fa9]\n")
    p = _run("bench", "--out", str(tmp_path / "o"), "--config", str(exp))
    assert p.returncode == 2
    assert "systems[1]: unknown system 'fa9'; valid:" in p.stderr and "rim-low" in p.stderr
    assert not (tmp_path / "o" / "summary.csv").exists()


def test_bench_ctrl_c_keeps_finished_runs_and_lists_the_rest(tmp_path: Path) -> None:
    import json
    import signal
    import time

    exp = tmp_path / "exp.yaml"
    exp.write_text(
        "workloads: [bursty, steady_high, fluctuating]\nsystems: [ipa, fa2-low, fa2-high, rim-high]\n"
        "predictors: [reactive]\nseeds: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\nload_scale: 10\n"
        "energy_sweep: {enabled: false}\nworkers: 2\n"
    )
    out = tmp_path / "out"
    proc = subprocess.Popen([*CLI, "bench", "--out", str(out), "--config", str(exp), "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(8.0)  # 120 runs take far longer; some have finished by now
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 130, stderr
    assert "not run (interrupted)" in stdout
    done = list(csv.DictReader((out / "summary.csv").open()))
    skipped = json.loads((out / "failures.json").read_text())
    assert all("interrupted" in f["error"] for f in skipped)
    assert len(done) + len(skipped) == 120 and len(skipped) > 0
    assert "Failed or interrupted runs" in (out / "report.md").read_text()
