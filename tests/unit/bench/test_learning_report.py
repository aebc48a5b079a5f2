"""The closed-loop section: ratios and counts come from the run's learned.csv, metrics and decision rows."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from ipa_energy.bench.learning_report import (
    closed_loop_row,
    interval_decisions,
    learned_csv,
    learning_section,
    read_learned,
    stage_ratios,
    weighted_median,
)
from ipa_energy.bench.tables import write_csv
from ipa_energy.runs import RunResult, RunSpec

#: decisions at 0 (before any batch), 10 and 20 s, a guard action between: two are compared
STEPS = [{"t_s": 0.0, "source": "solver"}, {"t_s": 10.0, "source": "solver"}, {"t_s": 15.0, "source": "guard"},
         {"t_s": 20.0, "source": "fallback"}]


def _option(t_s: float, stage: str, variant: str, n: int, lat: tuple[float, float],
            energy: tuple[float, float]) -> dict[str, Any]:
    return {"t_s": t_s, "stage": stage, "variant": variant, "batch": 1, "cores": 1, "n": n,
            "offline_latency_s": lat[0], "learned_latency_s": lat[1], "offline_energy_j": energy[0],
            "learned_energy_j": energy[1]}


def _learned_rows() -> list[dict[str, Any]]:
    """crop: one option, 1.6x slower and 1.6x the energy at 20 s; classification: two options, the heavier
    (n=30) at 2x latency and 1.5x energy, the lighter (n=10) at 1x: the weighted median is the heavier's
    (an unweighted one would be the lighter's)."""
    return [
        _option(10, "crop", "yolov5n", 5, (0.1, 0.12), (0.4, 0.48)),
        _option(10, "classification", "resnet18", 3, (0.2, 0.2), (0.8, 0.8)),
        _option(20, "crop", "yolov5n", 50, (0.1, 0.16), (0.4, 0.64)),
        _option(20, "classification", "resnet18", 10, (0.2, 0.2), (0.8, 0.8)),
        _option(20, "classification", "resnet50", 30, (0.2, 0.4), (1.0, 1.5)),
    ]


def _result(tmp_path: Path, system: str = "ipa", *, learning: bool = True, observed: bool = True,
            workload: str = "bursty") -> RunResult:
    spec = RunSpec(pipeline="video", workload=workload, system=system)
    files: tuple[str, ...] = ()
    if learning and observed:
        path = tmp_path / "runs" / f"main_video_{workload}_{system}_learned.csv"
        write_csv(path, _learned_rows())
        files = (str(path),)
    metrics = {"learning": learning, "learned_observations": 95 if observed and learning else 0,
               "learned_options": 3 if observed and learning else 0,
               "learned_decision_changes": 2 if observed and learning else 0}
    return RunResult(spec, metrics, [], list(STEPS), files=files)


def test_weighted_median_takes_the_value_where_half_the_weight_is_reached() -> None:
    assert weighted_median([2.0, 1.0, 3.0], [1, 1, 1]) == 2.0
    assert weighted_median([0.5, 1.0], [30, 10]) == 0.5
    assert weighted_median([0.5, 1.0], [10, 30]) == 1.0
    assert math.isnan(weighted_median([math.nan, 1.0], [5, 0]))


def test_stage_ratios_are_the_n_weighted_median_per_interval(tmp_path: Path) -> None:
    r = _result(tmp_path)
    path = learned_csv(r)
    assert path is not None
    ratios = stage_ratios(read_learned(path))
    got = {(x.t_s, x.stage): (x.latency_ratio, x.energy_ratio, x.n) for x in ratios}
    assert got[10.0, "crop"] == pytest.approx((1.2, 1.2, 5))
    assert got[20.0, "crop"] == pytest.approx((1.6, 1.6, 50))
    assert got[20.0, "classification"] == pytest.approx((2.0, 1.5, 40))
    assert [x.t_s for x in ratios] == sorted(x.t_s for x in ratios)


def test_table_row_has_the_counts_and_final_ratios(tmp_path: Path) -> None:
    r = _result(tmp_path)
    path = learned_csv(r)
    assert path is not None
    row = closed_loop_row(r, stage_ratios(read_learned(path)))
    assert interval_decisions(STEPS) == 2
    assert (row["learned_observations"], row["decisions_changed"], row["interval_decisions"]) == (95, 2, 2)
    assert row["crop_latency_ratio"] == pytest.approx(1.6)
    assert row["classification_latency_ratio"] == pytest.approx(2.0)
    assert row["classification_energy_ratio"] == pytest.approx(1.5)


def test_section_draws_ipa_and_tabulates_every_run(tmp_path: Path) -> None:
    runs = [_result(tmp_path, "fa2-low"), _result(tmp_path, "ipa"), _result(tmp_path, "rim-low", learning=False)]
    lines = learning_section(runs, tmp_path)
    text = "\n".join(lines)
    assert lines[0] == "## Closed loop: what was learned"
    assert (tmp_path / "plots" / "learned_video_bursty.png").stat().st_size > 1000
    assert "system ipa (the default adaptive system)" in text
    assert "decisions changed by learning: 2 of 2" in text
    table = [ln for ln in text.splitlines() if ln.startswith("| ipa |")]
    assert table and "| 95 |" in table[0] and "| 1.6 |" in table[0] and "| 1.5 |" in table[0]
    assert "Learning off (`--no-learn`): rim-low." in text
    assert "no `world_profile`" in text  # every run's world is the planning profile: said, not hidden


def test_section_without_ipa_names_the_run_it_draws(tmp_path: Path) -> None:
    text = "\n".join(learning_section([_result(tmp_path, "fa2-high")], tmp_path))
    assert "system fa2-high (`ipa` has no learned rows here" in text


def test_section_says_so_when_nothing_was_learned(tmp_path: Path) -> None:
    off = "\n".join(learning_section([_result(tmp_path, learning=False)], tmp_path))
    assert "Learning was off in every run" in off
    quiet = "\n".join(learning_section([_result(tmp_path, observed=False)], tmp_path))
    assert "Learning on but no batch observed (nothing learned): ipa." in quiet
    assert "no figure" in quiet
    assert not (tmp_path / "plots").exists()
    assert learning_section([], tmp_path) == []


def test_a_bench_run_lists_its_files_where_they_end_up(tmp_path: Path) -> None:
    from ipa_energy.bench.runner import RunFailure, _safe_run

    result = _safe_run(RunSpec(duration_s=30), tmp_path)
    assert not isinstance(result, RunFailure)
    assert {Path(f).parent.name for f in result.files} == {"timelines", "decisions", "energy", "runs"}
    assert all(Path(f).exists() for f in result.files)
