"""Experiment YAML validation and expansion; the report's claim checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from ipa_energy.bench.experiment import ExperimentSpec, expand, load_experiment
from ipa_energy.bench.report import reference_values
from ipa_energy.bench.verdicts import claims
from ipa_energy.errors import ConfigError


def test_default_experiment_is_video_four_workloads_seven_systems_plus_sweep() -> None:
    runs = expand(ExperimentSpec())
    main = [r for r in runs if r.group == "main"]
    assert len(main) == 4 * 7
    assert {r.pipeline for r in main} == {"video"}
    # each system runs its own predictor, named in the spec (and so in summary.csv)
    assert {r.system: r.predictor for r in main}["ipa-paper"] == "lstm"
    assert {r.predictor for r in main if r.system != "ipa-paper"} == {"gbm-q90"}
    assert expand(ExperimentSpec(predictors=["reactive"]))[0].predictor == "reactive"
    sweep = [r for r in runs if r.group == "energy-sweep"]
    assert sweep and all(r.system == "ipa-energy" and r.weights[0][0] == "energy" for r in sweep)


def test_experiment_yaml_sweeps_and_errors_name_the_field(tmp_path: Path) -> None:
    good = tmp_path / "e.yaml"
    good.write_text(
        "name: t\nworkloads: [bursty]\nsystems: [ipa, fa2-low]\nseeds: [1, 2]\n"
        "weights: [null, {energy: 0.5}]\nenergy_sweep: {enabled: false}\nsim: {drop_limit_s: 5}\n"
    )
    runs = expand(load_experiment(good))
    assert len(runs) == 2 * 2 * 2
    assert {r.label for r in runs} == {"ipa", "fa2-low", "ipa energy=0.5", "fa2-low energy=0.5"}
    assert dict(runs[0].sim) == {"drop_limit_s": 5}
    bad = tmp_path / "bad.yaml"
    bad.write_text("workloads: [bursty]\nsim: {drop_limit: 5}\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: sim.drop_limit: unknown key"):
        load_experiment(bad)
    bad.write_text("load_scale: -1\n")
    with pytest.raises(ConfigError, match=r"load_scale"):
        load_experiment(bad)


def test_sim_sweep_overrides_the_base_sim_and_names_the_run(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(
        "workloads: [bursty]\nsystems: [ipa]\nenergy_sweep: {enabled: false}\nsim: {drop_limit_s: 8}\n"
        "sim_sweep: [null, {replica_startup_s: 0, variant_switch_s: 0}]\n"
    )
    runs = expand(load_experiment(f))
    assert [r.label for r in runs] == ["ipa", "ipa replica_startup_s=0 variant_switch_s=0"]
    assert dict(runs[0].sim) == {"drop_limit_s": 8}
    assert dict(runs[1].sim) == {"drop_limit_s": 8, "replica_startup_s": 0, "variant_switch_s": 0}
    f.write_text("sim_sweep: [{startup: 1}]\n")
    with pytest.raises(ConfigError, match=r"sim_sweep\[0\].startup: unknown key"):
        load_experiment(f)


def _row(wl: str, label: str, **kw: float) -> dict[str, object]:
    base = {"pipeline": "video", "workload": wl, "label": label, "predictor": "lstm", "seed": 0,
            "group": "main", "mean_power_w": 10.0, "cost_cores": 4.0,
            "energy_j": 1000.0, "sla_violation_pct": 0.1, "drop_pct": 0.0, "pas": 0.5}
    return {**base, **kw}


def test_claims_report_holds_and_disagrees_with_evidence() -> None:
    rows = [
        _row("bursty", "ipa", mean_power_w=10.0, energy_j=900.0, sla_violation_pct=3.0),
        _row("bursty", "fa2-high", mean_power_w=12.0, cost_cores=8.0),
        _row("bursty", "fa2-low", cost_cores=9.0),
        _row("bursty", "ipa-energy", energy_j=800.0),
    ]
    got = {c["claim"]: c for c in claims(rows)}
    assert got["FA2-high draws more power than IPA"]["verdict"] == "holds"
    assert got["FA2-high costs more cores than FA2-low"]["verdict"] == "DISAGREES"
    assert "8 vs fa2-low 9" in got["FA2-high costs more cores than FA2-low"]["evidence"]
    assert got["ipa-energy uses no more energy than ipa"]["verdict"] == "holds"
    assert got["IPA's SLA violations <= 2 %"]["verdict"] == "DISAGREES"
    lowest = got["IPA has the lowest energy of IPA, FA2-low, FA2-high, RIM-high (extension)"]
    assert lowest["verdict"] == "holds" and "fa2-low 1000 J" in lowest["evidence"]
    rows.append(_row("bursty", "rim-high", energy_j=850.0))
    got = {c["claim"]: c for c in claims(rows)}
    assert got["IPA has the lowest energy of IPA, FA2-low, FA2-high, RIM-high (extension)"]["verdict"] == "DISAGREES"


def test_reference_values_are_the_extensions_measurements() -> None:
    ref = reference_values()
    assert ref[("ext_pkg_mean_power_w", "bursty", "ipa")] == 87.2
    assert ref[("ext_pkg_mean_power_w", "steady_high", "rim-high")] == 112.2
