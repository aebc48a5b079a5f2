"""Names become file names (issue 14): one ``safe_filename``, no collisions, no paths, no crash."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from rel_helpers import Runner

from ipa_energy.config.validation import safe_filename


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("café", "cafè"),  # differ only in non-ASCII letters
        ("路径", "经路"),
        ("traces/mine.csv", "traces-mine.csv"),
        ("a b", "a-b"),
        ("x" * 300, "x" * 299 + "y"),
        ("../up", "up"),
    ],
)
def test_distinct_names_stay_distinct(a: str, b: str) -> None:
    assert safe_filename(a) != safe_filename(b)


@pytest.mark.parametrize("name", ["traces/mine.csv", "/abs/path.csv", "..", ".hidden", "", "a\x00b", "ß" * 500,
                                  "con:txt", "a\\b"])
def test_a_file_name_never_a_path(name: str, tmp_path: Path) -> None:
    out = safe_filename(name)
    assert out and "/" not in out and "\\" not in out and not out.startswith(".")
    assert len(out.encode()) <= 120
    (tmp_path / out).write_text("ok")  # a valid name on this file system
    assert (tmp_path / out).read_text() == "ok"


def test_plain_names_are_kept() -> None:
    assert safe_filename("main_video_bursty_ipa_lstm_s0") == "main_video_bursty_ipa_lstm_s0"
    assert safe_filename("ipa-energy_energy=0.01") == "ipa-energy_energy=0.01"


def test_run_slugs_of_non_ascii_workloads_differ() -> None:
    from ipa_energy.bench.tables import run_slug
    from ipa_energy.runs import RunSpec

    assert run_slug(RunSpec(workload="café.csv")) != run_slug(RunSpec(workload="cafè.csv"))


def _trace(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("t_s,rate_rps\n" + "".join(f"{t},{5 + (t % 7)}\n" for t in range(60)))
    return path


def test_bench_with_workloads_given_as_paths_writes_the_report(
    cli: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A workload given as ``traces/mine.csv`` crashed bench at plotting; two non-ASCII names collided."""
    monkeypatch.chdir(tmp_path)
    _trace(tmp_path / "traces" / "mine.csv")
    _trace(tmp_path / "traces" / "café.csv")
    _trace(tmp_path / "traces" / "cafè.csv")
    exp = tmp_path / "exp.yaml"
    exp.write_text("workloads: [traces/mine.csv, traces/café.csv, traces/cafè.csv]\nsystems: [ipa]\n"
                   "predictors: [reactive]\nenergy_sweep: {enabled: false}\nworkers: 1\n")
    r = cli("bench", "--config", str(exp), "--out", "out", "--no-progress")
    assert r.code == 0, r.err
    out = tmp_path / "out"
    assert (out / "report.md").exists()
    assert len(list((out / "timelines").glob("*.csv"))) == 3  # one per workload, none overwritten
    assert len(list((out / "plots").glob("energy_*.png"))) == 3
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert sorted(r["workload"] for r in rows) == sorted(["traces/mine.csv", "traces/café.csv", "traces/cafè.csv"])
