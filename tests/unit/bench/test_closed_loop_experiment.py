"""An experiment's simulated world and learning sweep (issue 15): parsing, expansion, refusals, a tiny bench."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from ipa_energy.bench.driver import run_bench
from ipa_energy.bench.experiment import check_names, expand, load_experiment
from ipa_energy.bench.verdicts import seed_groups
from ipa_energy.bench.world import write_worlds
from ipa_energy.errors import ConfigError
from ipa_energy.pipelines import load_pipeline
from ipa_energy.profiles import load_profile, save_profile, scale_profile
from ipa_energy.runs import RunSpec

ROOT = Path(__file__).resolve().parents[3]
BASE = "workloads: [bursty]\nsystems: [ipa]\nenergy_sweep: {enabled: false}\n"


def _yaml(tmp_path: Path, text: str) -> Path:
    f = tmp_path / "e.yaml"
    f.write_text(BASE + text)
    return f


def test_shipped_closed_loop_expands_into_learned_and_static_runs_in_the_written_world(tmp_path: Path) -> None:
    spec = load_experiment(ROOT / "experiments" / "closed_loop.yaml")
    check_names(spec)
    worlds = write_worlds(spec.world, spec.pipelines, tmp_path)
    runs = expand(spec, worlds)
    assert [(r.label, r.learn) for r in runs] == [
        ("ipa", True), ("ipa static", False), ("ipa-paper", True), ("ipa-paper static", False)]
    assert {r.world_profile for r in runs} == {str(tmp_path / "worlds" / "video.csv")}
    # the world is the pipeline's profile with crop x1.6 (latency and energy), classification as planned
    plan = {(r.stage, r.variant, r.batch): r for r in load_pipeline("video").profile.rows}
    world = load_profile(tmp_path / "worlds" / "video.csv").rows
    assert len(world) == len(plan)
    for r in world:
        p = plan[r.stage, r.variant, r.batch]
        f = 1.6 if r.stage == "crop" else 1.0
        assert r.latency_s == pytest.approx(f * p.latency_s) and r.energy_j == pytest.approx(f * p.energy_j)
    assert any(r.stage == "crop" for r in world) and any(r.stage != "crop" for r in world)


def test_a_plain_bool_learn_and_a_variant_world(tmp_path: Path) -> None:
    spec = load_experiment(_yaml(tmp_path, "learn: false\n"
                                 "world: {stage: crop, variant: yolov5n, latency_factor: 2}\n"))
    check_names(spec)
    runs = expand(spec, write_worlds(spec.world, spec.pipelines, tmp_path))
    assert [(r.label, r.learn) for r in runs] == [("ipa static", False)]
    rows = {(r.stage, r.variant, r.batch): r for r in load_profile(runs[0].world_profile or "").rows}
    plan = {(r.stage, r.variant, r.batch): r for r in load_pipeline("video").profile.rows}
    for key, r in rows.items():
        f = 2.0 if key[:2] == ("crop", "yolov5n") else 1.0
        assert r.latency_s == pytest.approx(f * plan[key].latency_s)
        assert r.energy_j == pytest.approx(plan[key].energy_j)


def test_a_world_profile_csv_is_copied_into_the_output(tmp_path: Path) -> None:
    src = tmp_path / "given.csv"
    save_profile(scale_profile(load_pipeline("video").profile, stage="classification", energy=3.0), src)
    spec = load_experiment(_yaml(tmp_path, f"world: {{profile: {src}}}\n"))
    check_names(spec)
    runs = expand(spec, write_worlds(spec.world, spec.pipelines, tmp_path / "out"))
    assert runs[0].world_profile == str(tmp_path / "out" / "worlds" / "video.csv")
    assert load_profile(runs[0].world_profile).rows == load_profile(src).rows
    assert [r.label for r in runs] == ["ipa"]  # learning on by default: the label is the system's


@pytest.mark.parametrize(("text", "field"), [
    ("world: {stage: detect}\n", r"world\.stage: no stage 'detect'; stages: crop, classification"),
    ("world: {stage: crop, variant: resnet18}\n", r"world\.variant: stage 'crop' has no variant 'resnet18'"),
    ("world: {stage: crop, latency_factor: 0}\n", r"world\.latency_factor: .*greater than 0"),
    ("world: {stage: crop, energy_factor: -1.5}\n", r"world\.energy_factor: .*greater than 0"),
    ("world: {variant: yolov5n}\n", r"world\.variant: names a variant without `stage`"),
    ("world: {latency_factor: 1.6}\n", r"world\.latency_factor: scales nothing without `stage`"),
    ("world: {}\n", r"world: sets neither `profile` nor `stage`"),
    ("world: {stage: crop, latency: 1.6}\n", r"world\.latency: unknown key"),
    ("world: {profile: no/such/world.csv}\n", r"no/such/world\.csv"),
    ("learn: [true, true]\n", r"learn: True is listed twice"),
    ("learn: []\n", r"learn: "),
    ("learn: yes please\n", r"learn"),
])
def test_bad_world_and_learn_fields_are_refused_naming_the_field(tmp_path: Path, text: str, field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        check_names(load_experiment(_yaml(tmp_path, text)))


def test_expand_refuses_a_world_without_its_csv(tmp_path: Path) -> None:
    spec = load_experiment(_yaml(tmp_path, "world: {stage: crop, latency_factor: 1.6}\n"))
    with pytest.raises(ValueError, match="world"):
        expand(spec)


def test_static_runs_are_labelled_so_two_rows_stay_two() -> None:
    assert RunSpec(system="ipa").label == "ipa"
    assert RunSpec(system="ipa", learn=False).label == "ipa static"


def test_tiny_bench_gives_distinct_learned_and_static_rows(tmp_path: Path) -> None:
    spec = load_experiment(_yaml(tmp_path, "duration_s: 120\nlearn: [true, false]\n"
                                 "world: {stage: crop, latency_factor: 1.6, energy_factor: 1.6}\n"))
    out = tmp_path / "out"
    run_bench(spec, out, workers=1, show_progress=False)
    with (out / "summary.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["label"], r["learning"]) for r in rows] == [("ipa", "True"), ("ipa static", "False")]
    assert len(seed_groups(rows)) == 2  # two verdict keys, not one
    learned, static = rows
    assert int(learned["learned_decision_changes"]) > 0 and int(static["learned_decision_changes"]) == 0
    assert (out / "worlds" / "video.csv").exists()
    report = (out / "report.md").read_text()
    assert "`worlds/video.csv`" in report and "static runs (ipa static)" in report
    assert "| ipa | gbm-q90 | 0 | on |" in report and "| 1.6 | 1.6 | 1 | 1 |" in report
