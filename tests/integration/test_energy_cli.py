"""The ``ipa-energy energy`` commands as real processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).parents[1] / "unit" / "energy" / "data"
SHARED = Path("/work/shared/data/ipa/energy/ipa_ext")


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    r = subprocess.run([sys.executable, "-m", "ipa_energy.cli.main", "energy", *args],
                       capture_output=True, text=True, timeout=120)
    if check and r.returncode != 0:
        raise AssertionError(f"exit {r.returncode}: {r.stderr}")
    return r


def test_parse_json_recorded_perf_output():
    out = json.loads(cli("parse", str(DATA / "perf_interval.txt"), "--json").stdout)
    assert out["format"] == "perf-interval"
    pkg = out["domains"]["pkg"]
    assert (pkg["samples"], pkg["gaps"]) == (5, 1)
    assert pkg["energy_j"] == pytest.approx(74.55 + 77.22 + 1075.89 + 76.23 + 13.21)


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared data not present")
def test_parse_real_shared_log_agrees_with_the_extension_summary():
    out = json.loads(cli("parse", str(SHARED / "energy_logs" / "energy-video-mul-15.csv"), "--json").stdout)
    assert out["format"] == "shared-csv"
    assert out["domains"]["pkg"]["mean_power_w"] == pytest.approx(112.2, abs=0.05)  # RIM-high, steady_high


def test_parse_bad_file_is_one_line_exit_2(tmp_path):
    p = tmp_path / "junk.txt"
    p.write_text("nothing here\n")
    r = cli("parse", str(p), check=False)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "junk.txt" in r.stderr


def test_measure_model_json_and_log(tmp_path):
    log = tmp_path / "m.csv"
    r = cli("measure", "--meter", "model", "--idle-w", "10", "--active-w-per-core", "3", "--interval-s", "0.2",
            "--log", str(log), "--json", "--", sys.executable, "-c", "import time; time.sleep(0.6)")
    out = json.loads(r.stdout)
    assert out["source"] == "model" and out["quality"] == "estimated"
    assert "idle 10 W + 3 W/busy core" in out["model"]
    assert out["zones"]["cpu-idle"] == pytest.approx(10 * out["duration_s"], rel=1e-6)
    assert out["energy_j"] == pytest.approx(out["zones"]["cpu-idle"] + out["zones"]["cpu-active"])
    assert out["duration_s"] >= 0.6 and out["exit_code"] == 0
    parsed = json.loads(cli("parse", str(log), "--json").stdout)
    assert parsed["format"] == "ipa-energy-log"
    assert parsed["domains"]["cpu"]["samples"] >= 3


def test_measure_rapl_fake_tree_counts_each_domain_once(tmp_path):
    sys.path.insert(0, str(DATA.parent))
    from powercap_fake import intel_two_sockets

    root = intel_two_sockets(tmp_path / "pc")
    # the command itself moves the fake counters: package-0 +30 J, its core +20 J, dram +4 J, psys +99 J
    script = (
        f"from pathlib import Path; r = Path({str(root)!r})\n"
        "for d, uj in [('intel-rapl:0', 30_000_000), ('intel-rapl:0:0', 20_000_000),"
        " ('intel-rapl:0:2', 4_000_000), ('intel-rapl:2', 99_000_000)]:\n"
        "    (r / d / 'energy_uj').write_text(str(uj))\n"
    )
    out = json.loads(cli("measure", "--meter", "rapl", "--powercap-root", str(root), "--json", "--",
                         sys.executable, "-c", script).stdout)
    assert out["source"] == "rapl" and out["quality"] == "measured"
    assert out["energy_j"] == pytest.approx(34.0)
    assert out["zones"]["package-0/core"] == pytest.approx(20.0)
    assert out["zones"]["psys"] == pytest.approx(99.0)
    assert "psys" not in out["counted_zones"]


def test_measure_passes_the_exit_status_and_unavailable_meter_is_exit_2(tmp_path):
    r = cli("measure", "--meter", "model", "--", sys.executable, "-c", "raise SystemExit(3)", check=False)
    assert r.returncode == 3
    r = cli("measure", "--meter", "rapl", "--powercap-root", str(tmp_path), "--", "true", check=False)
    assert r.returncode == 2 and "no RAPL zones" in r.stderr


def test_monitor_for_a_duration():
    r = cli("monitor", "--meter", "model", "--interval-s", "0.2", "--duration", "0.7")
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("t=")]
    assert len(lines) >= 3 and "[model estimated]" in lines[0]


def test_plot_overlays_runs(tmp_path):
    out = tmp_path / "fig.png"
    logs = [str(DATA / "perf_interval.txt"), str(DATA / "perf_csv.txt")]
    cli("plot", *logs, "--smooth", "rolling:2", "--out", str(out))
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_calibrate_without_rapl_fails_clearly(tmp_path):
    r = cli("calibrate", "--powercap-root", str(tmp_path / "none"), "--out", str(tmp_path / "pm.json"),
            check=False)
    assert r.returncode == 2
    assert "calibrate needs RAPL" in r.stderr and "does not exist" in r.stderr
    assert not (tmp_path / "pm.json").exists()
