from __future__ import annotations

import math
from pathlib import Path

import pytest

from ipa_energy.energy.formats import detect_format, parse_log, parse_number, parse_text
from ipa_energy.errors import ConfigError

DATA = Path(__file__).parent / "data"
SHARED = Path("/work/shared/data/ipa/energy/ipa_ext")


@pytest.mark.parametrize(
    ("text", "value"),
    [("74.55", 74.55), ("1,075.89", 1075.89), ("1.075,89", 1075.89), ("74,55", 74.55),
     ("1'234.50", 1234.5), ("12,345,678.90", 12345678.9), ("1,234", 1234.0), ("", None),
     ("<not counted>", None), ("abc", None)],
)
def test_parse_number_locales(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize("name", ["perf_interval.txt", "perf_interval_de.txt"])
def test_perf_interval_gaps_separators_and_short_last_interval(name):
    log = parse_log(DATA / name)
    assert log.format == "perf-interval"
    assert log.started == "Fri Nov 29 03:10:31 2024"
    pkg, ram = log.domains["pkg"], log.domains["ram"]
    # pkg: 74.55, 77.22, 1075.89, <no value>, 76.23, 13.21 (short last interval)
    assert pkg.samples == 5 and pkg.gaps == 1
    assert math.isnan(pkg.energy_j[3])
    assert pkg.total_energy_j == pytest.approx(74.55 + 77.22 + 1075.89 + 76.23 + 13.21)
    assert pkg.interval_s[-1] == pytest.approx(5.176307 - 5.000974081)
    # covered time excludes the gap interval (3.000563506 .. 4.000764728)
    assert pkg.covered_s == pytest.approx(5.176307 - (4.000764728 - 3.000563506))
    assert pkg.mean_power_w == pytest.approx(pkg.total_energy_j / pkg.covered_s)
    # ram: 15.04, <not counted>, <not supported>, no unit (the event says Joules: kept, flagged), 15.14, 2.66
    # -> 4 samples, 2 gaps, never zeros
    assert ram.samples == 4 and ram.gaps == 2 and ram.flagged == 1
    assert ram.total_energy_j == pytest.approx(15.04 + 15.09 + 15.14 + 2.66)
    assert any("without a unit" in n and "flagged" in n and n.startswith("line 12") for n in log.notes)
    assert any("<not counted>" in n for n in log.notes)


def test_perf_csv_format():
    log = parse_log(DATA / "perf_csv.txt")
    assert log.format == "perf-csv"
    pkg = log.domains["pkg"]
    assert pkg.samples == 3 and pkg.gaps == 1
    assert pkg.total_energy_j == pytest.approx(74.55 + 75.89 + 13.21)
    assert log.domains["psys"].gaps == 1 and log.domains["psys"].samples == 0
    assert log.domains["psys"].mean_power_w is None
    assert log.domains["ram"].interval_s[-1] == pytest.approx(3.17687 - 3.000563506)


def test_perf_tsv_with_header_no_value_no_unit_and_truncated_line():
    log = parse_log(DATA / "perf_tsv.txt")
    assert log.format == "perf-tsv"
    pkg = log.domains["pkg"]
    assert list(pkg.valid) == [True, True, False, True, True]  # the unitless 72.61 is kept, flagged
    assert pkg.flagged == 1
    assert pkg.total_energy_j == pytest.approx(73.15 + 72.59 + 72.61 + 71.34)
    assert any(n.startswith("line 8") and "skipped" in n for n in log.notes)


def test_perf_blocks_rebuilds_time_from_elapsed():
    log = parse_log(DATA / "perf_blocks.txt")
    assert log.format == "perf-blocks"
    pkg = log.domains["pkg"]
    assert pkg.samples == 3 and pkg.gaps == 1
    assert pkg.t_s[-1] == pytest.approx(1.001366471 + 1.001223707 + 1.004896310 + 1.001443249)
    assert pkg.total_energy_j == pytest.approx(0.62 + 0.64 + 1.47)
    assert any("no 'seconds time elapsed'" in n for n in log.notes)


def test_shared_csv_form_and_gaps():
    text = "t_s,interval_s,pkg_J,ram_J\n1.0,1.0,70.0,15.0\n2.0,1.0,,15.5\n2.5,0.5,40.0,7.0\n"
    log = parse_text(text)
    assert log.format == "shared-csv"
    assert log.domains["pkg"].gaps == 1
    assert log.domains["pkg"].mean_power_w == pytest.approx(110 / 1.5)
    assert log.domains["ram"].mean_power_w == pytest.approx(37.5 / 2.5)


def test_unknown_format_names_the_file(tmp_path):
    p = tmp_path / "x.txt"
    p.write_text("hello\nworld\n")
    with pytest.raises(ConfigError, match="x.txt.*cannot tell"):
        parse_log(p)
    with pytest.raises(ConfigError, match="file not found"):
        parse_log(tmp_path / "missing.txt")
    with pytest.raises(ConfigError):
        detect_format([])


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared data not present")
def test_real_shared_log_matches_its_summary():
    import csv

    log = parse_log(SHARED / "energy_logs" / "energy-video-mul-1.csv")
    pkg = log.domains["pkg"]
    with open(SHARED / "ipa_ext_energy_summary.csv") as f:
        rows = {r["file"]: r for r in csv.DictReader(f)}
    ref = rows["energy_logs/energy-video-mul-1.csv"]
    assert pkg.samples == int(ref["samples"]) and pkg.gaps == 0
    assert pkg.total_energy_j / 1e3 == pytest.approx(float(ref["pkg_total_kJ"]), abs=0.01)
    assert pkg.mean_power_w == pytest.approx(float(ref["pkg_mean_W"]), abs=0.05)
    assert log.domains["ram"].mean_power_w == pytest.approx(float(ref["ram_mean_W"]), abs=0.05)
