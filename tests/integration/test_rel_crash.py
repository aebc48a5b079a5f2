"""Crashes (issue 14): bench and serve killed mid-run keep their per-second records on disk, readable
by ``ipa-energy energy parse``, and leave no process behind; bench's SIGTERM drains and exits 143;
a re-run into a folder holding an earlier run's files is refused unless --overwrite."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

psutil = pytest.importorskip("psutil")

CLI = [sys.executable, "-m", "ipa_energy.cli.main"]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}
SWEEP = ("workloads: [bursty, steady_high, fluctuating]\nsystems: [ipa, fa2-low, fa2-high, rim-high]\n"
         "predictors: [reactive]\nseeds: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\nload_scale: 10\n"
         "energy_sweep: {enabled: false}\nworkers: 2\n")


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _all_gone(procs: list[psutil.Process], timeout_s: float = 15.0) -> list[int]:
    _gone, alive = psutil.wait_procs(procs, timeout=timeout_s)
    return [p.pid for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def _parse(path: Path) -> dict[str, object]:
    p = subprocess.run([*CLI, "energy", "parse", str(path), "--json"], capture_output=True, text=True, env=ENV)
    assert p.returncode == 0, p.stderr
    out: dict[str, object] = json.loads(p.stdout)
    return out


def _start_bench(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen[str], Path]:
    exp = tmp_path / "exp.yaml"
    exp.write_text(SWEEP)
    out = tmp_path / "out"
    proc = subprocess.Popen([*CLI, "bench", "--out", str(out), "--config", str(exp), "--no-progress", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    return proc, out


def _wait_for(pred: object, timeout_s: float) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        if pred():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


@pytest.mark.slow
def test_bench_sigterm_drains_writes_and_exits_143(tmp_path: Path) -> None:
    proc, out = _start_bench(tmp_path)
    _wait_for(lambda: any((out / "timelines").glob("*.csv")) if (out / "timelines").exists() else False, 120)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 143, stderr
    assert "not run (interrupted)" in stdout
    assert (out / "report.md").exists() and (out / "summary.csv").exists()
    skipped = json.loads((out / "failures.json").read_text())
    assert skipped and all("interrupted" in f["error"] for f in skipped)


def test_bench_sigkill_leaves_no_worker_and_readable_records(tmp_path: Path) -> None:
    proc, out = _start_bench(tmp_path)
    try:
        _wait_for(lambda: len(_descendants(proc.pid)) >= 2 and (out / "runs").exists()
                  and any((out / "runs").glob("*_energy.csv")), 120)
        time.sleep(1.0)
        workers = _descendants(proc.pid)
        proc.kill()
        proc.wait(10)
        assert _all_gone(workers) == []  # no pool worker outlives the killed parent
    finally:
        if proc.poll() is None:
            proc.kill()
    logs = list((out / "runs").glob("*_energy.csv")) + list((out / "energy").glob("*.csv"))
    assert logs
    parsed = _parse(logs[0])
    assert parsed["format"] == "ipa-energy-run"


def test_rerun_into_an_earlier_runs_folder_needs_overwrite(tmp_path: Path) -> None:
    exp = tmp_path / "exp.yaml"
    exp.write_text("workloads: [steady_low]\nsystems: [ipa]\npredictors: [reactive]\nduration_s: 30\n"
                   "energy_sweep: {enabled: false}\nworkers: 1\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "my-notes.txt").write_text("keep me")  # not a bench output: never touched
    args = [*CLI, "bench", "--out", str(out), "--config", str(exp), "--no-progress"]
    first = subprocess.run(args, capture_output=True, text=True, env=ENV)
    assert first.returncode == 0, first.stderr
    (out / "timelines" / "stale-from-an-old-run.csv").write_text("t_s\n")
    before = (out / "summary.csv").stat().st_mtime_ns
    again = subprocess.run(args, capture_output=True, text=True, env=ENV)
    assert again.returncode == 2
    assert again.stderr.count("\n") == 1 and "--overwrite" in again.stderr and "Traceback" not in again.stderr
    assert (out / "summary.csv").stat().st_mtime_ns == before  # nothing touched
    forced = subprocess.run([*args, "--overwrite"], capture_output=True, text=True, env=ENV)
    assert forced.returncode == 0, forced.stderr
    assert not (out / "timelines" / "stale-from-an-old-run.csv").exists()  # old and new never mix
    assert (out / "my-notes.txt").read_text() == "keep me"


@pytest.fixture(scope="module")
def cheap_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ipa_energy.models import ModelSpec, prepare

    path = tmp_path_factory.getbasetemp() / "digits-cache-rel"
    for name in ("digits-loc-s", "digits-cls-s"):  # what the fa2-low preset runs
        prepare(ModelSpec("digits", name, str(path)))
    return path


@pytest.mark.slow
def test_serve_prometheus_replaced_worker_and_sigkill(cheap_cache: Path, tmp_path: Path) -> None:
    """One live serve: metrics on the port it printed, a killed replica reported when it happens, then
    SIGKILL: per-second records parse and no process of the run is left."""
    out = tmp_path / "out"
    cmd = [*CLI, "serve", "--pipeline", "digits", "--workload", "steady_low", "--duration-s", "120",
           "--system", "fa2-low", "--predictor", "reactive", "--interval-s", "2", "--cache-dir", str(cheap_cache),
           "--out", str(out), "--prometheus-port", "0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        assert proc.stderr is not None
        port_line = proc.stderr.readline()
        m = re.search(r"127\.0\.0\.1:(\d+)/metrics", port_line)
        assert m, port_line + proc.communicate(timeout=30)[1]
        port = int(m.group(1))
        assert port > 0
        line = proc.stderr.readline()
        assert line.startswith("serving digits"), line
        assert "PipelineConfig(" not in line  # no Python reprs
        time.sleep(6.0)
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
        assert re.search(r'ipa_energy_requests_total\{outcome="completed"\} [1-9]', text), text
        assert "ipa_energy_request_latency_seconds_bucket" in text
        assert re.search(r'ipa_energy_run_joules_total\{part="total",source="[^"]+"\}', text)
        assert 'ipa_energy_run_joules_total{part="stage:' in text
        assert "ipa_energy_stage_replicas{" in text
        # kill one replica: the server says so when it happens
        forkservers = [c for c in psutil.Process(proc.pid).children() if c.children()]
        replicas = [w for fs in forkservers for w in fs.children()]
        assert replicas, "no replica processes found"
        os.kill(replicas[0].pid, signal.SIGKILL)
        _wait_for(lambda: proc.stderr is not None and "warning: replica" in proc.stderr.readline(), 30)
        time.sleep(2.0)
        everything = _descendants(proc.pid)
        proc.kill()
        proc.wait(10)
        assert _all_gone(everything) == []
    finally:
        if proc.poll() is None:
            proc.kill()
    energy = next(out.glob("*_energy.csv"))
    parsed = _parse(energy)
    assert parsed["format"] == "ipa-energy-run"
    total = parsed["domains"]["total"]  # type: ignore[index]
    assert total["samples"] >= 3  # every finished second was on disk at the kill
    assert len(next(out.glob("*_timeline.csv")).read_text().splitlines()) >= 4
