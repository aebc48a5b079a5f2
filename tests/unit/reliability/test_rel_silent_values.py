"""Bad values accepted silently (issue 14): refused, with the same rule on every entry path.

Each rule lives once in ``config/validation.py`` (``RULES``); the CLI flag, the experiment YAML, the run
spec built in code, the problem JSON and the power-model file all apply it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rel_helpers import Runner, assert_nothing_written, assert_refused

from ipa_energy.errors import ConfigError

SIM = ["simulate", "--duration-s", "20", "--predictor", "reactive"]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ([*SIM, "--energy-weight", "-1"], "--energy-weight"),
        ([*SIM, "--energy-weight", "nan"], "--energy-weight"),
        ([*SIM, "--energy-weight", "inf"], "--energy-weight"),
        (["simulate", "--duration-s", "0"], "--duration-s"),
        (["simulate", "--duration-s", "-5"], "--duration-s"),
        (["simulate", "--duration", "nan"], "--duration-s"),
        (["serve", "--duration-s", "0"], "--duration-s"),
        (["energy", "monitor", "--meter", "model", "--duration-s", "nan"], "--duration-s"),
        (["energy", "monitor", "--meter", "model", "--duration-s", "-1"], "--duration-s"),
        (["energy", "monitor", "--meter", "model", "--duration-s", "1", "--idle-w", "nan"], "--idle-w"),
        (["energy", "monitor", "--meter", "model", "--duration-s", "1", "--active-w-per-core", "inf"],
         "--active-w-per-core"),
        ([*SIM, "--seed", "true"], "--seed"),
        ([*SIM, "--load-scale", "two"], "--load-scale"),
    ],
)
def test_cli_flag_refused(cli: Runner, tmp_path: Path, args: list[str], field: str) -> None:
    out = tmp_path / "out"
    assert_refused(cli(*args, *(["--out", str(out)] if args[0] == "simulate" else [])), field)
    assert_nothing_written(out)


@pytest.mark.parametrize(
    ("yaml_text", "field"),
    [
        ("weights: [{energy: -1}]\n", "weights[0].energy"),
        ("weights: [{energy: .nan}]\n", "weights[0].energy"),
        ("interval_s: 0\n", "interval_s"),
        ("duration_s: -5\n", "duration_s"),
        ("duration_s: .nan\n", "duration_s"),
        ("load_scale: .inf\n", "load_scale"),
        ("seeds: [true]\n", "seeds[0]"),
        ("seeds: ['1']\n", "seeds[0]"),
        ("load_scale: '2'\n", "load_scale"),
        ("seeds: [-1]\n", "seeds[0]"),
        ("load_scale: 1.0e+9\n", "load_scale"),
        ("systems: [ipa, ipa]\n", "systems"),
        ("workloads: [bursty, bursty]\n", "workloads"),
        ("seeds: [0, 0]\n", "seeds"),
        ("energy_sweep: {energy_weights: [0.1, 0.1]}\n", "energy_sweep.energy_weights"),
        ("weights: [{energy: 0.1}, {energy: 0.1}]\n", "weights"),
    ],
)
def test_experiment_yaml_refused(cli: Runner, tmp_path: Path, yaml_text: str, field: str) -> None:
    exp = tmp_path / "exp.yaml"
    exp.write_text(yaml_text)
    out = tmp_path / "out"
    assert_refused(cli("bench", "--config", str(exp), "--out", str(out)), field)
    assert_nothing_written(out)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"interval_s": 0.0}, "interval_s"),
        ({"interval_s": float("nan")}, "interval_s"),
        ({"duration_s": -1.0}, "duration_s"),
        ({"seed": -1}, "seed"),
        ({"seed": True}, "seed"),
        ({"load_scale": float("inf")}, "load_scale"),
        ({"weights": (("energy", -0.5),)}, "weights.energy"),
        ({"weights": (("energy", float("nan")),)}, "weights.energy"),
        ({"initial_rate_rps": 0.0}, "initial_rate_rps"),
        ({"time_scale": 0.0}, "time_scale"),
        ({"max_batch_wait_s": -1.0}, "max_batch_wait_s"),
    ],
)
def test_run_spec_in_code_applies_the_same_rules(kwargs: dict[str, object], field: str) -> None:
    from ipa_energy.runs import RunSpec

    with pytest.raises(ConfigError) as e:
        RunSpec(**kwargs)  # type: ignore[arg-type]
    assert e.value.field == field


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('{"name": "m", "idle_w": NaN, "active_w_per_core": 1.0}', "idle_w"),
        ('{"name": "m", "idle_w": 10.0, "active_w_per_core": Infinity}', "active_w_per_core"),
        ('{"name": "m", "idle_w": -1.0, "active_w_per_core": 1.0}', "idle_w"),
        ('{"name": "m", "idle_w": true, "active_w_per_core": 1.0}', "idle_w"),
        ('{"name": "m", "idle_w": "10", "active_w_per_core": 1.0}', "idle_w"),
    ],
)
def test_power_model_file_refused(tmp_path: Path, text: str, field: str) -> None:
    from ipa_energy.energy.power_models import load_power_model

    p = tmp_path / "pm.json"
    p.write_text(text)
    with pytest.raises(ConfigError, match=field):
        load_power_model(p)


def test_power_model_in_code_refuses_nan() -> None:
    from ipa_energy.energy.power_models import PowerModel

    with pytest.raises(ConfigError, match="idle_w"):
        PowerModel("m", float("nan"), 1.0, None, "user")
    with pytest.raises(ConfigError, match="active_w_per_core"):
        PowerModel("m", 1.0, float("inf"), None, "user")


def test_duplicate_stage_names_in_a_problem_file(cli: Runner, tmp_path: Path) -> None:
    from ipa_energy.optimize.presets import build_problem
    from ipa_energy.optimize.problem_io import problem_to_dict
    from ipa_energy.pipelines import load_pipeline

    d = problem_to_dict(build_problem(load_pipeline("video"), "ipa", 10.0))
    d["stages"][1]["name"] = d["stages"][0]["name"]
    p = tmp_path / "dup.json"
    p.write_text(json.dumps(d))
    assert_refused(cli("solve", str(p)), "stages")


def test_booleans_are_not_numbers_in_a_problem_file(cli: Runner, tmp_path: Path) -> None:
    from ipa_energy.optimize.presets import build_problem
    from ipa_energy.optimize.problem_io import problem_to_dict
    from ipa_energy.pipelines import load_pipeline

    d = problem_to_dict(build_problem(load_pipeline("video"), "ipa", 10.0))
    d["arrival_rate"] = True
    p = tmp_path / "bool.json"
    p.write_text(json.dumps(d))
    assert_refused(cli("solve", str(p)), "arrival_rate")
